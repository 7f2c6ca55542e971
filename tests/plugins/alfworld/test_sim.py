"""Simulator behaviour the transcripts do not cover: Env contract, options, goal semantics."""

from __future__ import annotations

import asyncio

import pytest

import turnrl
from turnrl.core.env import Env
from turnrl.core.types import Task
from turnrl.plugins.alfworld.sim import AlfworldSim

from .reference import heat_world, light_world


def _task(data, tid="t"):
    return Task(env="alfworld", id=tid, data=data)


def _play(env, task, commands):
    async def go():
        first = await env.reset(task)
        return first, [await env.step(c) for c in commands]

    return asyncio.run(go())


def test_make_defaults_to_sim_and_conforms():
    env = turnrl.make("alfworld")
    assert isinstance(env, AlfworldSim)
    assert isinstance(env, Env)
    real = turnrl.make("alfworld", backend="textworld")  # blocking: runs on a worker thread
    assert type(real).__name__ == "OffLoopEnv"
    assert type(real.env).__name__ == "AlfworldTextWorld"
    spec = turnrl.get_host().env("alfworld")
    assert spec.splits == ("train", "valid_seen", "valid_unseen")


@pytest.mark.parametrize(("option", "message"), [
    ({"backend": "thor"}, "no backend 'thor'"), ({"reward": "dense"}, "reward must be one of"),
    ({"put_verb": "place"}, "put_verb must be one of"), ({"max_steps": 0}, "max_steps must be")])
def test_bad_options_name_the_problem(option, message):
    with pytest.raises(ValueError, match=message):
        turnrl.make("alfworld", **option)


def test_nothing_happens_leaves_state_unchanged_but_counts_a_step():
    env = AlfworldSim(max_steps=3)
    first, (a, b, c) = _play(env, _task(heat_world()), ["jump", "open fridge 1", "look"])
    for tr in (a, b):
        assert tr.observation.text == "Nothing happens."
        assert tr.info["valid_action"] is False
        assert tr.observation.actions == first.actions
        assert tr.observation.state_key == first.state_key
        assert not tr.done
    assert c.info["valid_action"] is True
    assert c.truncated
    assert not c.terminated


def test_default_truncation_is_fifty_steps():
    _, steps = _play(AlfworldSim(), _task(heat_world()), ["look"] * 50)
    assert [s.truncated for s in steps].index(True) == 49


HEAT_PLAN = ["go to fridge 1", "open fridge 1", "take apple 1 from fridge 1", "go to microwave 1",
             "heat apple 1 with microwave 1", "go to countertop 1"]


@pytest.mark.parametrize(("reward", "value"), [("score", 1.0), ("verl", 10.0)])
def test_win_reward(reward, value):
    _, steps = _play(AlfworldSim(reward=reward), _task(heat_world()),
                     [*HEAT_PLAN, "move apple 1 to countertop 1"])
    assert [s.reward for s in steps] == [0.0] * 6 + [value]
    assert steps[-1].terminated
    assert steps[-1].info["won"]


@pytest.mark.parametrize("legacy", ["put apple 1 in countertop 1", "put apple 1 on countertop 1",
                                    "put apple 1 in/on countertop 1"])
def test_legacy_put_is_accepted(legacy):
    _, steps = _play(AlfworldSim(), _task(heat_world()), [*HEAT_PLAN, legacy])
    assert steps[-1].observation.text == "You move the apple 1 to the countertop 1."
    assert steps[-1].info["won"]
    assert steps[-1].info["valid_action"]
    _, steps = _play(AlfworldSim(accept_legacy_put=False), _task(heat_world()),
                     [*HEAT_PLAN, legacy])
    assert steps[-1].observation.text == "Nothing happens."


def test_put_verb_legacy_grammar():
    _, steps = _play(AlfworldSim(put_verb="put"), _task(heat_world()),
                     [*HEAT_PLAN, "move apple 1 to countertop 1"])
    assert "put apple 1 in/on countertop 1" in steps[-2].observation.actions
    assert not any(a.startswith("move ") for a in steps[-2].observation.actions)
    assert steps[-1].observation.text == "You put the apple 1 in/on the countertop 1."


def test_state_key_has_no_history():
    _, a = _play(AlfworldSim(), _task(heat_world()), ["go to fridge 1"])
    _, b = _play(AlfworldSim(), _task(heat_world()),
                 ["look", "go to cabinet 1", "inventory", "go to fridge 1", "jump"])
    assert a[-1].observation.state_key == b[-1].observation.state_key == "at=fridge 1;closed"
    _, c = _play(AlfworldSim(), _task(heat_world()), HEAT_PLAN[:5])
    assert c[-1].observation.state_key == "at=microwave 1;closed;holds=apple 1[hot]"


def test_heat_then_cool_is_not_hot():
    _, steps = _play(AlfworldSim(), _task(heat_world()), [
        *HEAT_PLAN[:5], "go to fridge 1", "cool apple 1 with fridge 1", "examine apple 1",
        "go to countertop 1", "move apple 1 to countertop 1"])
    assert steps[-3].observation.text == "This is a cold apple 1."
    assert not steps[-1].info["won"]


def test_pick_two_needs_the_same_receptacle():
    data = heat_world()
    data.update(type="pick_two_obj_and_place", task_desc="put two apple in countertop")
    data["objects"].append({"id": "Apple_bar__plus_05_dot_00", "type": "Apple",
                            "in": "Fridge_bar__minus_02_dot_10",
                            "flags": ["pickupable", "heatable", "coolable", "cleanable"]})
    # ids sort Apple_bar__plus_01 < Apple_bar__plus_05: apple 2 and apple 1
    fetch = ["go to fridge 1", "open fridge 1"]
    _, steps = _play(AlfworldSim(), _task(data), [
        *fetch, "take apple 1 from fridge 1", "go to countertop 1", "move apple 1 to countertop 1",
        "go to fridge 1", "take apple 2 from fridge 1", "go to countertop 2",
        "move apple 2 to countertop 2", "take apple 2 from countertop 2", "go to countertop 1",
        "move apple 2 to countertop 1"])
    assert [s.info["won"] for s in steps].index(True) == len(steps) - 1
    assert steps[-1].observation.text == "You move the apple 2 to the countertop 1."


def test_look_needs_the_object_in_hand_at_the_lit_lamp():
    _, steps = _play(AlfworldSim(), _task(light_world()), [
        "go to sidetable 1", "use desklamp 1", "go to countertop 1", "take mug 1 from countertop 1",
        "go to sidetable 1"])
    assert steps[1].observation.text == "You turn on the desklamp 1."
    assert [s.info["won"] for s in steps] == [False, False, False, False, True]


def test_finished_worlds_and_experts_are_freed_without_the_cycle_collector():
    """The simulator makes no reference cycles: a played episode's world, env and expert go
    away by reference counting (a cycle per world made the collector scan every kept record of
    a rollout over and over)."""
    import gc

    host = turnrl.get_host()
    spec = host.env("alfworld")
    tasks = turnrl.tasks("alfworld", "train")[:6]

    async def play_all():
        for task in tasks:
            env, expert = turnrl.make("alfworld"), spec.expert(task)
            obs = await env.reset(task)
            while True:
                tr = await env.step(expert.act(obs))
                obs = tr.observation
                if tr.done:
                    break
            assert tr.info["won"]
            await env.close()

    gc.collect()
    gc.disable()
    try:
        asyncio.run(play_all())
        asyncio.run(asyncio.sleep(0))  # a fresh loop, so the first one's cycles are done
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        cyclic = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert "World" not in cyclic
    assert "AlfworldSim" not in cyclic
    assert "AlfworldExpert" not in cyclic
