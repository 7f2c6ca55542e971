"""Conformance checker: does a registered environment keep the episode contract?

``turnrl check ENV`` and ``turnrl.testing`` both call ``check_env``. It plays the environment
with no model and reports named checks, each passed, failed or skipped with a one-line message:
task panels (non-empty, duplicate-free, for this env, identical on a second call), reset/step
types (and JSON-safe ``info``), malformed actions answered not raised, ``close()`` twice, seed
determinism (two fresh instances, same task, seed and actions -> same observations, rewards,
ends), every panel task resets, the registered expert wins every task within the env's own step
limit (multi-agent: plays every seat to the end), finite rewards (including multi-agent
``info["rewards"]``), and for multi-agent envs that every ``observation.agent`` is a seat.

Per-environment defaults can be registered as ``check_options={...}`` (kept in
``EnvSpec.extras``): ``max_tasks``, ``splits``, ``options``, ``task_options``, ``timeout``,
``max_episode_steps``, ``expert_min_success`` (default 1.0: the expert must win every task; a
benchmark with goals unreachable by design, like WebShop's, registers the share it needs).
Explicit arguments win. Environment faults never raise out of the
checker: they become failed checks.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from turnrl.core.check_report import CheckFailed, CheckReport, CheckResult, Status
from turnrl.core.env import EnvSpec
from turnrl.core.types import Observation, Task, Transition

__all__ = ["CheckFailed", "CheckReport", "CheckResult", "acheck_env", "check_env"]

MALFORMED_ACTIONS: tuple[str, ...] = (
    "",
    "   \n\t",
    "}{ <|im_end|> ✗ \x00 DROP TABLE; ((((",
    "x" * 5000,
)
"""Actions every environment must answer without raising (plus one seeded random string)."""


def check_env(env_name: str, **kwargs: Any) -> CheckReport:
    """Synchronous wrapper of ``acheck_env`` (for the CLI and tests outside an event loop)."""
    return asyncio.run(acheck_env(env_name, **kwargs))


async def acheck_env(env_name: str, *, split: str | None = None, max_tasks: int | None = None,
                     host: Any = None, options: dict[str, Any] | None = None,
                     task_options: dict[str, Any] | None = None, timeout: float | None = None,
                     max_episode_steps: int | None = None, concurrency: int = 8,
                     expert_min_success: float | None = None) -> CheckReport:
    """Run every check on ``env_name`` and return the report (never raises for env faults).

    ``split`` limits the checked panels to one split; ``max_tasks`` caps each panel;
    ``options`` go to the environment factory, ``task_options`` to the panel builder;
    ``timeout`` bounds every single environment call (seconds); ``max_episode_steps`` is a
    hard cap for environments without their own step limit.
    """
    if host is None:
        from turnrl.core.host import get_host

        host = get_host()
    spec: EnvSpec = host.env(env_name)  # unknown name -> PluginError for the caller
    defaults: dict[str, Any] = dict(spec.extras.get("check_options") or {})
    if split is not None and split not in spec.splits:
        from turnrl.core.host import PluginError

        raise PluginError(f"environment {env_name!r} has no split {split!r}; "
                          f"splits: {', '.join(spec.splits)}")
    checker = _Checker(
        host=host, spec=spec,
        splits=(split,) if split else tuple(defaults.get("splits") or spec.splits),
        max_tasks=max_tasks if max_tasks is not None else defaults.get("max_tasks"),
        options=options if options is not None else dict(defaults.get("options") or {}),
        task_options=task_options if task_options is not None
        else dict(defaults.get("task_options") or {}),
        timeout=float(timeout or defaults.get("timeout") or 60.0),
        max_episode_steps=int(max_episode_steps or defaults.get("max_episode_steps") or 1000),
        concurrency=max(1, concurrency),
        expert_min_success=float(expert_min_success if expert_min_success is not None
                                 else defaults.get("expert_min_success", 1.0)),
    )
    return await checker.run()


@dataclass
class _Checker:
    host: Any
    spec: EnvSpec
    splits: tuple[str, ...]
    max_tasks: int | None
    options: dict[str, Any]
    task_options: dict[str, Any]
    timeout: float
    max_episode_steps: int
    concurrency: int
    expert_min_success: float = 1.0
    reward_problems: list[str] = field(default_factory=list)
    seat_problems: list[str] = field(default_factory=list)
    rewards_seen: int = 0

    async def run(self) -> CheckReport:
        report = CheckReport(self.spec.name)
        panels: dict[str, list[Task]] = {}

        async def check_panels() -> str:
            panels.update(self.load_panels())
            return ", ".join(f"{s}: {len(t)} task(s)" for s, t in panels.items())

        await self._run(report, "task panels", check_panels)
        if not panels:
            for name in ("reset/step types", "malformed actions", "close twice",
                         "seed determinism", "panel resets", "expert solves"):
                report.results.append(CheckResult(name, "skip", "no task panel to play"))
            return report
        first = next(iter(panels.values()))[0]
        await self._run(report, "reset/step types", lambda: self.check_types(first))
        await self._run(report, "malformed actions", lambda: self.check_malformed(first))
        await self._run(report, "close twice", lambda: self.check_close(first))
        await self._run(report, "seed determinism", lambda: self.check_determinism(first))
        everything = [t for tasks in panels.values() for t in tasks]
        await self._run(report, "panel resets", lambda: self.check_resets(everything))
        if self.spec.expert is None:
            report.results.append(CheckResult("expert solves", "skip", "no expert registered"))
        else:
            await self._run(report, "expert solves", lambda: self.check_expert(everything))
        report.results.append(self._summary(
            "rewards finite", self.reward_problems, f"{self.rewards_seen} reward(s) checked"))
        if self.spec.multi_agent:
            report.results.append(self._summary(
                "multi-agent seats", self.seat_problems, "every observation names a seat"))
        return report

    async def _run(self, report: CheckReport, name: str,
                   body: Callable[[], Awaitable[str]]) -> None:
        start = time.perf_counter()
        try:
            message = await body()
            status: Status = "pass"
        except CheckFailed as exc:
            message, status = str(exc), "fail"
        except Exception as exc:
            message, status = _describe(exc), "fail"
        report.results.append(CheckResult(name, status, message, time.perf_counter() - start))

    @staticmethod
    def _summary(name: str, problems: list[str], ok_message: str) -> CheckResult:
        if problems:
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            return CheckResult(name, "fail", "; ".join(problems[:3]) + more)
        return CheckResult(name, "pass", ok_message)

    # ------------------------------------------------------------------ env calls
    async def _call(self, what: str, awaitable: Awaitable[Any]) -> Any:
        try:
            return await asyncio.wait_for(awaitable, self.timeout)
        except asyncio.TimeoutError:
            raise CheckFailed(f"{what} did not answer within {self.timeout:g}s") from None

    async def _reset(self, env: Any, task: Task, **kw: Any) -> Observation:
        obs = await self._call(f"reset({task.id})", env.reset(task, **kw))
        if not isinstance(obs, Observation):
            raise CheckFailed(f"reset({task.id}) returned {type(obs).__name__}, "
                              f"expected Observation")
        self._check_seat(env, obs, task)
        return obs

    async def _step(self, env: Any, task: Task, action: str) -> Transition:
        tr = await self._call(f"step({action[:40]!r}) on {task.id}", env.step(action))
        if not isinstance(tr, Transition):
            raise CheckFailed(f"step on {task.id} returned {type(tr).__name__}, "
                              f"expected Transition")
        try:
            json.dumps(tr.info)
        except (TypeError, ValueError) as exc:
            raise CheckFailed(f"step on {task.id}: info is not JSON-safe ({exc})") from None
        self._record_rewards(task, tr)
        if not tr.done:  # after the end nobody has to act: agent may be None
            self._check_seat(env, tr.observation, task)
        return tr

    def _record_rewards(self, task: Task, tr: Transition) -> None:
        self.rewards_seen += 1
        if not math.isfinite(tr.reward):
            self.reward_problems.append(f"{task.id}: reward {tr.reward!r}")
        rewards = tr.info.get("rewards")
        if self.spec.multi_agent and rewards is not None:
            if not isinstance(rewards, dict):
                self.reward_problems.append(f"{task.id}: info['rewards'] is not a dict")
                return
            for seat, value in rewards.items():
                self.rewards_seen += 1
                if not isinstance(value, int | float) or not math.isfinite(value):
                    self.reward_problems.append(f"{task.id}: reward of {seat} is {value!r}")

    def _check_seat(self, env: Any, obs: Observation, task: Task) -> None:
        if not self.spec.multi_agent:
            return
        seats = getattr(env, "seats", None)
        if not seats or isinstance(seats, str) or not all(isinstance(s, str) for s in seats):
            self.seat_problems.append(f"{task.id}: env.seats is {seats!r}, expected seat names")
        elif obs.agent not in seats:
            self.seat_problems.append(f"{task.id}: observation.agent {obs.agent!r} "
                                      f"is not one of {list(seats)}")

    def _make(self) -> Any:
        return self.host.make(self.spec.name, **self.options)

    async def _close(self, env: Any) -> None:
        await self._call("close()", env.close())

    # ------------------------------------------------------------------ checks
    def load_panels(self) -> dict[str, list[Task]]:
        panels: dict[str, list[Task]] = {}
        for split in self.splits:
            tasks = self.host.tasks(self.spec.name, split, **self.task_options)
            again = self.host.tasks(self.spec.name, split, **self.task_options)
            if not tasks:
                raise CheckFailed(f"split {split!r} has no tasks")
            bad = [t for t in tasks if not isinstance(t, Task)]
            if bad:
                raise CheckFailed(f"split {split!r} holds {type(bad[0]).__name__}, expected Task")
            ids = [t.id for t in tasks]
            if len(set(ids)) != len(ids):
                dup = next(i for i in ids if ids.count(i) > 1)
                raise CheckFailed(f"split {split!r} repeats task id {dup!r}")
            wrong = [t for t in tasks if t.env != self.spec.name or t.split != split]
            if wrong:
                t = wrong[0]
                raise CheckFailed(f"task {t.id} says env={t.env!r} split={t.split!r}, "
                                  f"expected env={self.spec.name!r} split={split!r}")
            if [t.to_dict() for t in tasks] != [t.to_dict() for t in again]:
                raise CheckFailed(f"split {split!r} differs between two calls (panels must "
                                  f"be fixed)")
            panels[split] = tasks[: self.max_tasks] if self.max_tasks else tasks
        return panels

    async def check_types(self, task: Task) -> str:
        env = self._make()
        try:
            obs = await self._reset(env, task)
            tr = await self._step(env, task, self._probe_action(obs, 0))
        finally:
            await self._close(env)
        return (f"reset -> Observation, step -> Transition (reward {tr.reward:g}, "
                f"{'admissible actions listed' if obs.actions else 'no admissible list'})")

    async def check_malformed(self, task: Task) -> str:
        rng = random.Random(f"turnrl-check/{task.id}")
        garbage = "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(64))
        answered = []
        for action in (*MALFORMED_ACTIONS, garbage):
            env = self._make()
            try:
                await self._reset(env, task)
                try:
                    tr = await self._step(env, task, action)
                except CheckFailed:
                    raise
                except Exception as exc:
                    raise CheckFailed(f"step({action[:30]!r}) raised {_describe(exc)}; "
                                      f"malformed actions must be answered") from None
                answered.append(tr.info.get("valid_action"))
            finally:
                await self._close(env)
        flagged = sum(v is False for v in answered)
        return f"{len(answered)} malformed actions answered ({flagged} flagged valid_action=False)"

    async def check_close(self, task: Task) -> str:
        for reset_first in (False, True):
            env = self._make()
            if reset_first:
                await self._reset(env, task)
            await self._close(env)
            await self._close(env)
        return "close() twice is fine, before and after reset"

    async def check_determinism(self, task: Task) -> str:
        traces = []
        for kw in ({}, {"seed": task.seed}):
            traces.append(await self._play(task, kw, limit=min(12, self.max_episode_steps)))
        (actions, a), (_, b) = traces
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if x != y:
                what = "reset" if i == 0 else f"step {i} ({actions[i - 1]!r})"
                raise CheckFailed(f"{task.id}: same seed, different result after {what}: "
                                  f"{_short(x)} vs {_short(y)}")
        if len(a) != len(b):
            raise CheckFailed(f"{task.id}: same seed, episodes of {len(a)} and {len(b)} steps")
        return f"{task.id}: {len(actions)} identical steps from two instances"

    async def _play(self, task: Task, reset_kw: dict[str, Any],
                    limit: int) -> tuple[list[str], list[Any]]:
        env = self._make()
        actions: list[str] = []
        try:
            obs = await self._reset(env, task, **reset_kw)
            trace: list[Any] = [obs.to_dict()]
            for i in range(limit):
                action = self._probe_action(obs, i)
                actions.append(action)
                tr = await self._step(env, task, action)
                obs = tr.observation
                trace.append((obs.to_dict(), tr.reward, tr.terminated, tr.truncated))
                if tr.done:
                    break
        finally:
            await self._close(env)
        return actions, trace

    async def _each(self, tasks: Sequence[Task],
                    body: Callable[[Task], Awaitable[Any]]) -> tuple[list[Any], list[str]]:
        """``body(task)`` over ``tasks``, ``concurrency`` at a time: results and failures."""
        gate = asyncio.Semaphore(self.concurrency)
        results: list[Any] = []
        failures: list[str] = []

        async def one(task: Task) -> None:
            async with gate:
                try:
                    results.append(await body(task))
                except Exception as exc:
                    failures.append(f"{task.id}: {_describe(exc)}")

        await asyncio.gather(*(one(t) for t in tasks))
        return results, sorted(failures)

    async def check_resets(self, tasks: Sequence[Task]) -> str:
        async def reset(task: Task) -> None:
            env = self._make()
            try:
                await self._reset(env, task)
            finally:
                await self._close(env)

        _, failures = await self._each(tasks, reset)
        if failures:
            raise CheckFailed(f"{len(failures)}/{len(tasks)} tasks failed to reset: "
                              + "; ".join(failures[:3]))
        return f"{len(tasks)} task(s) reset"

    async def check_expert(self, tasks: Sequence[Task]) -> str:
        steps, failures = await self._each(tasks, self._solve)
        solved = len(tasks) - len(failures)
        if failures and solved < self.expert_min_success * len(tasks):
            raise CheckFailed(f"expert failed {len(failures)}/{len(tasks)} tasks"
                              + (f" (needs {self.expert_min_success:.0%} solved)"
                                 if self.expert_min_success < 1 else "")
                              + ": " + "; ".join(failures[:3]))
        mean = f"mean {sum(steps) / len(steps):.1f} steps" if steps else "no steps"
        if failures:
            return (f"expert solved {solved}/{len(tasks)} task(s) ({solved / len(tasks):.1%}, "
                    f"needs {self.expert_min_success:.0%}; {mean}); unsolved: "
                    + "; ".join(failures[:3]))
        return f"expert solved {len(tasks)} task(s) ({mean})"

    async def _solve(self, task: Task) -> int:
        assert self.spec.expert is not None
        expert = self.spec.expert(task)
        env = self._make()
        try:
            obs = await self._reset(env, task)
            for n in range(1, self.max_episode_steps + 1):
                tr = await self._step(env, task, expert.act(obs))
                obs = tr.observation
                if tr.terminated and (self.spec.multi_agent or tr.info.get("won")):
                    return n
                if tr.done:
                    end = "truncated" if tr.truncated else "terminated"
                    raise CheckFailed(f"{end} after {n} steps without winning")
            raise CheckFailed(f"no end after {self.max_episode_steps} steps")
        finally:
            await self._close(env)

    @staticmethod
    def _probe_action(obs: Observation, i: int) -> str:
        """A deterministic, plausible action when there is no expert to ask."""
        if obs.actions:
            return obs.actions[i % len(obs.actions)]
        return ("look", "help", "wait")[i % 3]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, CheckFailed):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _short(value: Any, width: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."
