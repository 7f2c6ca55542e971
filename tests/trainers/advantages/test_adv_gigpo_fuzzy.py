"""GiGPO's optional fuzzy anchor states (spec §3): greedy clusters against each cluster's first
member, similarity >= threshold, never across groups, off by default."""

from __future__ import annotations

import numpy as np
import pytest
from adv_helpers import batch_of, cols_from_trajs

from turnrl.trainers.advantages import compute_advantages
from turnrl.trainers.advantages.fuzzy import fuzzy_state_codes

# 29 of 30 characters in common: InDel similarity 58/60 = 0.967
A3, A4 = "You see 3 apples on the table.", "You see 4 apples on the table."
ROOM = "You are in a dark room."


def test_near_identical_states_share_a_cluster_above_the_threshold() -> None:
    b = batch_of(cols_from_trajs([
        {"id": "t0", "states": [A3, ROOM], "rewards": [0, 1]},
        {"id": "t1", "states": [A4, ROOM], "rewards": [0, 0]},
    ]))
    assert fuzzy_state_codes(b, 0.95).tolist() == [0, 1, 0, 1]  # A3 ~ A4 (0.967)
    assert fuzzy_state_codes(b, 0.97).tolist() == [0, 1, 2, 1]  # 0.967 < 0.97: apart
    assert fuzzy_state_codes(b, 1.0).tolist() == [0, 1, 2, 1]  # 1.0 == exact matching


def test_greedy_against_the_first_member_only_no_chaining() -> None:
    # x0 ~ x1 (36/40 = 0.9) and x1 ~ x2 (0.9) but not x0 ~ x2 (32/40 = 0.8): x2 must NOT
    # join x0's cluster through x1.
    x0, x1, x2 = "aaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaabb", "aaaaaaaaaaaaaaaabbbb"
    b = batch_of(cols_from_trajs([{"id": "t", "states": [x0, x1, x2], "rewards": [0, 0, 1]}]))
    assert fuzzy_state_codes(b, 0.9).tolist() == [0, 0, 1]


def test_clusters_never_cross_groups() -> None:
    b = batch_of(cols_from_trajs([
        {"id": "t0", "group": "g0", "states": [A3], "rewards": [1]},
        {"id": "t1", "group": "g1", "states": [A3], "rewards": [0]},
    ]))
    assert fuzzy_state_codes(b, 0.5).tolist() == [0, 1]


def test_gigpo_with_similarity_by_hand() -> None:
    # Two trajectories of one group; exact keys never match (A3 vs A4), fuzzy ones do.
    cols = cols_from_trajs([
        {"id": "t0", "states": [A3, ROOM], "rewards": [0, 1]},
        {"id": "t1", "states": [A4, "somewhere else entirely"], "rewards": [0, 0]},
    ])
    gamma = 0.5
    exact = compute_advantages("gigpo", batch_of(cols), gamma=gamma)
    fuzzy = compute_advantages("gigpo", batch_of(cols), gamma=gamma, similarity=0.95)
    # episode term (mean_norm, cross_steps): scores 1,1,0,0 -> mean 0.5 -> +0.5,+0.5,-0.5,-0.5
    episode = np.array([0.5, 0.5, -0.5, -0.5])
    np.testing.assert_allclose(exact, episode)  # every exact step group is a singleton
    # fuzzy: step 0 of both in one group; returns t0: 0 + 0.5*1 = 0.5, t1: 0 -> +-0.25
    np.testing.assert_allclose(fuzzy, episode + np.array([0.25, 0.0, -0.25, 0.0]))


def test_default_is_exact_and_threshold_one_equals_it() -> None:
    rng = np.random.default_rng(3)
    trajs = [{"id": f"t{i}", "group": f"g{i % 3}",
              "states": [f"state {int(s)}" for s in rng.integers(0, 4, size=5)],
              "rewards": rng.integers(0, 2, size=5).tolist()} for i in range(12)]
    cols = cols_from_trajs(trajs)
    exact = compute_advantages("gigpo", batch_of(cols))
    np.testing.assert_allclose(compute_advantages("gigpo", batch_of(cols), similarity=1.0), exact)


def test_threshold_is_validated() -> None:
    b = batch_of(cols_from_trajs([{"id": "t", "states": ["a"], "rewards": [1]}]))
    with pytest.raises(ValueError, match="similarity"):
        compute_advantages("gigpo", b, similarity=1.5)
    with pytest.raises(ValueError, match="threshold"):
        fuzzy_state_codes(b, 0.0)
