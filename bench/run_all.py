"""Run every benchmark script in bench/ in turn and print what each prints.

Benchmarks print figures and ratios against a baseline measured in the same run; they assert
nothing about time (these machines are shared and noisy).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Run each ``bench_*.py`` and return the number that failed."""
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.name} ===", flush=True)
        result = subprocess.run([sys.executable, str(script)], check=False)
        if result.returncode != 0:
            print(f"!!! {script.name} exited with {result.returncode}", flush=True)
            failed += 1
    return failed


if __name__ == "__main__":
    sys.exit(main())
