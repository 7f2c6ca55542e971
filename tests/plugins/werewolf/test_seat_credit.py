"""Per-seat records through the rollout engine: every seat's episode carries its own verdict
and every reward the game paid it, including a seat killed before its first turn (a night-1
victim never acts, yet its team's +1/-1 is its reward: "dead players included")."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest

from turnrl.core.host import get_host
from turnrl.core.rollout import RolloutConfig, run_groups
from turnrl.core.seating import game_tally
from turnrl.core.types import Task
from turnrl.inference.scripted import make_scripted_policy
from turnrl.trainers.advantages.batch import StepBatch

HOST = get_host()
TASKS = [Task(env="werewolf", id=f"credit-{i}", split="train", seed=i) for i in range(12)]


def _games(mode: str):
    policy = make_scripted_policy("random", host=HOST, env="werewolf")
    groups = asyncio.run(run_groups("werewolf", TASKS, policy, group_size=1, host=HOST,
                                    config=RolloutConfig(env_options={"reward": mode})))
    games: dict[str, list] = defaultdict(list)
    for g in groups:
        for ep in g.episodes:
            games[ep.metrics["base_id"]].append(ep)
    return groups, games


@pytest.mark.parametrize("mode", ["sparse", "shaped"])
def test_every_seat_record_has_its_own_verdict_and_payments(mode: str) -> None:
    groups, games = _games(mode)
    silent = 0
    for base, eps in games.items():
        assert {e.status for e in eps} == {"ok"}, base
        assert sorted(e.seat for e in eps) == [f"player_{i}" for i in range(7)]
        paid: dict[str, float] = defaultdict(float)  # what the game paid each seat, per step
        winners = None
        for ep in eps:
            for s in ep.steps:
                for seat, r in s.info["rewards"].items():
                    paid[seat] += r
                winners = s.info.get("winners", winners)
        assert winners is not None, base  # 12 random games all end within max_rounds
        for ep in eps:
            silent += not ep.steps
            assert ep.won == (ep.seat in winners), (base, ep.seat, len(ep.steps))
            assert ep.metrics["won"] == ep.won
            assert ep.total_reward == pytest.approx(paid[ep.seat]), (base, ep.seat)
            assert ep.metrics["total_reward"] == pytest.approx(ep.total_reward)
            if mode == "sparse":
                assert ep.total_reward == (1.0 if ep.seat in winners else -1.0)
    assert silent >= 1  # some seat died before it ever acted (else this test proves nothing)
    tally = game_tally(groups)
    if mode == "sparse":  # mean over 7 seats of +-1: (2w - 5l) / 7 per game, never diluted by 0
        expected = sum(sum(e.total_reward for e in eps) / 7 for eps in games.values())
        assert tally.total_return == pytest.approx(expected)
        assert all(abs(sum(e.total_reward for e in eps)) == 3.0 for eps in games.values())


def test_a_seat_that_never_acted_adds_no_rows_to_the_advantage_batch() -> None:
    groups, games = _games("sparse")
    batch = StepBatch.from_groups(groups)
    acted = sum(1 for eps in games.values() for e in eps if e.steps)
    assert batch.n_traj == acted
    assert batch.n_rows == sum(len(e.steps) for eps in games.values() for e in eps)
    # each trajectory's return is its own seat's: the batch sums match the records
    per_traj = dict(zip(batch.traj_labels,
                        (batch.episode_reward[batch.first_row]).tolist(), strict=True))
    for eps in games.values():
        for e in eps:
            if e.steps:
                assert per_traj[f"{e.id}/{e.seat}"] == pytest.approx(e.total_reward)
