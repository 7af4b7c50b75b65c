#!/usr/bin/python3
"""A noisy neighbour for issue 15's noisy-host rule: a tenant that streams a buffer larger than
the last-level cache through memory, in busy and idle phases of random length, on one core.

A shared host's speed changed by 10-16 % within minutes (bench/README.md, "A new CPU: an
AVX2-only AMD EPYC"), and in that stretch the noisy-host rule failed in 2 of 3 runs. This is a
seeded stand-in for such a tenant, to test the protocol against one on demand. Run it on the
core that hwnas does not use, e.g.

    /usr/bin/python3 bench/noisy_neighbour.py --core 1 --seconds 900 --seed 4 &
    taskset -c 0 hwnas profile ...; taskset -c 0 hwnas validate ...

Its phases (5-40 s by default) outlast a validation group's windows. Measured alone, a steady
busy phase slowed whole networks by at most 5 % on the AVX2 EPYC; with it, the rule failed in
3 of 3 held-out runs there (bench/README.md, "The noisy-host rule on the AVX2 EPYC again").
Every phase length and busy/idle choice comes from --seed.
"""
import argparse
import os
import random
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--core", type=int, default=1, help="core to pin the neighbour to")
    p.add_argument("--seconds", type=float, default=900, help="how long to run")
    p.add_argument("--seed", type=int, default=1, help="seed of the phases")
    p.add_argument("--mib", type=int, default=64,
                   help="buffer streamed in a busy phase (MiB); larger than the LLC")
    p.add_argument("--min-phase", type=float, default=5, help="shortest phase (s)")
    p.add_argument("--max-phase", type=float, default=40, help="longest phase (s)")
    p.add_argument("--busy", type=float, default=0.5, help="probability that a phase is busy")
    a = p.parse_args()
    try:
        import numpy as np
    except ImportError:
        sys.exit("noisy_neighbour: numpy is missing; install it with "
                 "`bash scripts/install-deps.sh --with-tools` and run /usr/bin/python3")
    if not 0 < a.min_phase <= a.max_phase:
        sys.exit("noisy_neighbour: need 0 < --min-phase <= --max-phase")
    try:
        os.sched_setaffinity(0, {a.core})
    except OSError as e:
        sys.exit(f"noisy_neighbour: cannot pin to core {a.core} ({e}); pick one of "
                 f"{sorted(os.sched_getaffinity(0))}")
    rng = random.Random(a.seed)
    src = np.ones(a.mib << 17)  # 8-byte doubles: MiB * 2^20 / 8
    dst = np.empty_like(src)
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        busy = rng.random() < a.busy
        phase_end = min(end, time.monotonic() + rng.uniform(a.min_phase, a.max_phase))
        print(f"{time.strftime('%H:%M:%S')} {'busy' if busy else 'idle'} until +"
              f"{phase_end - time.monotonic():.0f} s", flush=True)
        while time.monotonic() < phase_end:
            if busy:
                np.copyto(dst, src)
            else:
                time.sleep(0.05)


if __name__ == "__main__":
    main()
