"""Blocking environments run off the event loop (issue 11 item 8): declared once, at
registration or on the class; a stalled engine call times out; the loop stays free."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import ClassVar

import pytest

from turnrl.core.hookspecs import hookimpl
from turnrl.core.host import PluginHost
from turnrl.core.offload import OffLoopEnv, off_loop
from turnrl.core.rollout import RolloutConfig, run_groups
from turnrl.core.types import Observation, Task, Transition
from turnrl.inference import make_policy

TASKS = [Task(env="blocky", id=f"b-{i}", seed=i, data={"stall": i == 1}) for i in range(4)]


class BlockingEngine:
    """A synchronous engine behind ``async def``: every call blocks its thread for 0.1 s; the
    task marked ``stall`` blocks for 3 s in its first step (a hung engine)."""

    blocking = True
    threads: ClassVar[set[str]] = set()

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        self.task, self.t = task, 0
        time.sleep(0.1)
        type(self).threads.add(threading.current_thread().name)
        return Observation("start", state_key="0", actions=("go",))

    async def step(self, action: str) -> Transition:
        time.sleep(3 if self.task.data["stall"] else 0.1)
        self.t += 1
        return Transition(Observation(f"t{self.t}", state_key=str(self.t), actions=("go",)),
                          reward=1.0, terminated=self.t >= 2, info={"won": self.t >= 2})

    def close(self) -> None:  # a plain function works too
        self.closed = True


class NotDeclared(BlockingEngine):
    blocking = False

    async def close(self) -> None:  # type: ignore[override]
        self.closed = True


def _play(factory: Callable[[], object], timeout: float = 0.4) -> tuple[list, float]:
    cfg = RolloutConfig(env_timeout_s=timeout, max_concurrent_episodes=8)
    t0 = time.perf_counter()
    groups = asyncio.run(run_groups(factory, TASKS, make_policy("scripted:random"),
                                    config=cfg))
    return [e for g in groups for e in g.episodes], time.perf_counter() - t0


def test_a_declared_blocking_env_runs_off_the_loop_and_its_stall_times_out() -> None:
    BlockingEngine.threads = set()
    eps, wall = _play(BlockingEngine)
    status = {e.task.id: e.status for e in eps}
    assert status == {"b-0": "ok", "b-1": "timeout", "b-2": "ok", "b-3": "ok"}
    assert "env.step timed out after 0.4s" in eps[1].error
    assert "env.close timed out" in eps[1].error  # the hung engine cannot close either
    # 4 episodes x 0.3 s of blocking each ran side by side and the stall cost its timeouts
    # (step and close, 0.4 s each); serially this is >= 3 x 0.3 + 0.1 + 3 = 4 s
    assert wall < 2.5
    assert len(BlockingEngine.threads) == 4  # one worker thread per instance
    assert all(name.startswith("turnrl-env-") for name in BlockingEngine.threads)


def test_an_undeclared_blocking_env_stalls_the_loop() -> None:
    """The control: the same engine without the declaration blocks the event loop, so the
    stall cannot be timed out and the episodes run one after another."""
    eps, wall = _play(NotDeclared)
    assert wall > 3.0  # the 3 s stall held the whole loop: no 0.4 s timeout could fire in it
    stalled = eps[1]
    assert stalled.status != "timeout" or "step" not in stalled.error


def test_registration_extra_declares_it_for_every_instance() -> None:
    class Plain(NotDeclared):
        pass

    class Plugin:
        @hookimpl
        def turnrl_register_envs(self, register):  # type: ignore[no-untyped-def]
            register("blocky", Plain, tasks=lambda split: TASKS, blocking=True)
            register("fast", Plain, tasks=lambda split: TASKS)

    host = PluginHost(builtins=(), entry_point_group=None)
    host.register_plugin(Plugin(), "blocky")
    assert isinstance(host.make("blocky"), OffLoopEnv)
    assert isinstance(host.make("fast"), Plain)
    wrapped = off_loop(BlockingEngine())
    assert off_loop(wrapped) is wrapped  # never wrapped twice


def test_wrapper_reads_through_closes_once_and_refuses_use_after_close() -> None:
    env = OffLoopEnv(BlockingEngine())

    async def go() -> None:
        obs = await env.reset(TASKS[0])
        assert obs.text == "start"
        assert env.task is TASKS[0]  # attributes of the wrapped env read through
        await env.close()
        await env.close()
        assert env.env.closed
        with pytest.raises(RuntimeError, match="used after close"):
            await env.step("go")

    asyncio.run(go())
    assert env._thread is not None
    env._thread.join(2)
    assert not env._thread.is_alive()  # the worker ends with the env


def test_alfworld_textworld_backend_declares_blocking() -> None:
    from turnrl.plugins.alfworld.textworld_backend import AlfworldTextWorld

    assert AlfworldTextWorld.blocking is True
