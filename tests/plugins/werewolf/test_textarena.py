"""TextArena's SecretMafia-v0 (7 players) through turnrl's multi-agent contract, offline."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

pytest.importorskip("textarena")

from turnrl.core.host import get_host
from turnrl.core.rollout import RolloutConfig, run_groups
from turnrl.core.seating import build_seating, game_results
from turnrl.core.types import Task
from turnrl.inference.scripted import make_scripted_policy
from turnrl.plugins.werewolf.bots import WerewolfBot
from turnrl.plugins.werewolf.env import WerewolfEnv
from turnrl.plugins.werewolf.textarena_dialect import TextArenaDialect
from turnrl.plugins.werewolf.textarena_env import SecretMafiaEnv, make_tasks
from turnrl.testing import assert_env_conforms

HOST = get_host()


def test_secretmafia_passes_the_conformance_checker() -> None:
    assert_env_conforms("secretmafia", max_tasks=4)


def test_deal_tags_and_first_observation() -> None:
    async def go():
        env = SecretMafiaEnv()
        obs = await env.reset(Task(env="secretmafia", id="t", seed=11))
        return obs, env.seat_tags()

    obs, tags = asyncio.run(go())
    assert Counter(t["role"] for t in tags.values()) == {"Werewolf": 2, "Seer": 1, "Doctor": 1,
                                                          "Villager": 3}
    assert tags[obs.agent]["role"] == "Werewolf"  # the night opens with a Mafia vote
    assert "[GAME] Welcome to Secret Mafia!" in obs.text
    assert "Valid targets:" in obs.text
    assert all(a.startswith("[") for a in obs.actions)
    view = TextArenaDialect().view(obs)
    assert (view.role, view.kind) == ("Werewolf", "wolfvote")
    mates = [int(s[7:]) for s, t in tags.items() if t["role"] == "Werewolf"
             and s != obs.agent]
    assert view.teammates == mates


def test_full_games_with_the_same_bots_through_the_engine() -> None:
    seating = build_seating(["team=village"], [{"team=werewolves": "scripted:bus"}], "role",
                            env="secretmafia", host=HOST)
    learner = make_scripted_policy("basic", host=HOST, env="secretmafia")
    tasks = make_tasks("valid", n=12)
    groups = asyncio.run(run_groups("secretmafia", tasks, learner, group_size=1, host=HOST,
                                    config=RolloutConfig(seats=seating)))
    eps = [e for g in groups for e in g.episodes]
    assert {e.status for e in eps} == {"ok"}
    assert {e.metrics["seat_tags"]["team"] for e in eps} == {"village"}
    for e in eps:
        # +1/-1 for every seat, a seat killed before its first turn included (its record
        # keeps what TextArena paid it)
        assert e.total_reward == (1.0 if e.won else -1.0)
        assert all(s.valid for s in e.steps)  # the bots speak TextArena's format
    won, games = game_results(groups)
    assert games == 12
    assert 0 < won < 12


def test_replays_are_seeded_and_leave_the_global_random_alone() -> None:
    async def game(seed: int) -> list[str]:
        env = SecretMafiaEnv()
        task = Task(env="secretmafia", id="t", seed=seed)
        obs = await env.reset(task)
        bot = WerewolfBot(task, style="basic", dialect=TextArenaDialect())
        moves = []
        while True:
            moves.append(f"{obs.agent}:{bot.act(obs)}")
            tr = await env.step(moves[-1].split(":", 1)[1])
            await asyncio.sleep(0)  # let the other games interleave
            obs = tr.observation
            if tr.done:
                return moves

    async def interleaved():
        return await asyncio.gather(*(game(s) for s in (1, 2, 3, 1)))

    random.seed(1234)
    expected_next = random.Random(1234).random()
    first = asyncio.run(interleaved())
    assert random.random() == expected_next  # the caller's stream was not touched
    assert first[0] == first[3]  # same seed, same game, even interleaved with others
    assert first[0] != first[1]
    assert first == asyncio.run(interleaved())


def test_an_invalid_move_is_flagged_and_asked_again() -> None:
    async def go():
        env = SecretMafiaEnv()
        obs = await env.reset(Task(env="secretmafia", id="t", seed=4))
        tr = await env.step("banana")
        return obs, tr

    obs, tr = asyncio.run(go())
    assert tr.info["valid_action"] is False
    assert tr.observation.agent == obs.agent
    assert "attempted an invalid move" in tr.observation.text


@pytest.mark.slow
def test_our_textarena_rules_give_textarena_s_win_rates_with_the_same_bots() -> None:
    """The same bots on the real SecretMafia-v0 and on this plugin's ``textarena-exact`` preset
    (TextArena's rules and its lost-night-kill quirk): the village's win rate agrees within
    sampling error (200 games each)."""
    async def rate(make_env, dialect, n=200) -> float:
        wins = 0
        for task in make_tasks("train", n=n):
            env = make_env()
            obs = await env.reset(task)
            tags = env.seat_tags()
            bot = WerewolfBot(task, style="basic", dialect=dialect)
            while True:
                tr = await env.step(bot.act(obs))
                obs = tr.observation
                if tr.done:
                    winners = tr.info.get("winners", [])
                    wins += any(tags[w]["team"] == "village" for w in winners)
                    break
        return wins / n

    real = asyncio.run(rate(SecretMafiaEnv, TextArenaDialect()))
    ours = asyncio.run(rate(lambda: WerewolfEnv(rules="textarena-exact"), None))
    assert abs(real - ours) < 0.15, (real, ours)
