"""GiGPO: episode-level group advantage plus a step-level advantage over anchor-state groups.

Spec ``advantages.md`` §3 (verl-agent ``gigpo/core_gigpo.py``). Inside a ``group_id`` the rows
with the same ``state_key`` form one step group (a trajectory that revisits a state puts several
rows in it); each row's discounted step return, minus its invalid-action penalty (applied after
discounting, never discounted into earlier steps), is normalised within its step group.
Singleton step groups get 0. ``A = A_E + omega * A_S``; the episode term counts every step row
(``cross_steps=True``). ``similarity`` (off by default, as in the spec) turns on fuzzy matching
of text states (``fuzzy.py``): states at least that similar to a cluster's first member share
its step group.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from turnrl.trainers.advantages.batch import StepBatch, combine_codes
from turnrl.trainers.advantages.fuzzy import fuzzy_state_codes
from turnrl.trainers.advantages.ops import episode_normalised, step_term

Mode = Literal["mean_norm", "mean_std_norm"]


class GiGPOParams(BaseModel):
    """Parameters of ``gigpo``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gamma: float = Field(0.95, ge=0, le=1, description="discount of the step returns")
    mode: Mode = Field("mean_norm", description="mean_norm: x - mean; mean_std_norm: also / std")
    omega: float = Field(1.0, description="weight of the step-level term")
    eps: float = Field(1e-6, gt=0, description="added to the std before dividing")
    invalid_penalty: float = Field(0.1, ge=0, description="subtracted per invalid action row")
    similarity: float | None = Field(
        None, gt=0, le=1, description="fuzzy anchor states: join a step group when at least this "
        "similar to its first member (spec: 0.95); None = exact state_key match")


def gigpo(batch: StepBatch, *, gamma: float = 0.95, mode: Mode = "mean_norm",
          omega: float = 1.0, eps: float = 1e-6, invalid_penalty: float = 0.1,
          similarity: float | None = None) -> np.ndarray:
    """One advantage per row: ``A_E + omega * A_S``."""
    norm = mode == "mean_std_norm"
    episode = episode_normalised(batch, norm_by_std=norm, cross_steps=True, eps=eps,
                                 invalid_penalty=invalid_penalty)
    if batch.n_rows == 0:
        return episode
    step_returns = batch.returns(gamma) - batch.penalty(invalid_penalty)
    anchors = (combine_codes(batch.group, batch.state) if similarity is None
               else fuzzy_state_codes(batch, similarity))
    step, _ = step_term(step_returns, anchors, ddof=1, norm_by_std=norm, eps=eps)
    return episode + omega * step
