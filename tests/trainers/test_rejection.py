"""Dr. Kernel's profiling rejection sampling and mismatch rejection, as the trainer applies them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from turnrl.core.config import ConfigError, load_config
from turnrl.core.types import Episode, EpisodeGroup, Observation, Step, Task
from turnrl.trainers.advantages.drkernel import mismatch_rejection
from turnrl.trainers.batch import collate, step_advantages, token_rows
from turnrl.trainers.config import TrainConfig
from turnrl.trainers.rejection import (
    MismatchRejectionConfig,
    ProfilingRejectionConfig,
    profiling_keep,
    reject_mismatched,
)


def _step(reward: float, correct: bool | None, coverage: float | None) -> Step:
    info = {} if correct is None else {"correct": correct, "coverage": coverage}
    return Step(Observation("o"), "a", reward=reward, prompt_ids=[1, 2], response_ids=[3, 4],
                response_logprobs=[-0.5, -0.5], info=info)


def _groups() -> list[EpisodeGroup]:
    task = Task(env="kernel", id="t", seed=0)
    a = Episode("e0", "g", task, steps=[_step(-0.3, False, None), _step(1.5, True, 0.1)])
    b = Episode("e1", "g", task, steps=[_step(1.0, True, 0.5), _step(1.2, True, 0.35)])
    c = Episode("e2", "g", task, steps=[_step(1.0, True, None), _step(0.0, None, None)])
    return [EpisodeGroup("g", task, [a, b, c])]


def test_profiling_keep_follows_the_keep_probability() -> None:
    cfg = ProfilingRejectionConfig(enabled=True)
    keeps = np.array([profiling_keep(_groups(), cfg, np.random.default_rng(s))[0]
                      for s in range(2000)])
    rate = keeps.mean(axis=0)
    # incorrect, coverage 0.1 (p=0), 0.5 (p=1), 0.35 (p=0.5), unprofiled correct, no info
    assert rate[[0, 1, 2, 4, 5]].tolist() == [1.0, 0.0, 1.0, 1.0, 1.0]
    assert abs(rate[3] - 0.5) < 0.05
    _, stats = profiling_keep(_groups(), cfg, np.random.default_rng(0))
    assert stats["prs/considered"] == 3
    assert stats["prs/profiled_frac"] == pytest.approx(0.5)
    assert profiling_keep(_groups(), ProfilingRejectionConfig(), np.random.default_rng(0)) == (
        None, {})


def test_rejected_turns_stay_in_the_trloo_baseline() -> None:
    """PRS drops a turn's tokens, not its return: the advantages are the same either way."""
    groups = _groups()
    adv, _ = step_advantages(groups, "trloo", {})
    keep = np.array([True, False, True, True, True, True])
    rows = token_rows(groups, adv, keep=keep)
    full = token_rows(groups, adv)
    assert len(rows) == len(full) - 1
    assert [r.advantage for r in rows] == [r.advantage for i, r in enumerate(full) if i != 1]
    assert rows[0].traj == "e0/agent"
    with pytest.raises(ValueError, match="2 keep flags for 6 steps"):
        token_rows(groups, adv, keep=[True, True])


def test_mismatch_rejection_masks_turns_in_place() -> None:
    groups = _groups()
    rows = token_rows(groups, np.arange(6, dtype=float) + 1)
    mb = collate(rows, list(range(len(rows))))
    old = mb.rollout_logp_BL.clone()
    old[2] += 0.05 * mb.mask_BL[2]      # e1 drifts: its whole trajectory goes
    old[4, 1] -= 20.0                   # e2's first turn has one catastrophic token
    old[4, 2] += 20.0                   # (offset, so e2's mean log-ratio stays 0)
    mb.old_logp_BL = old
    stats = reject_mismatched([[mb]], rows, MismatchRejectionConfig(enabled=True))
    kept = (mb.mask_BL.sum(dim=1) > 0).tolist()
    assert kept == [True, True, False, False, False, True]
    assert bool((mb.adv_BL[2:5] == 0).all())
    assert stats["mismatch/traj_rejected"] == 1
    assert stats["mismatch/turns_rejected"] == 3
    # the same verdict as the spec function on the same numbers
    diff = (old - mb.rollout_logp_BL).numpy()
    mask = (collate(rows, list(range(len(rows)))).mask_BL > 0).numpy()
    ref = mismatch_rejection(diff, mask, [r.traj for r in rows])
    assert ref.keep_turn.tolist() == kept


def test_mismatch_needs_recomputed_logprobs() -> None:
    rows = token_rows(_groups(), np.ones(6))
    mb = collate(rows, [0, 1])
    with pytest.raises(ValueError, match="recompute"):
        reject_mismatched([[mb]], rows, MismatchRejectionConfig(enabled=True))
    assert reject_mismatched([[mb]], rows, MismatchRejectionConfig()) == {}
    mb.old_logp_BL = mb.rollout_logp_BL.clone()
    stats = reject_mismatched([[mb]], rows, MismatchRejectionConfig(enabled=True))
    assert stats["mismatch/turns_rejected"] == 0
    assert stats["mismatch/weight_mean"] == pytest.approx(1.0)
    assert torch.equal(mb.mask_BL, collate(rows, [0, 1]).mask_BL)


def test_config_wiring_and_one_line_errors() -> None:
    cfg = load_config(None, ["rejection.profiling.enabled=true",
                             "rejection.mismatch.enabled=true", "loss.old_logprobs=recompute"],
                      model=TrainConfig, check_references=False)
    assert cfg.rejection.profiling.threshold == 0.3
    assert cfg.rejection.mismatch.token_floor == pytest.approx(math.log(1e-4))
    with pytest.raises(ConfigError, match=r"rejection\.mismatch needs loss\.old_logprobs"):
        load_config(None, ["rejection.mismatch.enabled=true"], model=TrainConfig,
                    check_references=False)
    with pytest.raises(ConfigError, match=r"rejection\.profiling\.width"):
        load_config(None, ["rejection.profiling.width=0"], model=TrainConfig,
                    check_references=False)
