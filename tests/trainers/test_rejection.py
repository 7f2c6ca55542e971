"""Dr. Kernel's profiling rejection sampling, as the trainer applies it (mismatch rejection:
``tests/trainers/test_mismatch.py``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from turnrl.core.config import ConfigError, load_config
from turnrl.core.types import Episode, EpisodeGroup, Observation, Step, Task
from turnrl.trainers.batch import step_advantages, token_rows
from turnrl.trainers.config import TrainConfig
from turnrl.trainers.rejection import ProfilingRejectionConfig, profiling_keep


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
    assert rows[0].trajectory == "e0/agent"
    with pytest.raises(ValueError, match="2 keep flags for 6 steps"):
        token_rows(groups, adv, keep=[True, True])


def test_config_wiring_and_one_line_errors() -> None:
    cfg = load_config(None, ["rejection.profiling.enabled=true", "mismatch.reject=true"],
                      model=TrainConfig, check_references=False)
    assert cfg.rejection.profiling.threshold == 0.3
    assert cfg.mismatch.token_floor == pytest.approx(math.log(1e-4))
    with pytest.raises(ConfigError, match=r"rejection\.mismatch"):
        load_config(None, ["rejection.mismatch.enabled=true"], model=TrainConfig,
                    check_references=False)
    with pytest.raises(ConfigError, match=r"rejection\.profiling\.width"):
        load_config(None, ["rejection.profiling.width=0"], model=TrainConfig,
                    check_references=False)
