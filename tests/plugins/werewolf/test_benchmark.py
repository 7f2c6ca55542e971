"""benchmarks/werewolf.py runs end to end on a handful of games and writes its outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "werewolf.py"


def test_benchmark_smoke(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(SCRIPT), "--games", "3", "--lineup-games", "2",
                          "--parity-games", "2", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr
    assert "machine: " in out.stdout
    assert "bots, rollout engine" in out.stdout
    data = json.loads((tmp_path / "werewolf.json").read_text())
    assert len(data["lineups"]) == 16
    assert all(0 <= r["village_win_rate"] <= 1 for r in data["lineups"])
    assert {r["loop"] for r in data["speed"]} >= {"random legal, bare game", "bots, bare game"}


def test_benchmark_refuses_bad_counts() -> None:
    out = subprocess.run([sys.executable, str(SCRIPT), "--games", "0"], capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.returncode == 2
    assert "must be >= 1" in out.stderr
