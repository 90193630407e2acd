"""Benchmarks: `python -m bench` runs every one at full size (make bench); `python -m bench --quick`
runs every one at a small size, judging nothing (make bench QUICK=1, in CI); `python -m bench NAME
[options]` runs one. Each module in BENCHMARKS has main(argv) -> bool (True when its checks pass)
and takes --quick.

Performance targets live here, never in timed tests; tests/system runs the same code at a small size.
"""
from __future__ import annotations

import importlib
import sys

# Add new benchmarks here: name -> module under bench/ with main(argv) -> bool.
BENCHMARKS = {"festival": "bench.festival", "speed": "bench.speed"}


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        print("benchmarks:", ", ".join(BENCHMARKS))
        return 0
    if argv and not argv[0].startswith("-"):
        name, args = argv[0], argv[1:]
        if name not in BENCHMARKS:
            print(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
            return 2
        runs = {name: args}
    else:
        runs = {name: list(argv) for name in BENCHMARKS}
    failed = [name for name, args in runs.items() if not importlib.import_module(BENCHMARKS[name]).main(args)]
    if failed:
        print(f"benchmarks failed their checks: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
