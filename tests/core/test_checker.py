"""The conformance checker catches each kind of contract break, and passes a correct env.

A tiny counter environment is registered into a private host; factory options switch on one
fault at a time, and the test asserts that exactly the matching check fails.
"""

from __future__ import annotations

import asyncio
import random
from functools import partial

import pytest

from turnrl.core.checker import acheck_env, check_env
from turnrl.core.hookspecs import hookimpl
from turnrl.core.host import PluginError, PluginHost
from turnrl.core.types import Observation, Task, Transition
from turnrl.testing import assert_env_conforms, env_params, parametrize_envs


class Counter:
    """Say ``inc`` ``target`` times. Faults are switched on by constructor flags."""

    seats = ("p0", "p1")

    def __init__(self, *, raise_on_garbage=False, noisy=False, close_raises=False,
                 bad_reset_type=False, unresettable=(), hang=False, nan_seat_reward=False,
                 bad_seat=False, multi=False) -> None:
        self.flags = {"raise_on_garbage": raise_on_garbage, "noisy": noisy, "hang": hang,
                          "bad_reset_type": bad_reset_type, "nan_seat_reward": nan_seat_reward,
                          "bad_seat": bad_seat, "multi": multi}
        self.unresettable = set(unresettable)
        self.close_raises = close_raises
        self.closed = 0

    def _obs(self, text: str) -> Observation:
        agent = None
        if self.flags["multi"]:
            agent = "nobody" if self.flags["bad_seat"] else self.seats[self.t % 2]
        if self.flags["noisy"]:
            text += f" ({random.random()})"
        return Observation(text=text, state_key=str(self.count), actions=("inc", "wait"),
                           agent=agent)

    async def reset(self, task: Task, *, seed: int | None = None):
        if task.id in self.unresettable:
            raise FileNotFoundError(f"missing game file for {task.id}")
        if self.flags["bad_reset_type"]:
            return "count: 0"
        self.target, self.count, self.t = task.data["target"], 0, 0
        return self._obs(f"count 0 of {self.target}")

    async def step(self, action: str) -> Transition:
        if self.flags["hang"]:
            await asyncio.sleep(60)
        valid = action in ("inc", "wait")
        if not valid and self.flags["raise_on_garbage"]:
            raise ValueError(f"cannot parse {action!r}")
        self.t += 1
        self.count += action == "inc"
        won = self.count == self.target
        info = {"won": won, "valid_action": valid}
        if self.flags["multi"]:
            nan = float("nan") if self.flags["nan_seat_reward"] else 0.0
            info["rewards"] = {"p0": float(won), "p1": nan}
        return Transition(self._obs(f"count {self.count}"), reward=float(won), terminated=won,
                          truncated=not won and self.t >= 3 * self.target, info=info)

    async def close(self) -> None:
        self.closed += 1
        if self.close_raises and self.closed > 1:
            raise RuntimeError("already closed")


class IncExpert:
    def __init__(self, task: Task, lazy: bool = False) -> None:
        self.lazy = lazy or task.data.get("lazy", False)

    def act(self, observation: Observation) -> str:
        return "wait" if self.lazy else "inc"


def counter_tasks(split: str, *, env: str = "counter", n: int = 4, lazy_last=False,
                  duplicate=False, wrong_env=False, unstable=False) -> list[Task]:
    tasks = [Task(env="other" if wrong_env else env, id=f"c-{split}-{i}", split=split,
                  seed=i, data={"target": 1 + i % 3, "lazy": lazy_last and i == n - 1})
             for i in range(n)]
    if duplicate:
        tasks.append(tasks[0])
    if unstable:
        tasks[0] = Task(env="counter", id=tasks[0].id, split=split, seed=random.randrange(10**9),
                        data=tasks[0].data)
    return tasks


@pytest.fixture(scope="module")
def host() -> PluginHost:
    class Plugin:
        @hookimpl
        def turnrl_register_envs(self, register):
            register("counter", Counter, tasks=counter_tasks, expert=IncExpert,
                     splits=("train", "test"), description="count to N")
            register("counter-2p", lambda **kw: Counter(multi=True, **kw),
                     tasks=partial(counter_tasks, env="counter-2p"),
                     expert=IncExpert, multi_agent=True, description="two seats")
            register("counter-noexpert", Counter,
                     tasks=partial(counter_tasks, env="counter-noexpert"),
                     check_options={"max_tasks": 2, "splits": ["train"]})

    h = PluginHost(builtins=(), entry_point_group=None)
    h.register_plugin(Plugin(), "counter_plugin")
    return h


def _failed(report) -> list[str]:
    return [r.name for r in report.failures]


def test_correct_env_passes_every_check(host: PluginHost) -> None:
    report = check_env("counter", host=host)
    assert report.ok, report.format()
    assert [r.name for r in report.results] == [
        "task panels", "reset/step types", "malformed actions", "close twice",
        "seed determinism", "panel resets", "expert solves", "rewards finite"]
    assert "train: 4 task(s), test: 4 task(s)" in report.result("task panels").message
    assert "expert solved 8 task(s)" in report.result("expert solves").message


def test_split_and_max_tasks_limit_the_panels(host: PluginHost) -> None:
    report = check_env("counter", host=host, split="test", max_tasks=2)
    assert report.result("task panels").message == "test: 2 task(s)"
    assert report.result("panel resets").message == "2 task(s) reset"
    with pytest.raises(PluginError, match="no split 'valid'"):
        check_env("counter", host=host, split="valid")
    with pytest.raises(PluginError, match="unknown env 'nope'"):
        check_env("nope", host=host)


def test_registered_check_options_are_defaults(host: PluginHost) -> None:
    report = check_env("counter-noexpert", host=host)
    assert report.ok
    assert report.result("task panels").message == "train: 2 task(s)"
    assert report.result("expert solves").status == "skip"


@pytest.mark.parametrize(("options", "task_options", "failing", "words"), [
    ({"raise_on_garbage": True}, {}, ["malformed actions"], "ValueError: cannot parse"),
    ({"noisy": True}, {}, ["seed determinism"], "same seed, different result after reset"),
    ({"close_raises": True}, {}, ["close twice"], "already closed"),
    ({"bad_reset_type": True}, {}, None, "returned str, expected Observation"),
    ({"unresettable": ("c-test-2",)}, {}, ["panel resets", "expert solves"],
     "1/8 tasks failed to reset: c-test-2: FileNotFoundError"),
    ({}, {"lazy_last": True}, ["expert solves"],
     "c-train-3: truncated after 3 steps without winning"),
    ({}, {"duplicate": True}, None, "repeats task id 'c-train-0'"),
    ({}, {"wrong_env": True}, None, "says env='other'"),
    ({}, {"unstable": True}, None, "differs between two calls"),
])
def test_each_fault_fails_its_check(host: PluginHost, options, task_options, failing,
                                    words: str) -> None:
    report = check_env("counter", host=host, options=options, task_options=task_options)
    assert not report.ok
    failed = _failed(report)
    if failing is not None:
        assert failed == failing, report.format()
    assert words in " ".join(r.message for r in report.failures), report.format()


def test_hanging_env_times_out(host: PluginHost) -> None:
    report = asyncio.run(acheck_env("counter", host=host, options={"hang": True}, timeout=0.05,
                                    max_tasks=1))
    assert "did not answer within 0.05s" in report.result("reset/step types").message
    assert report.result("panel resets").passed  # reset does not hang


def test_multi_agent_game_passes_and_its_faults_are_caught(host: PluginHost) -> None:
    report = check_env("counter-2p", host=host)
    assert report.ok, report.format()
    assert report.result("multi-agent seats").passed
    bad = check_env("counter-2p", host=host, options={"nan_seat_reward": True})
    assert _failed(bad) == ["rewards finite"]
    assert "reward of p1 is nan" in bad.result("rewards finite").message
    seats = check_env("counter-2p", host=host, options={"bad_seat": True})
    assert _failed(seats) == ["multi-agent seats"]
    assert "'nobody' is not one of ['p0', 'p1']" in seats.result("multi-agent seats").message


def test_toy_env_passes_in_full() -> None:
    host = PluginHost(builtins=("turnrl.plugins.toy",), entry_point_group=None)
    report = check_env("toy-env", host=host)
    assert report.ok, report.format()
    assert report.result("expert solves").message.startswith("expert solved 320 task(s)")


def test_assert_env_conforms_fails_with_the_report(host: PluginHost) -> None:
    assert assert_env_conforms("counter", host=host).ok
    with pytest.raises(AssertionError, match=r"(?s)FAILED.*\[fail\] malformed actions"):
        assert_env_conforms("counter", host=host, options={"raise_on_garbage": True})


def test_env_params_carry_registered_marks() -> None:
    class Plugin:
        @hookimpl
        def turnrl_register_envs(self, register):
            for name, opts in (("plain", {}), ("heavy", {"marks": ["docker", "slow"]}),
                               ("slowish", {"slow": True})):
                register(name, Counter, tasks=counter_tasks, check_options=opts)

    h = PluginHost(builtins=(), entry_point_group=None)
    h.register_plugin(Plugin(), "marks_plugin")
    params = {p.id: sorted(m.name for m in p.marks) for p in env_params(h)}
    assert params == {"heavy": ["docker", "slow"], "plain": [], "slowish": ["slow"]}


def test_report_serialises() -> None:
    host = PluginHost(builtins=("turnrl.plugins.toy",), entry_point_group=None)
    data = check_env("toy-env", host=host, max_tasks=1).to_dict()
    assert data["env"] == "toy-env"
    assert data["ok"] is True
    assert {c["status"] for c in data["checks"]} == {"pass"}


@parametrize_envs()
def test_every_registered_env_conforms(env_name: str) -> None:
    """Every environment any loaded plugin registers passes the checker (environments that
    need a tier declare ``check_options={"marks": [...]}`` when registering)."""
    report = assert_env_conforms(env_name)
    assert report.result("task panels").passed


def test_expert_min_success_allows_goals_unreachable_by_design(host: PluginHost) -> None:
    """A benchmark whose expert cannot win every goal (WebShop) registers the share it needs;
    the default still demands every task."""
    strict = check_env("counter", host=host, task_options={"lazy_last": True})
    assert "expert solves" in _failed(strict)
    lenient = check_env("counter", host=host, task_options={"lazy_last": True},
                        expert_min_success=0.75)
    message = lenient.result("expert solves").message
    assert lenient.ok, lenient.format()
    assert message.startswith("expert solved 6/8 task(s) (75.0%, needs 75%")
    assert "unsolved: c-test-3" in message
    short = check_env("counter", host=host, task_options={"lazy_last": True},
                      expert_min_success=0.8)
    assert "needs 80% solved" in short.result("expert solves").message
