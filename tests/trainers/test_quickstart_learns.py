"""The README's quickstart really learns: RL beats the SFT warm start on the held-out panel.

This is the end-to-end guard against silent estimator, loss or weight-push bugs (a broken
advantage or a push that never reaches the sampler leaves post-RL at the post-SFT level). It runs
the shipped config unchanged, about a minute on two CPU cores.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quickstart_rl_improves_on_sft_beyond_seed_spread(tmp_path: Path) -> None:
    run_dir = tmp_path / "quickstart"
    proc = subprocess.run(
        [sys.executable, "-m", "turnrl.cli", "train", str(ROOT / "turnrl/tasks/quickstart.yaml"),
         "--run-dir", str(run_dir), "logging.tensorboard=false"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    success = json.loads((run_dir / "summary.json").read_text())["success"]
    pre, sft, rl = success["pre_sft"], success["post_sft"], success["post_rl"]
    assert sft["mean"] > pre["mean"]  # the warm start learned from the expert
    margin = rl["mean"] - sft["mean"]
    assert margin > sft["std"] + rl["std"], f"RL did not beat SFT beyond the spread: {success}"
    assert (run_dir / "learning_curve.png").exists()


@pytest.mark.slow
@pytest.mark.vllm
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_quickstart_with_vllm_rollouts_learns_too(tmp_path: Path) -> None:
    """The same quickstart with an in-process vLLM engine sampling (weights pushed into it after
    every update): RL beats SFT beyond the spread, and vLLM's log-probs agree with the fp32
    trainer's on every iteration."""
    run_dir = tmp_path / "quickstart_vllm"
    proc = subprocess.run(
        [sys.executable, "-m", "turnrl.cli", "train",
         str(ROOT / "turnrl/tasks/quickstart_vllm.yaml"), "--run-dir", str(run_dir),
         "logging.tensorboard=false"],
        capture_output=True, text=True, timeout=3000, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    success = json.loads((run_dir / "summary.json").read_text())["success"]
    sft, rl = success["post_sft"], success["post_rl"]
    assert rl["mean"] - sft["mean"] > sft["std"] + rl["std"], success
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()
               if line.strip()]
    measured = [r for r in records if r["phase"] == "rl" and r.get("mismatch/tokens")]
    assert measured, "no iteration measured the rollout-vs-trainer mismatch"
    assert max(r["mismatch/max_abs"] for r in measured) < 1e-3
