"""benchmarks/sandbox_throughput.py and sandbox_hostile.py run and print what RESULTS quotes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import bwrap_or_skip

ROOT = Path(__file__).resolve().parents[2]


def _run(script: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args],
                          capture_output=True, text=True, timeout=timeout, env=env, check=False)


def test_throughput_prints_rows_ratios_and_the_bwrap_verdict() -> None:
    bwrap_or_skip()
    out = _run("sandbox_throughput.py", "--backends", "bare,bwrap", "--levels", "1,4",
               "--runs", "4", "--rounds", "1", "--episodes", "0")
    assert out.returncode in (0, 1), out.stderr  # 1 = a target missed on a loaded machine
    lines = out.stdout.splitlines()
    assert "no GPU" in lines[0]
    rows = [line.split() for line in lines if line.split()[:1] in (["bare"], ["bwrap"])]
    assert [(r[0], r[1]) for r in rows] == [("bare", "1"), ("bwrap", "1"), ("bare", "4"),
                                            ("bwrap", "4")]
    assert all(float(r[3]) > 0 for r in rows)  # runs/s
    verdict = next(line for line in lines if line.startswith("target bwrap p50 overhead"))
    assert verdict.endswith(("PASS", "FAIL"))
    assert (out.returncode == 0) == verdict.endswith("PASS")


@pytest.mark.slow
def test_hostile_benchmark_reports_zero_escapes_on_bwrap() -> None:
    bwrap_or_skip()
    out = _run("sandbox_hostile.py", "--backends", "bwrap")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "bwrap: 12 contained, 0 escaped, 0 inconclusive of 12" in out.stdout
