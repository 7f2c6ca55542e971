"""The hostile-code suite as a table: case x backend -> contained / escaped, and the totals.

    python benchmarks/sandbox_hostile.py [--backends bwrap,docker] [--control] [--json]

Every case (``turnrl.sandboxes.hostile.CASES``) is an attacking program judged by what the host
observes: listeners on 127.0.0.1 and on this machine's own address, a DNS responder on
loopback, files outside the working directory, a secret planted in ``$HOME``, a secret in the
caller's environment, ``/etc/shadow``, processes left alive on the host, the host's ability to
fork, output and disk caps, and the time each case took. ``--control`` adds the unisolated
``local`` backend as a column: it must show escapes (proof that the judges can see one); cases
whose escape would change the host are not run there. Exit code 1 when bwrap or docker let
anything escape.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="bwrap,docker")
    parser.add_argument("--control", action="store_true",
                        help="add the unisolated local backend as a control column")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from turnrl.sandboxes.hostile import print_table, run_suite

    backends = [b for b in args.backends.split(",") if b]
    if args.control:
        backends.append("local")
    start = time.perf_counter()
    rows = asyncio.run(run_suite(backends, progress=lambda m: print(m, file=sys.stderr)))
    wall = time.perf_counter() - start
    if args.json:
        print(json.dumps([r.to_dict() for r in rows], indent=2))
    else:
        print(f"hostile-code suite on {os.cpu_count()}-core CPU ({platform.machine()}), no GPU; "
              f"{wall:.0f} s")
        print_table(rows)
        for row in rows:
            print(f"  {row.backend:<7} {row.case:<45} {row.verdict:<12} {row.seconds:5.1f} s  "
                  f"{row.detail}")
    isolating = [r for r in rows if r.backend != "local"]
    escaped = [r for r in isolating if r.verdict == "escaped"]
    unrun = [r for r in isolating if r.verdict == "inconclusive"]
    print(f"escaped on isolating backends: {len(escaped)}; inconclusive: {len(unrun)}")
    sys.exit(1 if escaped else 0)


if __name__ == "__main__":
    main()
