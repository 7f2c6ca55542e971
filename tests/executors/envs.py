"""Environments for the executor tests. The tests that run them in Ray actors register this
module to be pickled by value (``cloudpickle.register_pickle_by_value``): the workers of a
test cluster need not have the repository on their path."""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

from turnrl.core.types import Observation, Task, Transition


class SleepEnv:
    """``steps`` steps of ``step_s`` seconds each (an engine elsewhere; a task's
    ``data["step_s"]`` overrides it); wins at the end."""

    resources: ClassVar[dict[str, float]] = {"cpus": 0.01, "per_actor": 16}

    def __init__(self, steps: int = 5, step_s: float = 0.0) -> None:
        self.steps, self.step_s, self.t = steps, step_s, 0

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        self.t = 0
        self.step_s = task.data.get("step_s", self.step_s)  # a task may set its own pace
        return Observation(f"start {task.id}", state_key="0", actions=("go", "wait"))

    async def step(self, action: str) -> Transition:
        if self.step_s:
            await asyncio.sleep(self.step_s)
        self.t += 1
        done = self.t >= self.steps
        return Transition(Observation(f"t={self.t}", state_key=str(self.t),
                                      actions=("go", "wait")),
                          reward=1.0 if done else 0.0, terminated=done, info={"won": done})

    async def close(self) -> None:
        return None


class FaultyEnv(SleepEnv):
    """Tasks whose id ends in ``-stall`` hang in their second step; ``-raise`` ones raise
    ``ConnectionError`` there; the others behave like ``SleepEnv``."""

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        self.mode = task.id.rsplit("-", 1)[-1]
        return await super().reset(task, seed=seed)

    async def step(self, action: str) -> Transition:
        if self.t == 1 and self.mode == "stall":
            await asyncio.sleep(3600)
        if self.t == 1 and self.mode == "raise":
            raise ConnectionError("engine went away")
        return await super().step(action)


class BlockingEnv(SleepEnv):
    """Blocks its thread in each step (``time.sleep``): declares ``blocking``, so it runs on
    worker threads, in an actor as in-process."""

    blocking = True

    def reset(self, task: Task, *, seed: int | None = None) -> Observation:  # type: ignore[override]
        self.t = 0
        return Observation("start", state_key="0", actions=("go",))

    def step(self, action: str) -> Transition:  # type: ignore[override]
        time.sleep(self.step_s)
        self.t += 1
        done = self.t >= self.steps
        return Transition(Observation(f"t={self.t}", actions=("go",)), terminated=done,
                          info={"won": done})

    def close(self) -> None:  # type: ignore[override]
        return None


class DuelEnv:
    """Two seats take turns for ``rounds`` rounds; seat rewards arrive in ``info['rewards']``."""

    seats = ("red", "blue")
    resources: ClassVar[dict[str, float]] = {"cpus": 0.01, "per_actor": 8}

    def __init__(self, rounds: int = 2) -> None:
        self.rounds = rounds

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        self.turn = 0
        return Observation("red to move", agent="red", actions=("a", "b"))

    async def step(self, action: str) -> Transition:
        self.turn += 1
        done = self.turn >= 2 * self.rounds
        seat = self.seats[self.turn % 2]
        rewards = {"red": 1.0, "blue": -1.0} if done else {}
        return Transition(Observation(f"{seat} to move", agent=None if done else seat,
                                      actions=("a", "b")), terminated=done,
                          info={"rewards": rewards} if rewards else {})

    async def close(self) -> None:
        return None


class Unpicklable:
    """An answer that cannot cross a process boundary."""

    def __reduce__(self) -> Any:
        raise TypeError("this answer does not pickle")


class OddAnswersEnv(SleepEnv):
    """``reset`` of a task ``*-odd`` returns an unpicklable object (a broken env)."""

    async def reset(self, task: Task, *, seed: int | None = None) -> Any:
        if task.id.endswith("-odd"):
            return Unpicklable()
        return await super().reset(task, seed=seed)


class PairedEnv(SleepEnv):
    """Two instances per worker (the fault tests kill one worker: two episodes go with it)."""

    resources: ClassVar[dict[str, float]] = {"cpus": 0.01, "per_actor": 2}


class BrowserEnv(SleepEnv):
    """Declares a resource no test cluster offers."""

    resources: ClassVar[dict[str, float]] = {"cpus": 0.1, "browser": 1}


def tasks(n: int, suffix: str = "", env: str = "test") -> list[Task]:
    return [Task(env=env, id=f"t{i}{suffix}", seed=i) for i in range(n)]


class TaggedDuelEnv(DuelEnv):
    """A duel whose seats get tags at reset (a game dealing roles): ``seat_tags()``."""

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        self.dealt = {"red": {"team": "r", "dealt": task.id}, "blue": {"team": "b",
                                                                       "dealt": task.id}}
        return await super().reset(task, seed=seed)

    def seat_tags(self) -> dict[str, dict[str, str]]:
        return getattr(self, "dealt", {})
