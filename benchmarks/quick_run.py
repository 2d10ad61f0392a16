"""The default run's goals (issue 15): `rnnbench run` (the built-in quick suite) from an unrelated folder,
its wall time (goal <= 60 s on a 2-core CPU) and how many of the recap's nine statements it decides (goal >= 5).

Usage: python benchmarks/quick_run.py   (uses the `rnnbench` installed in this interpreter's environment)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DECIDED = ("supported", "contradicted")


def main() -> None:
    print(f"load average at start: {open('/proc/loadavg').read().split()[0]}")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "quick.json"
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "rnnbench", "run", "--quiet", "--out", str(out)], cwd=folder, capture_output=True
        )
        wall = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"rnnbench run exited {done.returncode}: {done.stderr.decode()[-300:]}")
        report = subprocess.run(
            [sys.executable, "-m", "rnnbench", "report", str(out), "--format", "json"],
            cwd=folder,
            capture_output=True,
            check=True,
        )
    claims = json.loads(report.stdout)["claims"]
    decided = [c["key"] for c in claims if c["verdict"] in DECIDED]
    print(f"rnnbench run (quick): {wall:.1f} s wall (goal <= 60 s)")
    print(f"decided {len(decided)} of {len(claims)} (goal >= 5): {', '.join(decided)}")


if __name__ == "__main__":
    main()
