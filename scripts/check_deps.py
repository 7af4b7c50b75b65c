#!/usr/bin/env python3
"""Checks that scripts/install-deps.sh installs every Debian package the build and tests use.

CI runs on a machine that may already hold packages somebody installed by hand, so a build that
passes there can still fail on a fresh Debian 12 (ocl-icd-opencl-dev, a mere Recommends of
libdnnl-dev, was such a package). This guard asks what was really used, not what was declared:

  * the files CMake read or named while configuring (`cmake --trace-expand --trace-format=json-v1`:
    every script it ran and every absolute path in the expanded arguments, e.g. the libOpenCL.so
    that dnnl-config.cmake's find_package(OpenCL) resolved), and the paths in CMakeCache.txt;
  * the headers every object was compiled from (`ninja -t deps`);
  * the shared libraries the built executables load (`ldd`);
  * optionally, every program executed and file opened while the tests ran
    (`strace -f -e trace=execve,openat`), which covers runtime needs such as chromium, node and
    the Fashion-MNIST files.

Each used file is mapped to the package that owns it (dpkg's file lists). A package passes if a
fresh Debian 12 would have it after the install script: it is one of the Priority: required
packages of a bare image, one that the script names, or one that apt pulls in for those without
Recommends (simulated with an empty dpkg status, so nothing already installed here counts). A
used file under /usr, /opt, /bin, /sbin or /lib that no package owns (a hand-built library, a
pyenv interpreter) fails as well, since no install step can reproduce it.

Exit status: 0 when every used package is covered, 1 with one line per missing package, 2 on
bad arguments or unreadable inputs.
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys

SYSTEM_PREFIXES = ("/usr/", "/opt/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/lib32/", "/libx32/")
# Files that Debian generates at install time and so belong to no package's file list.
GENERATED = re.compile(r"(\.cache$|/locale-archive$|/__pycache__/|\.pyc$|/ld\.so\.cache$|"
                       r"/share/mime/|/fonts/.*\.uuid$|/gschemas\.compiled$)")


def fail_usage(message):
    print(f"check_deps: error: {message}", file=sys.stderr)
    sys.exit(2)


def load_dpkg_owners():
    """Maps each path in dpkg's file lists to its package (architecture qualifier dropped)."""
    owners = {}
    for listing in glob.glob("/var/lib/dpkg/info/*.list"):
        package = os.path.basename(listing)[:-len(".list")].split(":")[0]
        with open(listing, encoding="utf-8", errors="replace") as f:
            for line in f:
                owners.setdefault(line.rstrip("\n"), package)
    # dpkg-divert moves a file away from the package that shipped it.
    return owners


def path_variants(path):
    """The names under which dpkg may have recorded `path` (merged /usr, symlinks)."""
    seen = []
    for p in (path, os.path.realpath(path)):
        seen.append(p)
        for short, merged in (("/lib/", "/usr/lib/"), ("/bin/", "/usr/bin/"),
                              ("/sbin/", "/usr/sbin/"), ("/lib64/", "/usr/lib64/")):
            if p.startswith(merged):
                seen.append(short + p[len(merged):])
            elif p.startswith(short):
                seen.append(merged + p[len(short):])
    return seen


def owner_of(path, owners):
    for candidate in path_variants(path):
        if candidate in owners:
            return owners[candidate]
    return None


ABSOLUTE_PATH = re.compile(r"(/(?:usr|opt|lib|lib64|bin|sbin|etc)/[^\s;\"'<>$(){}]+)")


def paths_from_cmake_trace(trace_file):
    """Scripts CMake ran and absolute file paths in the expanded command arguments."""
    used = {}
    with open(trace_file, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            script = record.get("file")
            if script:
                used.setdefault(script, "read by CMake")
            for arg in record.get("args", []):
                for match in ABSOLUTE_PATH.findall(arg):
                    used.setdefault(match, f"named by CMake ({record.get('cmd')})")
    return used


def paths_from_cmake_cache(build_dir):
    used = {}
    cache = os.path.join(build_dir, "CMakeCache.txt")
    with open(cache, encoding="utf-8", errors="replace") as f:
        for line in f:
            if "=" in line and not line.startswith(("#", "//")):
                key, value = line.rstrip("\n").split("=", 1)
                for match in ABSOLUTE_PATH.findall(value):
                    used.setdefault(match, f"CMakeCache.txt ({key.split(':')[0]})")
    return used


def paths_from_ninja_deps(build_dir):
    out = subprocess.run(["ninja", "-C", build_dir, "-t", "deps"], capture_output=True,
                         text=True, check=True).stdout
    return {line.strip(): "included by the build" for line in out.splitlines()
            if line.startswith("    /")}


def elf_files(build_dir):
    for root, _, files in os.walk(build_dir):
        for name in files:
            path = os.path.join(root, name)
            if os.path.islink(path) or not os.access(path, os.X_OK) and not name.endswith(".so"):
                continue
            try:
                with open(path, "rb") as f:
                    if f.read(4) == b"\x7fELF":
                        yield path
            except OSError:
                continue


def paths_from_ldd(build_dir):
    used = {}
    for binary in elf_files(build_dir):
        out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
        for match in re.findall(r"=> (/\S+)", out):
            used.setdefault(match, f"loaded by {os.path.relpath(binary, build_dir)}")
    return used


STRACE_CALL = re.compile(r'^\d*\s*(execve|openat|open)\((?:AT_FDCWD, )?"([^"]+)"')
# Opens that show a probe, not a need: a file a library reads because it happens to exist and
# goes on without (configuration under /etc, gettext's locale aliases, Python's .pth scan, a
# dlopen of an optional runtime such as libiomp5). Shared libraries a program needs at load time
# come from ldd and from apt's Depends of the executed programs instead.
STRACE_PROBE = re.compile(r"^/(etc|proc|sys|dev|run|var)/|^/usr/share/locale/|/ssl/openssl\.cnf$|\.pth$|"
                          r"\.so(\.[0-9.]+)?$")


def paths_from_strace(trace_file):
    used = {}
    with open(trace_file, encoding="utf-8", errors="replace") as f:
        for line in f:
            match = STRACE_CALL.match(line)
            if not match or not match.group(2).startswith("/"):
                continue
            call, path = match.groups()
            if call == "execve":
                if not path.startswith("/proc/"):
                    used.setdefault(path, "executed by the tests")
            elif not STRACE_PROBE.search(path):
                used.setdefault(path, "opened by the tests")
    return used


def listed_packages(install_script):
    # What CI installs (--ci), as .ci/run calls the script.
    out = subprocess.run(["bash", install_script, "--list", "--ci"], capture_output=True,
                         text=True)
    if out.returncode != 0:
        fail_usage(f"'{install_script} --list --ci' failed: {out.stderr.strip()}")
    return set(out.stdout.split())


def bare_image_packages():
    """Priority: required packages: what debootstrap's minbase and the debian:12 image hold."""
    out = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True,
                         check=True).stdout
    required, package = set(), None
    for line in out.splitlines():
        if line.startswith("Package: "):
            package = line.split()[1]
        elif line == "Priority: required" and package:
            required.add(package)
    return required


def fresh_install_closure(packages):
    """Every package apt would install on an empty system for `packages`, without Recommends."""
    cmd = ["apt-get", "install", "--simulate", "--no-install-recommends", "-o",
           "Dir::State::status=/dev/null", "-o", "Debug::NoLocking=1", *sorted(packages)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        lines = out.stderr.strip().splitlines() or ["(apt printed nothing)"]
        fail_usage(f"apt cannot resolve the install list on an empty system: {lines[-1]}")
    return {line.split()[1] for line in out.stdout.splitlines() if line.startswith("Inst ")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, help="repository root")
    parser.add_argument("--build", required=True, help="CMake build folder (Ninja)")
    parser.add_argument("--cmake-trace", help="output of cmake --trace-expand --trace-format=json-v1")
    parser.add_argument("--strace", action="append", default=[],
                        help="strace -f -e trace=execve,openat log of a test run (repeatable)")
    parser.add_argument("--drop", action="append", default=[], metavar="PACKAGE",
                        help="check as if the install script lacked PACKAGE (the guard's self-test:"
                             " dropping ocl-icd-opencl-dev must fail)")
    args = parser.parse_args()

    source = os.path.realpath(args.source)
    build = os.path.realpath(args.build)
    for path in [build, *([args.cmake_trace] if args.cmake_trace else []), *args.strace]:
        if not os.path.exists(path):
            fail_usage(f"{path} does not exist")

    used = {}
    if args.cmake_trace:
        used.update(paths_from_cmake_trace(args.cmake_trace))
    for part in (paths_from_cmake_cache(build), paths_from_ninja_deps(build), paths_from_ldd(build)):
        for path, why in part.items():
            used.setdefault(path, why)
    for trace in args.strace:
        for path, why in paths_from_strace(trace).items():
            used.setdefault(path, why)

    ignored_roots = (source + "/", build + "/", os.path.dirname(source) + "/shared/")
    owners = load_dpkg_owners()
    by_package, unowned = {}, {}
    for path, why in sorted(used.items()):
        if path.startswith(ignored_roots) or not os.path.exists(path) or os.path.isdir(path):
            continue
        package = owner_of(path, owners)
        if package:
            by_package.setdefault(package, (path, why))
        elif (path.startswith(SYSTEM_PREFIXES) or why == "executed by the tests") \
                and not GENERATED.search(path):
            unowned.setdefault(path, why)

    install_script = os.path.join(source, "scripts", "install-deps.sh")
    required = bare_image_packages()
    listed = listed_packages(install_script) - set(args.drop)
    allowed = required | listed | fresh_install_closure(required | listed)

    problems = 0
    for package, (path, why) in sorted(by_package.items()):
        if package not in allowed:
            problems += 1
            print(f"check_deps: error: package {package} is used ({path}, {why}) but a fresh "
                  f"Debian 12 lacks it after scripts/install-deps.sh: add it to the package list "
                  f"there", file=sys.stderr)
    for path, why in sorted(unowned.items()):
        problems += 1
        print(f"check_deps: error: {path} ({why}) belongs to no Debian package, so no install "
              f"step reproduces it: use a Debian package instead", file=sys.stderr)
    print(f"check_deps: {len(used)} used paths, {len(by_package)} packages, {len(allowed)} "
          f"installed on a fresh Debian 12 by the script, {problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
