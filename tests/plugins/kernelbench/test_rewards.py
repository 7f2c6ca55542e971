"""Kernel rewards against hand computations from the Dr. Kernel / KernelGYM definitions."""

from __future__ import annotations

import numpy as np
import pytest

from turnrl.plugins.kernelbench.rewards import REWARDS, RewardError, RewardFacts, reward_function
from turnrl.trainers.advantages.drkernel import profiling_reward

OK = {"compiled": True, "correct": True, "decoy": False}


@pytest.mark.parametrize(("facts", "expected"), [
    (RewardFacts(False, False, False), -0.5),
    (RewardFacts(True, False, False), -0.3),
    (RewardFacts(True, True, True), -1.0),                       # decoy
    (RewardFacts(True, True, False, ("try_except",), 5.0), -1.0),  # hack beats speed
    (RewardFacts(**OK, speedup=3.0), 1.0),
    (RewardFacts(**OK, speedup=2.5), 0.8),
    (RewardFacts(**OK, speedup=1.5), 0.6),
    (RewardFacts(**OK, speedup=1.2), 0.4),
    (RewardFacts(**OK, speedup=1.0), 0.2),
    (RewardFacts(**OK, speedup=0.9), -0.1),
    (RewardFacts(**OK), 1.0),                                     # untimed (CPU)
])
def test_like_kernel_tiers(facts: RewardFacts, expected: float) -> None:
    assert reward_function("like_kernel")(facts) == pytest.approx(expected)


def test_like_kernel_params() -> None:
    fn = reward_function("like_kernel", {"untimed_correct": 0.2, "penalty": -2.0})
    assert fn(RewardFacts(**OK)) == pytest.approx(0.2)
    assert fn(RewardFacts(True, True, True)) == pytest.approx(-2.0)


@pytest.mark.parametrize(("facts", "params", "expected"), [
    (RewardFacts(**OK, speedup=1.02), {}, 1.0),
    (RewardFacts(**OK, speedup=1.005), {}, 0.5),
    (RewardFacts(**OK), {}, 0.5),
    (RewardFacts(True, False, False, speedup=2.0), {}, 0.0),
    (RewardFacts(False, False, False), {"penalty": -0.2}, -0.2),
    (RewardFacts(True, True, True, speedup=2.0), {}, 0.0),
    (RewardFacts(**OK, speedup=2.0, coverage=0.8), {"coverage_weight": 0.5}, 1.4),
])
def test_weighted(facts: RewardFacts, params: dict, expected: float) -> None:
    assert reward_function("weighted", params)(facts) == pytest.approx(expected)


@pytest.mark.parametrize(("facts", "expected"), [
    (RewardFacts(**OK, speedup=2.0, coverage=0.6), 0.5 + 1.0 + 0.3),
    (RewardFacts(**OK, speedup=7.0, coverage=1.0), 0.5 + 1.5 + 0.5),  # clipped at 3
    (RewardFacts(**OK), 0.5),                                          # untimed
    (RewardFacts(True, False, False, speedup=2.0, coverage=1.0), 0.0),
    (RewardFacts(True, True, True, speedup=2.0, coverage=1.0), 0.0),
])
def test_speedup(facts: RewardFacts, expected: float) -> None:
    assert reward_function("speedup")(facts) == pytest.approx(expected)


def test_speedup_matches_trainer_profiling_reward() -> None:
    """The env's ``speedup`` reward and the trainer's ``profiling_reward`` cannot drift."""
    rng = np.random.default_rng(0)
    fn = reward_function("speedup", {"lower": 0.5})
    for _ in range(200):
        correct, decoy, compiled = (bool(b) for b in rng.integers(0, 2, 3))
        s, c = float(rng.uniform(0, 5)), float(rng.uniform(0, 1))
        mine = fn(RewardFacts(compiled, correct, decoy, speedup=s, coverage=c))
        theirs = profiling_reward(correct, s, c, failed=not compiled, decoy=decoy, lower=0.5)
        assert mine == pytest.approx(float(theirs))


def test_bad_names_and_params_are_one_line() -> None:
    with pytest.raises(RewardError, match=r"unknown kernel reward 'fast'.*like_kernel"):
        reward_function("fast")
    with pytest.raises(RewardError, match="reward speedup parameter cap"):
        reward_function("speedup", {"cap": -1})
    with pytest.raises(RewardError, match="bogus"):
        reward_function("weighted", {"bogus": 1})
    assert set(REWARDS) == {"like_kernel", "weighted", "speedup"}
