"""Blocking environments run off the event loop: one worker thread per environment instance.

Many real engines block: TextWorld's PDDL planner (seconds per reset), a browser driven
synchronously, a sandbox client without an async API. Awaited on the rollout's event loop they
stop everything else -- other episodes, the batching policy, and the watchdog that enforces
timeouts. An environment declares this once, and the host wraps every instance it makes:

* at registration, ``register(name, factory, ..., blocking=True)`` (``EnvSpec.extras``), or
* on the class (or instance), ``blocking = True`` -- for a plugin where only some backends
  block (ALFWorld: the pure-Python simulator does not, the real TextWorld engine does).

``OffLoopEnv`` then runs each ``reset`` / ``step`` / ``close`` on the instance's own worker
thread, whether the method is a plain function or an ``async def`` that blocks inside (it gets
an event loop of its own on that thread). One thread per instance keeps an engine on the
thread that built it (many are not thread-safe) and lets instances run side by side; the
rollout's guarded calls await the result, so a stalled engine call times out like any other
(the thread is a daemon: an engine stuck for good cannot keep the process alive at exit).
Pure-Python engines still share the GIL, so CPU-bound ones overlap only where they release it
(I/O, subprocesses, C code); the loop stays responsive either way (``benchmarks/
rollout_blocking.py``). Another executor (a Ray actor, a process) can take the same
declaration.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import threading
from collections.abc import Callable
from typing import Any

from turnrl.core.types import Observation, Task, Transition

_ids = itertools.count()


def declares_blocking(env: Any, extras: dict[str, Any] | None = None) -> bool:
    """Whether an environment instance (or its registration ``extras``) says it blocks."""
    return bool((extras or {}).get("blocking")) or bool(getattr(env, "blocking", False))


class OffLoopEnv:
    """Wraps a blocking environment so that its calls run on a worker thread of its own.

    Other attributes (``seats``, ``max_steps``, ...) are read through from the wrapped env.
    """

    blocking = False  # already off the loop: wrapping it again would add a second thread

    def __init__(self, env: Any) -> None:
        self.env = env
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    def __getattr__(self, name: str) -> Any:  # only called for names not found on the wrapper
        return getattr(self.env, name)

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        return await self._call(self.env.reset, task, seed=seed)

    async def step(self, action: str) -> Transition:
        return await self._call(self.env.step, action)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._loop is not None:
                await self._call(self.env.close, force=True)
            else:  # never used: nothing runs on a worker yet
                result = self.env.close()
                if inspect.isawaitable(result):
                    await result
        finally:
            self._stop()

    # ------------------------------------------------------------------ worker
    async def _call(self, method: Callable[..., Any], *args: Any, force: bool = False,
                    **kwargs: Any) -> Any:
        if self._closed and not force:
            raise RuntimeError(f"{type(self.env).__name__} used after close()")
        loop = self._worker_loop()
        future = asyncio.run_coroutine_threadsafe(_invoke(method, args, kwargs), loop)
        # Cancelling this await (a timeout) cancels the worker's coroutine where it can be;
        # a call blocked inside the engine finishes on its thread, unobserved.
        return await asyncio.wrap_future(future)

    def _worker_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()
                # Calls submitted while a stalled one blocked the thread (the rollout's close,
                # after its timeout) still run: a hung engine that recovers gets closed.
                pending = asyncio.all_tasks(loop)
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.close()

            self._thread = threading.Thread(target=run, daemon=True,
                                            name=f"turnrl-env-{next(_ids)}")
            self._thread.start()
            ready.wait()
            self._loop = loop
        return self._loop

    def _stop(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)


async def _invoke(method: Callable[..., Any], args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> Any:
    result = method(*args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


def off_loop(env: Any, extras: dict[str, Any] | None = None) -> Any:
    """``env`` itself, or ``OffLoopEnv(env)`` when it (or its registration) declares blocking."""
    return OffLoopEnv(env) if declares_blocking(env, extras) else env
