"""Dr. Kernel's two rejection filters, wired around the PPO update (config ``rejection``).

- Profiling-based rejection sampling (PRS, ``rejection.profiling``): a *correct* turn whose
  profiler coverage (share of GPU kernel time in the answer's own kernels) is low is likely a
  lazy or decoy kernel; it is kept in the loss with probability
  ``clamp((coverage - threshold) / width, 0, 1)`` (``drkernel.keep_probability``). Rejection
  happens *after* the estimator: the turn keeps ``loss_mask = 1`` in the ``StepBatch``, so its
  return still counts in its TRLOO baseline; only its tokens leave the loss. Turns without a
  coverage (CPU runs: nothing was profiled) are always kept, and counted as such.
- Mismatch rejection (``rejection.mismatch``, needs ``loss.old_logprobs: recompute``): the
  trainer's recomputed log-probs are compared with the rollout engine's; a trajectory whose
  mean token log-ratio strays (``exp`` outside ``[low, high]``) leaves the loss entirely, and so
  does any turn holding a token with ``logp_train - logp_rollout < token_floor``
  (``drkernel.mismatch_rejection``).

Both return metrics for the iteration's log line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from pydantic import Field

from turnrl.core.config import Section
from turnrl.trainers.advantages.drkernel import keep_probability, mismatch_rejection


class ProfilingRejectionConfig(Section):
    """Profiling-based rejection sampling of correct, low-coverage turns."""

    enabled: bool = False
    threshold: float = Field(0.3, ge=0, le=1)
    """Coverage at which the keep probability starts rising from 0."""
    width: float = Field(0.1, gt=0)
    """Coverage span over which it rises to 1."""


class MismatchRejectionConfig(Section):
    """Train/rollout log-prob mismatch filter."""

    enabled: bool = False
    low: float = Field(0.999, gt=0)
    """Smallest trajectory importance weight kept."""
    high: float = Field(1.001, gt=0)
    """Largest trajectory importance weight kept."""
    token_floor: float = math.log(1e-4)
    """A turn with a token whose ``logp_train - logp_rollout`` is below this leaves the loss."""


class RejectionConfig(Section):
    """Which Dr. Kernel filters run between the estimator and the update."""

    profiling: ProfilingRejectionConfig = Field(default_factory=ProfilingRejectionConfig)
    mismatch: MismatchRejectionConfig = Field(default_factory=MismatchRejectionConfig)


def profiling_keep(groups: Sequence[Any], cfg: ProfilingRejectionConfig,
                   rng: np.random.Generator) -> tuple[np.ndarray | None, dict[str, float]]:
    """Per step, in ``StepBatch.from_groups`` order: keep its tokens in the loss.

    Reads ``info["correct"]`` and ``info["coverage"]`` of each step (the kernel environment's
    evaluation). None when the filter is off.
    """
    if not cfg.enabled:
        return None, {}
    correct, coverage, profiled = [], [], []
    for group in groups:
        for ep in group.episodes:
            for step in ep.steps:
                cov = step.info.get("coverage")
                profiled.append(cov is not None)
                correct.append(bool(step.info.get("correct", False)) and cov is not None)
                coverage.append(float(cov) if cov is not None else 1.0)
    if not correct:
        return np.zeros(0, dtype=bool), {}
    p = np.atleast_1d(np.asarray(keep_probability(correct, coverage, threshold=cfg.threshold,
                                                  width=cfg.width)))
    keep = rng.random(p.shape) < p
    considered = np.asarray(correct)
    return keep, {"prs/profiled_frac": float(np.mean(profiled)),
                  "prs/considered": float(considered.sum()),
                  "prs/rejected": float((~keep & considered).sum())}


def reject_mismatched(batches: Sequence[Sequence[Any]], rows: Sequence[Any],
                      cfg: MismatchRejectionConfig) -> dict[str, float]:
    """Zero the loss mask and advantage of rejected turns in place; needs ``old_logp_BL``.

    ``batches`` are this rank's micro-batches (every row of a trajectory lives on one rank:
    each rank plays its own groups), ``rows`` the ``TokenRow`` list they index.
    """
    if not cfg.enabled:
        return {}
    where: list[tuple[Any, int]] = []
    diffs: list[torch.Tensor] = []
    for mbs in batches:
        for mb in mbs:
            if mb.old_logp_BL is None:
                raise ValueError("mismatch rejection needs recomputed log-probs "
                                 "(loss.old_logprobs: recompute)")
            for k, _ in enumerate(mb.rows):
                where.append((mb, k))
                mask = mb.mask_BL[k] > 0
                diffs.append((mb.old_logp_BL[k] - mb.rollout_logp_BL[k])[mask].double().cpu())
    if not where:
        return {}
    width = max(1, max(len(d) for d in diffs))
    diff = np.zeros((len(diffs), width))
    valid = np.zeros((len(diffs), width), dtype=bool)
    for i, d in enumerate(diffs):
        diff[i, :len(d)] = d.numpy()
        valid[i, :len(d)] = True
    traj = [rows[mb.rows[k]].traj for mb, k in where]
    res = mismatch_rejection(diff, valid, traj, low=cfg.low, high=cfg.high,
                             token_floor=cfg.token_floor)
    for (mb, k), keep in zip(where, res.keep_turn, strict=True):
        if not keep:
            mb.mask_BL[k] = 0.0
            mb.adv_BL[k] = 0.0
    return {"mismatch/traj_rejected": float((~res.keep_trajectory).sum()),
            "mismatch/turns_rejected": float((~res.keep_turn).sum()),
            "mismatch/weight_mean": float(res.weight.mean())}
