"""The shipped werewolf_selfplay_tiny.yaml: it loads, and (slow tier) a cut-down run trains."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from turnrl.core.config import load_config
from turnrl.trainers.config import TrainConfig

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "turnrl" / "tasks" / "werewolf_selfplay_tiny.yaml"


def test_config_loads_with_village_seats_and_a_wolf_panel() -> None:
    cfg = load_config(CONFIG, model=TrainConfig)
    assert cfg.env.name == "werewolf"
    assert cfg.env.options["reward"] == "shaped"
    assert cfg.rollout.seats.learner == ["team=village"]
    assert len(cfg.rollout.seats.opponents) == 3
    assert cfg.rollout.seats.group_by == "role"
    assert cfg.sft.enabled
    assert len(cfg.eval.seeds) == 3
    assert CONFIG.read_text().startswith("# turnrl train turnrl/tasks/werewolf_selfplay_tiny.yaml")


@pytest.mark.slow
def test_a_cut_down_run_goes_end_to_end(tmp_path: Path) -> None:
    run_dir = tmp_path / "ww"
    proc = subprocess.run(
        [sys.executable, "-m", "turnrl.cli", "train", str(CONFIG), "--run-dir", str(run_dir),
         "trainer.iterations=2", "sft.steps=5", "sft.episodes=16", "eval.seeds=[0,1]",
         "eval.max_tasks=4", "rollout.groups=2", "rollout.group_size=2"],
        capture_output=True, text=True, timeout=1800, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    for phase in ("pre_sft", "post_sft", "post_rl"):
        assert len(summary["success"][phase]["per_seed"]) == 2
        assert 0.0 <= summary["success"][phase]["mean"] <= 1.0
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    rl = [m for m in metrics if m.get("phase") != "sft" and "reward" in m]
    assert len(rl) == 2
