"""Fault isolation: stalled and raising environments and policies, with small timeouts."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import turnrl
from turnrl.core.policy import Completion, GenerationRequest
from turnrl.core.rollout import RolloutConfig, run_groups, split_failed
from turnrl.core.store import EpisodeStore
from turnrl.core.types import EpisodeGroup, Observation, Task, Transition
from turnrl.inference import make_policy
from turnrl.plugins.toy.env import GridEnv

FAST = RolloutConfig(env_timeout_s=0.2, model_timeout_s=0.2)


class _Faulty(GridEnv):
    """toy-env whose tasks marked ``fault`` stall or raise at a chosen call."""

    closed_count = 0

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        self.fault = task.data.get("fault")
        if self.fault == "stall-reset":
            await asyncio.Event().wait()
        if self.fault == "raise-reset":
            raise RuntimeError("reset exploded")
        return await super().reset(task, seed=seed)

    async def step(self, action: str) -> Transition:
        if self.fault == "stall-step" and self.t == 1:
            await asyncio.Event().wait()
        if self.fault == "raise-step" and self.t == 1:
            raise KeyError("no such room")
        return await super().step(action)

    async def close(self) -> None:
        type(self).closed_count += 1
        if self.fault == "raise-close":
            raise OSError("close failed")
        await super().close()


def _tasks(faults: dict[int, str]) -> list[Task]:
    base = turnrl.tasks("toy-env", "valid", n=8, size=5)
    return [Task(env=t.env, id=t.id, split=t.split, seed=t.seed,
                 data={**t.data, "fault": faults.get(i)}) for i, t in enumerate(base)]


def _run(*args: Any, **kwargs: Any) -> list[EpisodeGroup]:
    return asyncio.run(run_groups(*args, **kwargs))


def test_stalled_and_raising_envs_fail_alone(tmp_path: Path) -> None:
    faults = {1: "stall-reset", 2: "raise-reset", 4: "stall-step", 5: "raise-step"}
    tasks = _tasks(faults)
    store = tmp_path / "episodes.jsonl"
    _Faulty.closed_count = 0
    t0 = time.perf_counter()
    groups = _run(_Faulty, tasks, make_policy("scripted:gold"), group_size=2, config=FAST,
                  store=str(store))
    assert time.perf_counter() - t0 < 5  # the stalls cost one timeout each, in parallel
    status = {g.task.data["fault"]: {e.status for e in g.episodes} for g in groups}
    assert status == {None: {"ok"}, "stall-reset": {"timeout"}, "raise-reset": {"env_error"},
                      "stall-step": {"timeout"}, "raise-step": {"env_error"}}
    errors = {g.task.data["fault"]: g.episodes[0].error for g in groups}
    assert errors["stall-reset"] == "env.reset timed out after 0.2s"
    assert errors["raise-reset"] == "env.reset raised RuntimeError: reset exploded"
    assert errors["stall-step"] == "env.step timed out after 0.2s"
    assert errors["raise-step"] == "env.step raised KeyError: 'no such room'"
    # a step fault keeps the steps before it
    stalled = next(g for g in groups if g.task.data["fault"] == "stall-step")
    assert all(len(e.steps) == 1 for e in stalled.episodes)
    # every episode (failed or not) is in the store, and every env was closed
    assert sorted(EpisodeStore(store).ids()) == sorted(e.id for g in groups for e in g.episodes)
    assert _Faulty.closed_count == 16
    clean, failed = split_failed(groups)
    assert len(clean) == 4
    assert len(failed) == 4


def test_close_failure_is_recorded_without_failing_the_episode() -> None:
    (g,) = _run(_Faulty, _tasks({0: "raise-close"})[:1], make_policy("scripted:gold"),
                config=FAST)
    (e,) = g.episodes
    assert e.status == "ok"
    assert e.won
    assert e.error == "(and env.close raised OSError: close failed)"


def test_factory_error_is_env_error() -> None:
    def broken() -> Any:
        raise ImportError("engine missing")

    (g,) = _run(broken, _tasks({})[:1], make_policy("scripted:gold"), config=FAST)
    assert g.episodes[0].status == "env_error"
    assert "creating the environment raised ImportError: engine missing" in g.episodes[0].error


class _FlakyPolicy:
    """Raises or stalls on the tasks named in ``mode``; plays gold elsewhere."""

    wants_prompt = False

    def __init__(self, mode: dict[str, str]) -> None:
        self.mode = mode
        self.gold = make_policy("scripted:gold")

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        m = self.mode.get(requests[0].task.id)
        if m == "raise":
            raise ConnectionError("server went away")
        if m == "stall":
            await asyncio.sleep(3600)
        return await self.gold.generate(requests)

    async def close(self) -> None:
        return None


def test_policy_errors_and_stalls() -> None:
    tasks = _tasks({})
    policy = _FlakyPolicy({tasks[0].id: "raise", tasks[3].id: "stall"})
    groups = _run(_Faulty, tasks, policy, group_size=2, config=FAST)
    by_task = {g.task.id: g for g in groups}
    assert {e.status for e in by_task[tasks[0].id].episodes} == {"policy_error"}
    assert by_task[tasks[0].id].episodes[0].error == \
        "policy.generate raised ConnectionError: server went away"
    assert {e.status for e in by_task[tasks[3].id].episodes} == {"timeout"}
    assert by_task[tasks[3].id].episodes[0].error == "policy.generate timed out after 0.2s"
    others = [e for t in tasks if t.id not in (tasks[0].id, tasks[3].id)
              for e in by_task[t.id].episodes]
    assert all(e.status == "ok" and e.won for e in others)


def test_a_failing_observer_does_not_lose_episodes(tmp_path: Path) -> None:
    from turnrl.core.hookspecs import hookimpl

    class Bad:
        @hookimpl
        def turnrl_episode_end(self, episode: Any) -> None:
            raise RuntimeError("observer bug")

    host = turnrl.get_host()
    host.register_plugin(Bad(), "test-bad-observer")
    try:
        groups = _run("toy-env", _tasks({})[:3], make_policy("scripted:gold"), group_size=2,
                      store=str(tmp_path / "e.jsonl"))
    finally:
        host.unregister_plugin("test-bad-observer")
    assert all(e.status == "ok" for g in groups for e in g.episodes)
    assert len(EpisodeStore(tmp_path / "e.jsonl").ids()) == 6


@pytest.mark.parametrize("field", ["env_timeout_s", "model_timeout_s",
                                   "max_concurrent_episodes", "max_concurrent_requests"])
def test_config_refuses_non_positive_limits(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        RolloutConfig(**{field: 0})


class _ContractBreaker(GridEnv):
    """toy-env whose tasks marked ``fault`` return the wrong type from reset or step."""

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        self.fault = task.data.get("fault")
        obs = await super().reset(task, seed=seed)
        return "a plain string" if self.fault == "str-reset" else obs  # type: ignore[return-value]

    async def step(self, action: str) -> Transition:
        tr = await super().step(action)
        return None if self.fault == "none-step" else tr  # type: ignore[return-value]


class _WrongReplyPolicy(_FlakyPolicy):
    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        m = self.mode.get(requests[0].task.id)
        if m == "empty":
            return []
        if m == "text":
            return ["<think> t </think> <action> look </action>"]  # type: ignore[list-item]
        return await self.gold.generate(requests)


def test_contract_breaking_envs_and_policies_fail_alone(tmp_path: Path) -> None:
    tasks = _tasks({0: "str-reset", 1: "none-step"})
    policy = _WrongReplyPolicy({tasks[2].id: "empty", tasks[3].id: "text"})
    store = tmp_path / "eps.jsonl"
    groups = _run(_ContractBreaker, tasks, policy, group_size=2, config=FAST, store=str(store))
    by_task = {g.task.id: g.episodes for g in groups}
    expected = {
        tasks[0].id: ("env_error", "env.reset returned str, not Observation"),
        tasks[1].id: ("env_error", "env.step returned NoneType, not Transition"),
        tasks[2].id: ("policy_error", "policy.generate raised IndexError"),
        tasks[3].id: ("policy_error", "policy.generate returned str, not Completion"),
    }
    for tid, (status, message) in expected.items():
        assert {e.status for e in by_task[tid]} == {status}, by_task[tid]
        assert all(e.error.startswith(message) for e in by_task[tid]), by_task[tid][0].error
    others = [e for t in tasks[4:] for e in by_task[t.id]]
    assert others
    assert all(e.status == "ok" and e.won for e in others)
    assert len(EpisodeStore(str(store)).ids()) == 2 * len(tasks)  # every episode stored


class _BadSeatRewards:
    """A two-seat game whose task ``data["bad"]`` picks what goes wrong in ``info["rewards"]``
    on the second turn: a NaN for the other seat, a NaN for the acting seat, a non-dict."""

    seats = ("a", "b")

    def __init__(self) -> None:
        self.t = 0
        self.bad: str | None = None

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        self.t, self.bad = 0, task.data.get("bad")
        return Observation("go", agent="a", actions=("x",), state_key="0")

    async def step(self, action: str) -> Transition:
        self.t += 1
        seat, nxt = ("a", "b") if self.t % 2 == 1 else ("b", "a")
        rewards: Any = {seat: 0.5}
        if self.t == 2 and self.bad == "other-nan":
            rewards = {"a": float("nan")}
        elif self.t == 2 and self.bad == "own-inf":
            rewards = {"b": float("inf")}
        elif self.t == 2 and self.bad == "list":
            rewards = [1.0, 2.0]
        return Transition(Observation(f"t{self.t}", agent=nxt, actions=("x",),
                                      state_key=str(self.t)),
                          terminated=self.t == 4, info={"rewards": rewards, "won": False})

    async def close(self) -> None:
        return None


class _MismatchedLogprobs:
    """A backend whose reply for one task breaks ``Step``'s invariant (3 log-probs, 1 token)."""

    def __init__(self, bad_task: str) -> None:
        self.bad_task = bad_task

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        bad = requests[0].task is not None and requests[0].task.id == self.bad_task
        return [Completion(text="x", prompt_ids=[1], token_ids=[2],
                           logprobs=[-0.1, -0.2, -0.3] if bad else [-0.1]) for _ in requests]

    async def close(self) -> None:
        return None


def test_non_finite_seat_rewards_fail_their_episode_only(tmp_path: Path) -> None:
    tasks = [Task(env="duel", id=f"duel-{i}", seed=i, data={"bad": bad})
             for i, bad in enumerate([None, "other-nan", "own-inf", "list", None])]
    store = tmp_path / "eps.jsonl"
    groups = _run(_BadSeatRewards, tasks, make_policy("scripted:random"), group_size=2,
                  store=str(store))
    by_bad = {g.task.data["bad"]: g.episodes for g in groups if g.task.data["bad"]}
    for bad, needle in (("other-nan", "info['rewards']['a'] = nan"),
                        ("own-inf", "info['rewards']['b'] = inf"),
                        ("list", "info['rewards'] of type list")):
        eps = by_bad[bad]
        assert len(eps) == 4  # 2 games x 2 seats, all kept
        assert {e.status for e in eps} == {"env_error"}, eps
        assert all(needle in e.error for e in eps), eps[0].error
        # no NaN was credited to the earlier step of the other seat
        assert all(math.isfinite(s.reward) for e in eps for s in e.steps)
    fine = [e for g in groups if not g.task.data["bad"] for e in g.episodes]
    assert len(fine) == 8
    assert all(e.status == "ok" and len(e.steps) == 2 for e in fine)
    assert len(EpisodeStore(str(store)).ids()) == 5 * 2 * 2  # every seat of every game stored


def test_a_record_that_breaks_its_invariants_fails_its_episode_only(tmp_path: Path) -> None:
    tasks = turnrl.tasks("toy-env", "valid", n=4, size=5)
    store = tmp_path / "eps.jsonl"
    groups = _run("toy-env", tasks, _MismatchedLogprobs(tasks[1].id), group_size=2,
                  config=RolloutConfig(max_steps=3), store=str(store))
    bad = groups[1].episodes
    assert {e.status for e in bad} == {"policy_error"}
    assert all("ContractError" in e.error and "response_logprobs" in e.error for e in bad)
    others = [e for g in groups if g is not groups[1] for e in g.episodes]
    assert all(e.status == "truncated" and len(e.steps) == 3 for e in others)
    assert len(EpisodeStore(str(store)).ids()) == 8
