"""Reward processors: MiniWoB's four (``miniwob/reward.py``), chosen by name.

Each maps the page's end-of-episode record to a float; all give 0 until the page says done.

* ``raw`` (default): the task's own reward, ``WOB_RAW_REWARD_GLOBAL``, no time penalty -- so
  the reward does not depend on how fast the model answers. In [-1, 1]; some tasks give
  partial credit.
* ``discounted``: MiniWoB's original reward, ``WOB_REWARD_GLOBAL``: positive rewards scaled by
  the time left of the page's episode clock (core.js's 10 seconds, or the task page's own:
  15-30 s for some), which then also runs: when it expires the page ends the episode with -1,
  "timed out".
* ``binary``: 1 if the raw reward is exactly 1, else -1 (the reward of most publications).
* ``thresholded``: 1 if the raw reward is >= ``reward_threshold``, else -1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Record = Mapping[str, Any]
"""``{"done": bool, "raw_reward": float, "env_reward": float}`` (MiniWoB's metadata keys)."""


def raw_reward(record: Record, threshold: float = 1.0) -> float:
    return float(record["raw_reward"]) if record["done"] else 0.0


def discounted_reward(record: Record, threshold: float = 1.0) -> float:
    return float(record["env_reward"]) if record["done"] else 0.0


def binary_reward(record: Record, threshold: float = 1.0) -> float:
    if not record["done"]:
        return 0.0
    return 1.0 if record["raw_reward"] == 1.0 else -1.0


def thresholded_reward(record: Record, threshold: float = 1.0) -> float:
    if not record["done"]:
        return 0.0
    return 1.0 if record["raw_reward"] >= threshold else -1.0


REWARDS: dict[str, Callable[..., float]] = {
    "raw": raw_reward,
    "discounted": discounted_reward,
    "binary": binary_reward,
    "thresholded": thresholded_reward,
}
"""Reward processor name -> function(record, threshold)."""

TIMED_REWARDS = frozenset({"discounted"})
"""Processors that need the page's own episode clock running."""


def get_reward(name: str) -> Callable[..., float]:
    try:
        return REWARDS[name]
    except KeyError:
        raise ValueError(f"gui has no reward {name!r}; rewards: {', '.join(REWARDS)}") from None
