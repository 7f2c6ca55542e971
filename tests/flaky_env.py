"""``flaky-toy``: toy-env whose every third task fails (``env.step`` raises) while an outage
is on. Registered by name through a throwaway plugin (``flaky_env`` fixture in the tests that
use it), so the CLI and the trainer reach it the way they reach any environment."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from turnrl.core.hookspecs import hookimpl
from turnrl.core.host import get_host
from turnrl.core.types import Observation, Task, Transition
from turnrl.plugins.toy.env import GridEnv
from turnrl.plugins.toy.expert import GridExpert
from turnrl.plugins.toy.tasks import make_tasks

NAME = "flaky-toy"
OUTAGE = {"on": True}
"""Switch the failures off (``OUTAGE["on"] = False``) to model the outage ending."""


def fails(task: Task) -> bool:
    """Every third task of a panel (by index) fails during an outage."""
    return int(task.id.rsplit("-", 1)[1]) % 3 == 0


class FlakyGrid(GridEnv):
    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        self._fails = OUTAGE["on"] and fails(task)
        return await super().reset(task, seed=seed)

    async def step(self, action: str) -> Transition:
        if self._fails:
            raise ConnectionError("engine went away")
        return await super().step(action)


def _tasks(split: str, **options: Any) -> list[Task]:
    return make_tasks(split, **options)


class FlakyPlugin:
    @hookimpl
    def turnrl_register_envs(self, register: Callable[..., None]) -> None:
        register(NAME, FlakyGrid, tasks=_tasks, expert=GridExpert,
                 splits=("train", "valid", "test"), description="toy-env with an outage")


def registered() -> Iterator[None]:
    """Register ``flaky-toy`` on the process-wide host for one test (a fixture body)."""
    OUTAGE["on"] = True
    host = get_host()
    host.register_plugin(FlakyPlugin(), "flaky")
    try:
        yield
    finally:
        host.unregister_plugin("flaky")
        OUTAGE["on"] = True
