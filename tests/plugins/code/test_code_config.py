"""``turnrl/tasks/code_grpo_tiny.yaml``: valid as shipped, and a full run (SFT on canonical
solutions played through the sandbox, GRPO iterations, held-out evaluation) ends cleanly on CPU.
It need not learn (a 2-layer word-level model does not write programs); it proves the path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sandboxes.conftest import bwrap_or_skip

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "turnrl/tasks/code_grpo_tiny.yaml"


def test_config_is_valid_and_uses_the_code_env() -> None:
    from turnrl.core.config import load_config
    from turnrl.trainers.config import TrainConfig

    cfg = load_config(CONFIG, model=TrainConfig)
    assert cfg.env.name == "code"
    assert cfg.env.options["sandbox"] == "bwrap"
    assert cfg.rollout.template == "raw"
    assert cfg.advantage.name == "grpo"
    assert CONFIG.read_text().startswith("# turnrl train turnrl/tasks/code_grpo_tiny.yaml")


@pytest.mark.slow
def test_code_grpo_tiny_runs_end_to_end(tmp_path: Path) -> None:
    bwrap_or_skip()
    run_dir = tmp_path / "code"
    proc = subprocess.run(
        [sys.executable, "-W", "ignore::FutureWarning", "-m", "turnrl.cli", "train", str(CONFIG),
         "--run-dir", str(run_dir), "trainer.iterations=2", "eval.max_tasks=4"],
        capture_output=True, text=True, timeout=1500, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "sft: 16 demo steps" in proc.stdout  # every canonical demo won in the sandbox
    summary = json.loads((run_dir / "summary.json").read_text())
    assert set(summary["success"]) == {"pre_sft", "post_sft", "post_rl"}
    phases = [json.loads(line)["phase"] for line in
              (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert phases.count("rl") == 2
