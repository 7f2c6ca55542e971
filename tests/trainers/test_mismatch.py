"""Rollout-vs-trainer log-prob agreement (issue 11 item 11): rows without rollout log-probs are
refused, ``old_logprobs: auto`` recomputes where the numerics differ, the mismatch is measured
against hand computations and Dr. Kernel's rejection drops what its rule says."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from turnrl.core.config import load_config
from turnrl.core.types import Episode, EpisodeGroup, Observation, Step, Task
from turnrl.trainers.advantages.drkernel import mismatch_rejection
from turnrl.trainers.batch import TokenRow, collate, token_rows
from turnrl.trainers.config import TrainConfig
from turnrl.trainers.fsdp import DistInfo
from turnrl.trainers.mismatch import (
    mismatch_stats,
    reject_mismatched,
    resolve_old_logprobs,
)

ALONE = DistInfo(0, 1, torch.device("cpu"), False)
QUICKSTART = str(Path(__file__).resolve().parents[2] / "turnrl" / "tasks" / "quickstart.yaml")


def _group(logprobs: list[float] | None) -> EpisodeGroup:
    task = Task(env="toy-env", id="t0", split="train", seed=0, data={})
    step = Step(observation=Observation(text="obs"), action="go north", reward=1.0, done=True,
                valid=True, state_key="s", prompt_ids=[1, 2, 3], response_ids=[4, 5],
                response_logprobs=logprobs or [], loss_mask=1)
    ep = Episode(id="e0", group_id="g0", task=task, steps=[step])
    return EpisodeGroup(group_id="g0", task=task, episodes=[ep])


def test_rl_rows_without_rollout_logprobs_are_refused() -> None:
    with pytest.raises(ValueError, match=r"episode e0 .*0 rollout log-probs for 2 response"):
        token_rows([_group(None)], np.array([1.0]))
    (row,) = token_rows([_group([-0.5, -0.25])], np.array([1.0]))
    assert row.rollout_logp == (-0.5, -0.25)
    assert row.trajectory == "e0/agent"
    (sft,) = token_rows([_group(None)])  # SFT never reads them
    assert sft.advantage == 1.0


@pytest.mark.parametrize(
    ("overrides", "device", "initialised", "expected"),
    [
        ([], "cpu", False, "rollout"),  # hf in fp32: the rollout used the trainer's numerics
        ([], "cuda", True, "recompute"),  # FSDP2 bf16 mixed precision on GPU
        (["trainer.mixed_precision=false"], "cuda", True, "rollout"),
        (["policy.backend=vllm", "policy.model=tiny"], "cpu", False, "recompute"),
        (["loss.tis_cap=2"], "cpu", False, "recompute"),
        (["mismatch.reject=true"], "cpu", False, "recompute"),
        (["loss.old_logprobs=rollout", "policy.backend=vllm", "policy.model=x"], "cpu", False,
         "rollout"),
        (["loss.old_logprobs=recompute"], "cpu", False, "recompute"),
    ],
)
def test_old_logprobs_auto(overrides: list[str], device: str, initialised: bool,
                           expected: str) -> None:
    cfg = load_config(QUICKSTART, overrides, model=TrainConfig)
    info = DistInfo(0, 2 if initialised else 1, torch.device(device), initialised)
    assert resolve_old_logprobs(cfg, info) == expected


def _micro_batch(rows: list[TokenRow]) -> Any:
    return collate(rows, list(range(len(rows))))


def test_mismatch_stats_match_a_hand_computation() -> None:
    rows = [TokenRow((1, 2, 3, 4), 2, (-1.0, -2.0), 1.0, "a"),
            TokenRow((1, 2, 3), 1, (-0.5, -0.1), 1.0, "b")]
    mb = _micro_batch(rows)
    trainer = mb.rollout_logp_BL.clone()
    # response targets: row 0 at positions 1, 2; row 1 at positions 0, 1
    trainer[0, 1] += 0.3
    trainer[0, 2] -= 0.05
    trainer[1, 0] += 0.0
    trainer[1, 1] -= 0.2
    trainer[0, 0] = 99.0  # a prompt position: not a response token, must not count
    stats = mismatch_stats([trainer], [mb], threshold=0.1, info=ALONE)
    deltas = [0.3, -0.05, 0.0, -0.2]
    assert stats["mismatch/tokens"] == 4
    assert stats["mismatch/mean_abs"] == pytest.approx(sum(map(abs, deltas)) / 4, abs=1e-6)
    assert stats["mismatch/max_abs"] == pytest.approx(0.3, abs=1e-6)
    assert stats["mismatch/frac_over"] == pytest.approx(0.5)
    assert stats["mismatch/mean"] == pytest.approx(sum(deltas) / 4, abs=1e-6)


def test_rejection_follows_drkernel_and_zeroes_the_loss_mask() -> None:
    cfg = load_config(QUICKSTART, ["mismatch.reject=true", "mismatch.low=0.9",
                                   "mismatch.high=1.1"], model=TrainConfig)
    rows = [TokenRow((1, 2, 3), 1, (-1.0, -1.0), 1.0, "keep"),       # trajectory "keep"
            TokenRow((1, 2, 3), 1, (-1.0, -1.0), 1.0, "keep"),
            TokenRow((1, 2, 3), 1, (-1.0, -1.0), 1.0, "drift"),      # exp(mean Δ) = e^0.5
            TokenRow((1, 2, 3), 1, (-1.0, -30.0), 1.0, "spike")]    # one catastrophic token
    mbs = [_micro_batch(rows[:2]), collate(rows, [2, 3])]
    trainer = [mb.rollout_logp_BL.clone() for mb in mbs]
    trainer[1][0, 0:2] += 0.5   # drift: both tokens +0.5
    trainer[1][1, 1] = -1.0     # spike: rollout said -30, trainer -1: Δ = +29 (weight huge)
    trainer[0][1, 0] += 0.01    # tiny noise on a kept row
    dropped = reject_mismatched(trainer, [mbs[:1], mbs[1:]], rows, cfg)
    # the same decision from the drkernel function directly
    diffs = np.array([[0.0, 0.0], [0.01, 0.0], [0.5, 0.5], [0.0, 29.0]])
    expected = mismatch_rejection(diffs, np.ones_like(diffs, dtype=bool),
                                  ["keep", "keep", "drift", "spike"], low=0.9, high=1.1)
    assert list(expected.keep_turn) == [True, True, False, False]
    assert dropped == 2
    assert mbs[0].mask_BL.sum() == 4  # kept rows untouched
    assert mbs[1].mask_BL.sum() == 0
    assert mbs[1].adv_BL.abs().sum() == 0


def test_mismatch_config_is_checked() -> None:
    from turnrl.core.config import ConfigError

    with pytest.raises(ConfigError, match=r"mismatch: .*low"):
        load_config(None, ["mismatch.low=2", "mismatch.high=1"], model=TrainConfig)
    with pytest.raises(ConfigError, match=r"mismatch\.threshold"):
        load_config(None, ["mismatch.threshold=0"], model=TrainConfig)


@pytest.mark.slow
def test_training_logs_the_mismatch_every_iteration(tmp_path: Path) -> None:
    """hf rollouts in fp32 against the fp32 trainer: measured every iteration and tiny."""
    from turnrl.trainers.recipe import train

    cfg = load_config(QUICKSTART, [
        "rollout.groups=2", "rollout.group_size=4", "rollout.max_steps=3", "eval.max_tasks=2",
        "eval.seeds=[0]", "sft.episodes=4", "sft.steps=2", "trainer.iterations=2",
        "trainer.skip_zero_advantage=false", "checkpoint.every=0",
        "logging.tensorboard=false", "trainer.threads=1"], model=TrainConfig)
    train(cfg, tmp_path)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()
               if line.strip()]
    rl = [r for r in records if r["phase"] == "rl"]
    assert [r["step"] for r in rl] == [1, 2]
    for r in rl:
        assert r["mismatch/tokens"] > 0
        assert 0 <= r["mismatch/mean_abs"] <= r["mismatch/max_abs"] < 1e-4
        assert r["mismatch/frac_over"] == 0.0
    assert math.isfinite(rl[-1]["loss"])
