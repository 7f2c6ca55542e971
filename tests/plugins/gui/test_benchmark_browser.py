"""benchmarks/gui.py runs end to end and prints every number the RESULTS entry quotes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "gui.py"
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("chromium")]


def test_gui_benchmark_prints_every_number() -> None:
    env = {**os.environ, "PYTHONPATH": str(SCRIPT.parents[1])}
    out = subprocess.run([sys.executable, str(SCRIPT), "--tasks-per-type", "1", "--repeats", "1",
                          "--concurrency", "1", "2"], capture_output=True, text=True,
                         timeout=900, check=False, env=env)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert re.search(r"browser start .*: \d+\.\d\d s", text)
    assert re.search(r"reset, page reused: \d+ ms +reset, new task page: \d+ ms", text)
    assert re.search(r"step with screenshot: \d+ ms +step, text only: \d+ ms", text)
    rows = re.findall(r"concurrency +(\d+): +([\d.]+) episodes/s +x([\d.]+) vs concurrency 1"
                      r" +CPU ([\d.]+) s/episode", text)
    assert [r[0] for r in rows] == ["1", "2"]
    assert rows[0][2] == "1.00"
    assert all(float(r[1]) > 0 and float(r[3]) > 0 for r in rows)
