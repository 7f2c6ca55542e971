"""Dr. Kernel's profiling-based rejection sampling, between the estimator and the update.

Dr. Kernel's other filter, mismatch rejection, lives with the mismatch measurement it needs
(``turnrl.trainers.mismatch``, config ``mismatch.reject``).

- Profiling-based rejection sampling (PRS, ``rejection.profiling``): a *correct* turn whose
  profiler coverage (share of GPU kernel time in the answer's own kernels) is low is likely a
  lazy or decoy kernel; it is kept in the loss with probability
  ``clamp((coverage - threshold) / width, 0, 1)`` (``drkernel.keep_probability``). Rejection
  happens *after* the estimator: the turn keeps ``loss_mask = 1`` in the ``StepBatch``, so its
  return still counts in its TRLOO baseline; only its tokens leave the loss. Turns without a
  coverage (CPU runs: nothing was profiled) are always kept, and counted as such.
It returns metrics for the iteration's log line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field

from turnrl.core.config import Section
from turnrl.trainers.advantages.drkernel import keep_probability


class ProfilingRejectionConfig(Section):
    """Profiling-based rejection sampling of correct, low-coverage turns."""

    enabled: bool = False
    threshold: float = Field(0.3, ge=0, le=1)
    """Coverage at which the keep probability starts rising from 0."""
    width: float = Field(0.1, gt=0)
    """Coverage span over which it rises to 1."""


class RejectionConfig(Section):
    """Dr. Kernel's filters that run between the estimator and the update."""

    profiling: ProfilingRejectionConfig = Field(default_factory=ProfilingRejectionConfig)


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
