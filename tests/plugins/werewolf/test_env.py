"""WerewolfEnv behind the multi-agent contract: conformance, observations, per-seat rewards."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.plugins.werewolf.helpers import DEAL
from turnrl.core.types import Task
from turnrl.plugins.werewolf.env import WerewolfEnv
from turnrl.plugins.werewolf.rules import RulesError
from turnrl.plugins.werewolf.tasks import PANEL_SIZES, make_tasks
from turnrl.testing import assert_env_conforms

TASK = Task(env="werewolf", id="hand", seed=7, data={"roles": list(DEAL)})


def run(coro):
    return asyncio.run(coro)


def test_werewolf_passes_the_conformance_checker() -> None:
    report = assert_env_conforms("werewolf", max_tasks=8)
    names = {r.name for r in report.results}
    assert {"werewolf rules", "multi-agent seats", "expert solves", "seed determinism"} <= names


def test_panels_are_fixed_and_distinct() -> None:
    for split, n in PANEL_SIZES.items():
        tasks = make_tasks(split)
        assert len(tasks) == n
        assert tasks == make_tasks(split)
    seeds = [t.seed for s in PANEL_SIZES for t in make_tasks(s)]
    assert len(set(seeds)) == len(seeds)
    with pytest.raises(ValueError, match="no split 'dev'"):
        make_tasks("dev")


def test_observation_agent_actions_and_tags() -> None:
    async def go():
        env = WerewolfEnv()
        obs = await env.reset(TASK)
        assert env.seats == tuple(f"player_{i}" for i in range(7))
        assert obs.agent == "player_0"
        assert obs.actions == ("kill player_1", "kill player_2", "kill player_4",
                               "kill player_5", "kill player_6")
        assert obs.text.endswith(", ".join(obs.actions) + ".")
        assert obs.state_key == "player_0|Werewolf|propose1|1111111|tm=3;prop="
        tags = env.seat_tags()
        assert tags["player_1"] == {"role": "Seer", "team": "village"}
        assert tags["player_3"] == {"role": "Werewolf", "team": "werewolves"}
        tr = await env.step("kill player_9")
        assert tr.info["valid_action"] is False
        assert "not a legal action now" in tr.info["error"]
        assert tr.observation.agent == "player_3"
        json.dumps(tr.info)

    run(go())


def _finish(env, first, moves):
    async def go():
        obs = first
        last = None
        for reply in moves:
            last = await env.step(reply)
            obs = last.observation
            if last.done:
                break
        return obs, last
    return go()


@pytest.mark.parametrize("mode", ["sparse", "shaped"])
def test_reward_modes_pay_every_seat_and_name_the_winners(mode: str) -> None:
    async def go():
        env = WerewolfEnv(reward=mode)
        await env.reset(TASK)
        night = ["kill player_4", "kill player_4", "see player_3", "save player_4"]
        speak = ["I have nothing to say."] * 7
        votes = ["vote for player_1" if p == 3 else "vote for player_3" for p in range(7)]
        night2 = ["kill player_1", "see player_0", "save player_2"]
        speak2 = ["I have nothing to say."] * 5  # player_1 died in the night
        votes2 = ["vote for player_2"] + ["vote for player_0"] * 4  # 0, 2, 4, 5, 6
        totals: dict[str, float] = {}
        steps = [*night, *speak, *votes, *night2, *speak2, *votes2]
        last = None
        for reply in steps:
            last = await env.step(reply)
            for seat, r in last.info["rewards"].items():
                totals[seat] = totals.get(seat, 0.0) + r
            if last.done:
                break
        return last, totals

    last, totals = run(go())
    assert last.terminated
    assert not last.truncated
    assert last.info["winner"] == "village"
    assert last.info["winners"] == ["player_1", "player_2", "player_4", "player_5", "player_6"]
    assert last.observation.agent is None
    assert "player_0 was Werewolf" in last.observation.text
    if mode == "sparse":
        assert totals == {"player_0": -1.0, "player_1": 1.0, "player_2": 1.0, "player_3": -1.0,
                          "player_4": 1.0, "player_5": 1.0, "player_6": 1.0}
        assert last.info["rewards_shaped"]["player_2"] == 330.0
    else:
        # each day: +20 vote for a wolf, +5 a wolf out, +5 survived; then +300 win
        assert totals["player_2"] == 30.0 + 30.0 + 300.0
        assert totals["player_1"] == 30.0 + 300.0  # killed on night 2: no day-2 terms
        assert totals["player_0"] == (-5.0 + 5.0) + (-10.0) - 300.0  # mate out; exiled; lost
        assert totals["player_3"] == -10.0 - 300.0
        assert last.info["rewards_sparse"]["player_2"] == 1.0


def test_options_and_errors() -> None:
    env = WerewolfEnv(rules="textarena", players=9, witch=True)
    assert len(env.seats) == 9
    with pytest.raises(RulesError, match="unknown option"):
        WerewolfEnv(wolves=3)
    with pytest.raises(ValueError, match="reward must be one of sparse, shaped"):
        WerewolfEnv(reward="dense")

    async def after_end():
        env = WerewolfEnv(max_rounds=1)
        await env.reset(TASK)
        _, last = await _finish(env, None, ["kill player_4", "kill player_4", "see player_3",
                                            "save player_4", *["hi"] * 7,
                                            *["do not vote"] * 7])
        assert last.truncated
        assert not last.terminated
        again = await env.step("anything")
        assert again.info["valid_action"] is False
        assert again.truncated

    run(after_end())


def test_same_seed_same_game_different_seed_other_deal() -> None:
    async def deal(seed):
        env = WerewolfEnv()
        obs = await env.reset(Task(env="werewolf", id="x", seed=seed))
        return obs, env.seat_tags()

    a, b, c = run(deal(1)), run(deal(1)), run(deal(2))
    assert a == b
    assert [t["role"] for t in a[1].values()] != [t["role"] for t in c[1].values()]


def test_list_actions_false_leaves_the_list_to_the_template() -> None:
    async def go():
        env = WerewolfEnv(list_actions=False)
        return await env.reset(TASK)

    obs = run(go())
    assert obs.text.endswith("As player_0 and a Werewolf, you should choose one of the legal "
                             "actions.")
    assert "kill player_1" not in obs.text
    assert obs.actions[0] == "kill player_1"
