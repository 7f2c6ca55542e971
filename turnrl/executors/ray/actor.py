"""The worker side: one Ray actor hosts up to ``per_actor`` environment instances side by side.

The rollout engine steps each episode separately, but one Ray call per environment call would
cost more than a fast environment's step (a round trip is ~1 ms of driver CPU). So calls
travel in batches both ways: ``exchange(ops)`` starts a batch of operations (reset / step /
close of any hosted instance, each a task on the actor's event loop) and returns the results
that are ready -- as soon as at least one is, after lingering ``batch_window_s`` for more
while others are still running, or at once when nothing is left running. Only the newest
exchange waits: an older one still waiting returns (empty) when a newer one starts to, so
exchanges never pile up in the actor's concurrency slots behind slow calls. The driver keeps
an exchange in flight whenever it waits on this actor (``link.ActorLink``), so results come
back as they finish: a slow call holds back a fast one by at most the window.

Each result is encoded here, one by one (``wire``), so an instance that returns something
unpicklable fails its own call (with the reason), not the batch. Exceptions travel as
themselves when they pickle, else as a ``RemoteEnvError`` carrying the type name and message,
so the engine records the same ``env.step raised ConnectionError: ...`` text as in-process.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Mapping
from typing import Any

from turnrl.executors.ray.wire import decode, encode

RESET, STEP, CLOSE, DESCRIBE, SEAT_TAGS = 0, 1, 2, 3, 4
Op = tuple[int, int, int, Any]
"""``(op id, kind, instance id, argument)``: ``reset`` takes ``(task, seed)``, ``step`` the
action text, ``close``, ``describe`` and ``seat_tags`` nothing."""
Result = tuple[int, bool, bytes]
"""``(op id, ok, encoded value or exception)`` (``wire.encode``)."""


class RemoteEnvError(RuntimeError):
    """An environment call failed in the actor with an exception that could not travel."""


def resolve_factory(factory: Any) -> Callable[..., Any]:
    if isinstance(factory, str):
        from turnrl.core.host import import_target

        return import_target(factory)
    return factory


def _encoded_error(exc: BaseException) -> bytes:
    if isinstance(exc, asyncio.CancelledError):
        exc = RemoteEnvError("the call was cancelled in the actor (its instance was closed)")
    try:
        data = encode(exc)
        decode(data)  # some exceptions pickle but cannot be rebuilt (required arguments)
        return data
    except Exception:
        return encode(RemoteEnvError(f"{type(exc).__name__}: {exc}"))


class EnvHost:
    """Ray actor class (``ray.remote`` is applied by the pool, so this module imports without
    Ray). One factory and one set of options per actor: a pool is per environment."""

    def __init__(self, factory: Any, options: Mapping[str, Any], extras: Mapping[str, Any],
                 batch_window_s: float) -> None:
        self.factory = factory
        self.options = dict(options)
        self.extras = dict(extras)
        self.window = batch_window_s
        self.envs: dict[int, Any] = {}
        self.running: dict[int, asyncio.Task[Any]] = {}  # instance id -> its call in progress
        self.done: list[Result] = []
        self.pending = 0
        self.generation = 0  # of the exchange that waits for results
        self._wake: asyncio.Event | None = None

    # ------------------------------------------------------------------ identity
    async def ready(self) -> dict[str, Any]:
        """Where this actor runs; also proves the factory resolves here (plugin installed)."""
        import ray

        self.factory = resolve_factory(self.factory)
        return {"node_id": ray.get_runtime_context().get_node_id(), "pid": os.getpid(),
                "host": f"{socket.gethostname()}@{ray.util.get_node_ip_address()}"}

    # ------------------------------------------------------------------ batched calls
    async def exchange(self, ops: list[Op]) -> list[Result]:
        wake = self._event()
        for op in ops:
            self._start(op)
        if ops:
            await asyncio.sleep(0)  # calls that finish without waiting return in this reply
        if not self.done:
            if not self.pending:
                return []
            # The newest exchange waits; an older one still waiting returns now (empty). One
            # waits at a time, and the newest is the one the driver counts as in flight (an
            # exchange a finished run left waiting would otherwise keep the answers).
            self.generation += 1
            me = self.generation
            wake.set()
            while not self.done:
                if not self.pending or self.generation != me:
                    return []
                wake.clear()
                await wake.wait()
            if self.pending and self.window > 0 and self.generation == me:
                await asyncio.sleep(self.window)  # collect what finishes soon after
        out, self.done = self.done, []
        return out

    def _event(self) -> asyncio.Event:
        if self._wake is None:  # created on the actor's event loop
            self._wake = asyncio.Event()
        return self._wake

    def _start(self, op: Op) -> None:
        op_id, kind, env_id, arg = op
        self.pending += 1
        task = asyncio.get_running_loop().create_task(self._call(kind, env_id, arg))
        if kind != CLOSE:
            self.running[env_id] = task
        # A done callback, not a ``finally`` in the task: it runs even for a task cancelled
        # before it started (a close that arrives in the same batch as a call it cancels).
        task.add_done_callback(lambda t: self._finished(op_id, kind, env_id, t))

    def _finished(self, op_id: int, kind: int, env_id: int, task: asyncio.Task[Any]) -> None:
        if kind != CLOSE and self.running.get(env_id) is task:
            del self.running[env_id]
        try:
            payload, ok = encode(task.result()), True
        except BaseException as exc:  # every failure goes back to the caller, as data
            payload, ok = _encoded_error(exc), False
        self.done.append((op_id, ok, payload))
        self.pending -= 1
        self._event().set()

    async def _call(self, kind: int, env_id: int, arg: Any) -> Any:
        if kind == RESET:
            task, seed = arg
            env = self.envs.get(env_id)
            if env is None:
                env = self.envs[env_id] = self._make()
            return await env.reset(task, seed=seed)
        if kind == STEP:
            env = self.envs.get(env_id)
            if env is None:
                raise RemoteEnvError("step() before reset(): this instance was never started")
            return await env.step(arg)
        if kind == CLOSE:
            return await self._close(env_id)
        if kind == DESCRIBE:
            return await self._describe()
        if kind == SEAT_TAGS:  # a multi-agent game's seat tags (roles), dealt at reset
            env = self.envs.get(env_id)
            fn = getattr(env, "seat_tags", None)
            return dict(fn()) if callable(fn) else {}
        raise RemoteEnvError(f"unknown operation {kind}")

    def _make(self) -> Any:
        from turnrl.core.offload import off_loop

        factory = resolve_factory(self.factory)
        try:
            env = factory(**self.options)
        except Exception as exc:
            raise RemoteEnvError(f"creating the environment raised {type(exc).__name__}: "
                                 f"{exc}") from exc
        return off_loop(env, self.extras)

    async def _close(self, env_id: int) -> None:
        """Close one instance; a call of it still running (timed out on the driver) is
        cancelled first, as far as its engine lets itself be cancelled."""
        running = self.running.pop(env_id, None)
        if running is not None and not running.done():
            running.cancel()
        env = self.envs.pop(env_id, None)
        if env is not None:
            await env.close()

    async def _describe(self) -> dict[str, Any]:
        """Attributes the engine reads before ``reset`` (``seats``), from a probe instance."""
        env = self._make()
        try:
            seats = getattr(env, "seats", None)
            return {"seats": list(seats) if seats else None,
                    "seat_tags": callable(getattr(env, "seat_tags", None))}
        finally:
            await env.close()

    async def watch(self) -> None:
        """Never returns: the driver holds this call open and learns of the actor's death
        from its failure, even while no environment call is in flight."""
        await asyncio.Event().wait()

    # ------------------------------------------------------------------ test hooks
    async def hosted(self) -> int:
        """How many instances live here (tests: closed instances must not leak)."""
        return len(self.envs)
