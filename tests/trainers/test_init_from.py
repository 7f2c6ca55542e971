"""``checkpoint.init_from``: RL started from another run's post-SFT checkpoint is the same run as
one that did its own SFT (the estimator study trains SFT once per seed and forks every estimator
from it), and a wrong source is refused with one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

QUICKSTART = str(Path(__file__).resolve().parents[2] / "turnrl" / "tasks" / "quickstart.yaml")
SMALL = ["rollout.groups=4", "rollout.group_size=4", "eval.max_tasks=8",
         "eval.seeds=[0]", "sft.episodes=8", "sft.steps=30", "trainer.skip_zero_advantage=false",
         "logging.tensorboard=false", "trainer.threads=1", "advantage.name=rloo",
         "advantage.params={}"]


def _train(run_dir: Path, *overrides: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TURNRL_NO_ENTRY_POINTS": "1"}
    return subprocess.run([sys.executable, "-m", "turnrl.cli", "train", QUICKSTART, "--run-dir",
                           str(run_dir), *SMALL, *overrides], env=env, capture_output=True,
                          text=True, timeout=600, check=False)


def _torch_version() -> str:
    import torch

    return str(torch.__version__)


def _rl(run_dir: Path) -> list[dict[str, float]]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [r for r in rows if r["phase"] == "rl"]


@pytest.mark.slow
def test_fork_from_post_sft_checkpoint_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    full = _train(tmp_path / "full", "trainer.iterations=3", "checkpoint.every=0")
    assert full.returncode == 0, full.stderr[-2000:]
    sft = _train(tmp_path / "sft", "trainer.iterations=0", "checkpoint.every=1")
    assert sft.returncode == 0, sft.stderr[-2000:]
    fork = _train(tmp_path / "fork", "trainer.iterations=3", "checkpoint.every=0",
                  f"checkpoint.init_from={tmp_path / 'sft'}")
    assert fork.returncode == 0, fork.stderr[-2000:]
    assert "SFT skipped" in fork.stdout
    assert "demo steps" not in fork.stdout  # no SFT phase ran in the fork

    # held-out evaluations in between (the study's learning curve) do not change training
    curve = _train(tmp_path / "curve", "trainer.iterations=3", "checkpoint.every=0",
                   "trainer.eval_every=1", f"checkpoint.init_from={tmp_path / 'sft'}")
    assert curve.returncode == 0, curve.stderr[-2000:]
    assert "eval post_rl: the it3 evaluation (same policy)" in curve.stdout
    ref, got = _rl(tmp_path / "full"), _rl(tmp_path / "fork")
    for a, b in zip(ref, _rl(tmp_path / "curve"), strict=True):
        assert (b["reward"], b["tokens"]) == (a["reward"], a["tokens"])
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-6, abs=1e-9)
        assert "eval/success" in b
        assert 0.0 <= b["eval/return"] <= 1.0  # the task score beside success (WebShop)
    assert [r["step"] for r in got] == [1, 2, 3]
    for a, b in zip(ref, got, strict=True):
        assert b["reward"] == a["reward"]
        assert b["tokens"] == a["tokens"]
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-6, abs=1e-9)
    full_summary = json.loads((tmp_path / "full" / "summary.json").read_text())
    fork_summary = json.loads((tmp_path / "fork" / "summary.json").read_text())
    assert fork_summary["success"] == full_summary["success"]  # pre/post-SFT carried, post-RL same
    assert fork_summary["init_from"].endswith("step_000000")
    # the software that trained it: the SFT run's entry, carried; the fork ran on the same
    # software, so it added none
    sft_summary = json.loads((tmp_path / "sft" / "summary.json").read_text())
    assert fork_summary["versions"] == sft_summary["versions"]
    assert len(fork_summary["versions"]) == 1
    assert fork_summary["versions"][0]["torch"] == _torch_version()

    # the source as if trained on other software: the fork says so and records both
    import torch

    extra_file = tmp_path / "sft" / "checkpoints" / "step_000000" / "extra_rank0.pt"
    saved = torch.load(extra_file, weights_only=False)
    saved["extra"]["summary"]["versions"][0]["torch"] = "2.0.0+old"
    torch.save(saved, extra_file)

    # another estimator from the same checkpoint: same start, different updates
    other = _train(tmp_path / "other", "trainer.iterations=1", "checkpoint.every=0",
                   f"checkpoint.init_from={tmp_path / 'sft' / 'checkpoints'}",
                   "advantage.name=grpo")
    assert other.returncode == 0, other.stderr[-2000:]
    other_summary = json.loads((tmp_path / "other" / "summary.json").read_text())
    assert f"torch 2.0.0+old -> {_torch_version()}" in other.stdout
    assert [v["torch"] for v in other_summary["versions"]] == ["2.0.0+old", _torch_version()]
    assert other_summary["success"]["post_sft"] == full_summary["success"]["post_sft"]
    assert _rl(tmp_path / "other")[0]["reward"] == ref[0]["reward"]  # same policy sampled it

    # a checkpoint of another run (seed) is refused in one line, exit 2
    wrong = _train(tmp_path / "wrong", "seed=1", f"checkpoint.init_from={tmp_path / 'sft'}")
    assert wrong.returncode == 2
    assert "seed" in wrong.stderr
    assert "checkpoint.init_from" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1


def test_init_from_a_path_without_checkpoint_is_a_config_error(tmp_path: Path) -> None:
    from turnrl.core.config import ConfigError, load_config
    from turnrl.trainers.config import TrainConfig
    from turnrl.trainers.recipe import init_source

    cfg = load_config(QUICKSTART, [f"checkpoint.init_from={tmp_path / 'nowhere'}"],
                      model=TrainConfig)
    with pytest.raises(ConfigError, match=r"checkpoint\.init_from.*nowhere"):
        init_source(cfg)
    assert init_source(load_config(QUICKSTART, [], model=TrainConfig)) is None
