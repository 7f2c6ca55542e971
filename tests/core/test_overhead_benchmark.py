"""benchmarks/rollout_overhead.py: every loop it compares plays the same steps, and it prints
the verdict table the RESULTS entry quotes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "rollout_overhead.py"


def test_overhead_benchmark_runs_every_loop_on_the_same_steps() -> None:
    # ``measure`` asserts that bare, keeping, via-Policy, floor and engine loops took the same
    # number of steps (same tasks, same gold actions); a loop that diverged fails the script.
    out = subprocess.run([sys.executable, str(SCRIPT), "--env", "toy-env", "--env", "alfworld",
                          "--tasks", "3", "--group-size", "2", "--repeats", "1"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    for label in ("bare loop", "bare loop keeping Steps", "bare loop via Policy",
                  "floor (any engine)", "engine"):
        rows = [line for line in lines if line.split(":")[0].strip() == label]
        assert len(rows) == 2, (label, out.stdout)
        assert all("steps/s" in row for row in rows), (label, out.stdout)
    verdicts = [line for line in lines
                if "(claim" not in line and ("PASS" in line or "FAIL" in line)]
    assert len(verdicts) == 2
    assert all(("PASS" in v) != ("FAIL" in v) for v in verdicts)
