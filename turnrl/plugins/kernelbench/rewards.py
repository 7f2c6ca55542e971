"""Kernel rewards from Dr. Kernel / KernelGYM, as named options with validated parameters.

- ``like_kernel`` (KernelGYM ``calculate_reward_like_kernel``): compile failure -0.5, incorrect
  -0.3, correct by speed tier (>=3x 1.0, >=2x 0.8, >=1.5x 0.6, >=1.2x 0.4, >=1x 0.2, slower
  -0.1); decoys and hack findings -1.
- ``weighted`` (``calculate_reward_weighted``): ``0.5*correct + 0.5*[speedup >= 1.01]`` plus
  ``coverage_weight * coverage`` when correct; decoy, hack or failure -> ``penalty`` (0).
- ``speedup`` (``calculate_reward_speedup``, the TRLOO recipes' choice): Dr. Kernel's
  profiling reward ``0.5*correct + 0.5*clip(speedup, cap)`` plus ``coverage_weight *
  coverage`` when correct; decoy, hack or failure -> ``penalty``. With the default weight it
  equals the trainer's ``drkernel.profiling_reward`` (a test holds the two together; plugins do
  not import trainer code).

Without timing (CPU: the Triton interpreter's speed means nothing) every speed term is unknown:
``like_kernel`` gives a correct kernel ``untimed_correct`` (default 1.0), the other two count
correctness only (0.5). ``reward_basis`` says which case a result is in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


@dataclass(frozen=True, slots=True)
class RewardFacts:
    """What a reward may look at: the evaluation's outcome, nothing else."""

    compiled: bool
    correct: bool
    decoy: bool
    hacks: tuple[str, ...] = ()
    speedup: float | None = None
    coverage: float | None = None

    @property
    def penalised(self) -> bool:
        return self.decoy or bool(self.hacks)


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LikeKernelParams(_Params):
    penalty: float = Field(-1.0, description="decoy or hack finding")
    compile_fail: float = Field(-0.5, description="did not compile / no code / no ModelNew")
    incorrect: float = Field(-0.3, description="compiled but wrong, crashed or timed out")
    tiers: tuple[tuple[float, float], ...] = Field(
        ((3.0, 1.0), (2.0, 0.8), (1.5, 0.6), (1.2, 0.4), (1.0, 0.2)),
        description="(minimum speedup, reward), checked in order")
    slower: float = Field(-0.1, description="correct but slower than the reference")
    untimed_correct: float = Field(1.0, description="correct, no timing available (CPU)")


class WeightedParams(_Params):
    penalty: float = 0.0
    correct_weight: float = 0.5
    speed_weight: float = 0.5
    speedup_threshold: float = Field(1.01, description="speed credit needs at least this")
    coverage_weight: float = Field(0.0, ge=0, description="weight of time coverage if correct")


class SpeedupParams(_Params):
    penalty: float = 0.0
    cap: float = Field(3.0, gt=0, description="speedup is clipped here")
    lower: float = Field(0.0, ge=0, description="a speedup below this earns no speed credit")
    coverage_weight: float = Field(0.5, ge=0, description="weight of time coverage if correct")


def like_kernel(f: RewardFacts, p: LikeKernelParams) -> float:
    if f.penalised:
        return p.penalty
    if not f.compiled:
        return p.compile_fail
    if not f.correct:
        return p.incorrect
    if f.speedup is None:
        return p.untimed_correct
    for minimum, reward in p.tiers:
        if f.speedup >= minimum:
            return reward
    return p.slower


def weighted(f: RewardFacts, p: WeightedParams) -> float:
    if f.penalised or not f.compiled or not f.correct:
        return p.penalty if (f.penalised or not f.compiled) else 0.0
    speed = 1.0 if f.speedup is not None and f.speedup >= p.speedup_threshold else 0.0
    cover = p.coverage_weight * (f.coverage or 0.0)
    return p.correct_weight + p.speed_weight * speed + cover


def speedup(f: RewardFacts, p: SpeedupParams) -> float:
    if f.penalised or not f.compiled:
        return p.penalty
    if not f.correct:
        return 0.0
    s = f.speedup or 0.0
    speed = 0.0 if s < p.lower else min(s, p.cap)
    return 0.5 + 0.5 * speed + p.coverage_weight * (f.coverage or 0.0)


@dataclass(frozen=True, slots=True)
class RewardSpec:
    fn: Callable[[RewardFacts, Any], float]
    params: type[_Params]
    description: str


REWARDS: dict[str, RewardSpec] = {
    "like_kernel": RewardSpec(like_kernel, LikeKernelParams,
                              "KernelGYM tiers: -0.5 compile fail, -0.3 wrong, speed tiers"),
    "weighted": RewardSpec(weighted, WeightedParams,
                           "0.5 correct + 0.5 faster-than-reference (+ coverage)"),
    "speedup": RewardSpec(speedup, SpeedupParams,
                          "0.5 correct + 0.5 clip(speedup, 3) + 0.5 coverage (Dr. Kernel)"),
}


class RewardError(ValueError):
    """Unknown reward name or bad parameters; the message is one line."""


def reward_function(name: str, params: dict[str, Any] | None = None
                    ) -> Callable[[RewardFacts], float]:
    """``facts -> reward`` for a registered reward with validated parameters."""
    spec = REWARDS.get(name)
    if spec is None:
        raise RewardError(f"unknown kernel reward {name!r} (expected one of: "
                          f"{', '.join(sorted(REWARDS))})")
    try:
        validated = spec.params.model_validate(params or {})
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(x) for x in err["loc"]) or "(params)"
        raise RewardError(f"reward {name} parameter {where}: {err['msg']}") from None
    return lambda facts: float(spec.fn(facts, validated))
