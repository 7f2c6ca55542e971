"""The reward processors agree with MiniWoB's own (``miniwob/reward.py``) on every case."""

from __future__ import annotations

import itertools

import pytest

from turnrl.plugins.gui.rewards import REWARDS, get_reward

miniwob_reward = pytest.importorskip("miniwob.reward")

RECORDS = [{"done": done, "raw_reward": raw, "env_reward": env}
           for done, raw, env in itertools.product(
               (False, True), (-1.0, 0.0, 0.25, 0.8, 1.0), (-1.0, 0.0, 0.37, 1.0))]


def test_processors_match_miniwob() -> None:
    reference = {
        "raw": miniwob_reward.get_raw_reward,
        "discounted": miniwob_reward.get_original_reward,
        "binary": miniwob_reward.get_binary_reward,
    }
    for name, theirs in reference.items():
        for record in RECORDS:
            expected = theirs(record) if record["done"] else 0.0  # 0 until the page ends
            assert REWARDS[name](record) == expected, (name, record)
    for threshold in (0.5, 0.8, 1.0):
        for record in RECORDS:
            assert REWARDS["thresholded"](record, threshold) == \
                miniwob_reward.get_thresholded_reward(record, threshold=threshold)


def test_unknown_reward() -> None:
    with pytest.raises(ValueError, match="no reward 'fast'; rewards: raw, discounted"):
        get_reward("fast")
