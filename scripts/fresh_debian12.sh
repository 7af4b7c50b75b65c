#!/usr/bin/env bash
# Runs the README's two commands, as a new user pastes them, on a bare Debian 12 made here with
# debootstrap (tests/README.md, "The README's two commands on a real fresh Debian 12").
# Usage: scripts/fresh_debian12.sh ROOT_DIR [CA_FILE...]
#   ROOT_DIR  an empty or absent folder for the new root (4.2 GB once built); as root.
#   CA_FILE   extra CA certificates the new root should trust (a TLS-intercepting proxy's: npm
#             fetches onnxruntime-node over HTTPS); ca-certificates is then installed first. A
#             machine with direct internet access needs none.
# The clone is the current checkout's HEAD (committed work only), with ../shared copied beside
# it. Prints each command's exit status and time; the logs are ROOT_DIR/root/fresh-N.log.
# Needs debootstrap (apt-get install debootstrap) and the network access apt has.
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 ROOT_DIR [CA_FILE...]" >&2
  exit 2
fi
root=$1
shift
here=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "error: run as root (debootstrap and chroot need it)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "error: debootstrap is missing: apt-get install debootstrap" >&2; exit 2; }
[ -d "$here/../shared" ] || { echo "error: $here/../shared is missing (the tests read its golden data)" >&2; exit 2; }

# The README's first two ```bash blocks, verbatim (comments dropped).
mapfile -t commands < <(awk '/^```bash/{inside=1; next} /^```/{inside=0; next}
  inside && !/^#/ && NF {print}' "$here/README.md" | head -2)
[ ${#commands[@]} -eq 2 ] || { echo "error: README.md does not start with two bash blocks" >&2; exit 1; }

if [ ! -x "$root/bin/bash" ]; then
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian
fi
# The host's apt sources (updates and security too), resolver and any extra CA.
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  rm -f "$root/etc/apt/sources.list"
  cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
# Services that packages try to start stay down in a chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
mkdir -p "$root/root/hwnas"
rm -rf "$root/root/hwnas/main" "$root/root/hwnas/shared"
git clone -q "$here" "$root/root/hwnas/main"
cp -aL "$here/../shared" "$root/root/hwnas/shared"

mounted=()
cleanup() { for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[$i]}" || true; done; }
trap cleanup EXIT
for m in proc sys dev dev/pts dev/shm; do
  mount --bind "/$m" "$root/$m"
  mounted+=("$root/$m")
done

in_root() { chroot "$root" env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
if [ $# -gt 0 ]; then
  in_root bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates >/dev/null'
  for ca in "$@"; do cp "$ca" "$root/usr/local/share/ca-certificates/$(basename "$ca" .crt).crt"; done
  in_root update-ca-certificates >/dev/null
fi

status=0
for i in 0 1; do
  n=$((i + 1))
  start=$(date +%s)
  set +e
  in_root bash -c "cd /root/hwnas/main && ${commands[$i]}" >"$root/root/fresh-$n.log" 2>&1
  rc=$?
  set -e
  echo "command $n: rc $rc in $(($(date +%s) - start)) s (log $root/root/fresh-$n.log)"
  [ $rc = 0 ] || status=1
done
exit $status
