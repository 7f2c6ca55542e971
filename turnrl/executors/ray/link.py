"""The driver side of one environment actor: batched calls, and the ``Env`` the engine awaits.

``ActorLink.call`` returns an asyncio future at once and queues the operation; every operation
queued in one turn of the event loop leaves in one ``exchange`` call (``actor.EnvHost``), and
while any operation waits on the actor one exchange is kept in flight to bring results back.
The Ray reply is bridged onto the event loop of the current run (runs of the rollout engine
each have their own loop: ``asyncio.run`` per training iteration); a reply to an exchange an
earlier run sent is still read, since it may carry this run's answers.

An actor that dies (killed, out of memory, its node gone) fails every operation it owed and
every later one with ``EnvActorLost``; the engine turns that into ``env_error`` for those
episodes and keeps their steps. The pool learns of the death from a call that never returns
until the actor dies (``watch``), so it replaces the actor even when nobody is waiting on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections.abc import Awaitable, Callable
from typing import Any

from turnrl.core.types import Observation, Task, Transition
from turnrl.executors.ray.actor import CLOSE, DESCRIBE, RESET, SEAT_TAGS, STEP, Op
from turnrl.executors.ray.wire import decode

_op_ids = itertools.count()


class EnvActorLost(RuntimeError):
    """The Ray actor hosting an environment instance died; the instance is gone with it."""


class ActorLink:
    """One actor of a pool: its handle, where it runs, its slots, and the batching mailbox."""

    def __init__(self, handle: Any, where: dict[str, Any], slots: int,
                 on_lost: Callable[[ActorLink], None]) -> None:
        self.handle = handle
        self.node_id: str = where["node_id"]
        self.pid: int = where["pid"]
        self.host: str = where["host"]
        self.slots = slots
        self.used = 0
        self.alive = True
        self.reason = ""
        self._on_lost = on_lost
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outbox: list[Op] = []
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._in_flight = 0
        self._flush_soon = False
        self._epoch = 0
        self._watch: Any = None
        self.exchanges = 0
        """Exchange calls sent so far (the benchmark reports operations per exchange)."""

    def __repr__(self) -> str:
        return f"<actor pid {self.pid} on {self.host} ({self.node_id[:8]})>"

    # ------------------------------------------------------------------ calls
    def call(self, kind: int, env_id: int, arg: Any) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._adopt(loop)
        fut = loop.create_future()
        if not self.alive:
            fut.set_exception(self.lost())
            return fut
        op_id = next(_op_ids)
        self._waiting[op_id] = fut
        self._outbox.append((op_id, kind, env_id, arg))
        if not self._flush_soon:
            self._flush_soon = True
            loop.call_soon(self._flush)
        return fut

    def lost(self) -> EnvActorLost:
        return EnvActorLost(f"the Ray actor hosting this environment died (pid {self.pid} on "
                            f"{self.host}, node {self.node_id[:8]}): {self.reason}")

    def _adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        """A new event loop (a new rollout run): what the old one waited for is void. Its
        exchanges still in flight are not counted any more, but their replies are still read
        (on this loop): they may carry answers to this run's calls (operation ids are
        unique), and the actor answers every operation exactly once."""
        self._loop = loop
        self._epoch += 1
        self._outbox = []
        self._waiting = {}
        self._in_flight = 0
        self._flush_soon = False

    def _flush(self) -> None:
        self._flush_soon = False
        if self.alive and self._outbox:
            ops, self._outbox = self._outbox, []
            self._send(ops)

    def _send(self, ops: list[Op]) -> None:
        self._in_flight += 1
        self.exchanges += 1
        epoch = self._epoch
        ref = self.handle.exchange.remote(ops)

        def reply(cf: Any) -> None:  # on a Ray thread: hop onto the current run's loop
            loop = self._loop
            if loop is not None:
                with contextlib.suppress(RuntimeError):  # it has ended: nobody waits
                    loop.call_soon_threadsafe(self._on_reply, epoch, cf)

        ref.future().add_done_callback(reply)

    def _on_reply(self, epoch: int, cf: Any) -> None:
        if epoch == self._epoch:
            self._in_flight -= 1
        try:
            results = cf.result()
        except Exception as exc:  # RayActorError, ActorUnavailableError, ...
            self.mark_lost(_first_line(exc))
            return
        waiting = self._waiting
        for op_id, ok, payload in results:
            fut = waiting.pop(op_id, None)
            if fut is None or fut.done():  # cancelled by a timeout, or an earlier run's
                continue
            try:
                value = decode(payload)
            except Exception as exc:
                fut.set_exception(EnvActorLost(f"could not unpickle the actor's answer: "
                                               f"{type(exc).__name__}: {exc}"))
                continue
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)
        if len(waiting) > len(self._outbox) and not self._in_flight and self.alive:
            self._send([])  # results still owed: keep one exchange in flight to fetch them

    def watch(self) -> None:
        """Hold ``EnvHost.watch`` open; its failure is the news that the actor died."""
        ref = self.handle.watch.remote()

        def died(cf: Any) -> None:  # on a Ray thread
            try:
                cf.result()
                reason = "its watch call returned"
            except Exception as exc:
                reason = _first_line(exc)
            loop = self._loop
            if loop is not None:
                try:
                    loop.call_soon_threadsafe(self.mark_lost, reason)
                    return
                except RuntimeError:  # no rollout running: nothing waits, mark it here
                    pass
            self.mark_lost(reason, on_loop=False)

        self._watch = ref  # keep the reference alive
        ref.future().add_done_callback(died)

    def mark_lost(self, reason: str, *, on_loop: bool = True) -> None:
        """The actor is gone: fail what it owed (on its loop), tell the pool once."""
        if not self.alive:
            return
        self.alive = False
        self.reason = reason
        error = self.lost()
        if on_loop:
            for fut in self._waiting.values():
                if not fut.done():
                    fut.set_exception(error)
        self._waiting = {}
        self._outbox = []
        self._on_lost(self)


class RemoteEnv:
    """An environment instance living in an actor, behind the ``Env`` protocol. ``reset`` and
    ``step`` return futures (awaitable like the coroutines of a local env); ``close`` is
    idempotent and gives the slot back to the pool, also when the actor is gone."""

    __slots__ = ("_closed", "_release", "_tagged", "_tags", "id", "link", "seats")

    _ids = itertools.count()

    def __init__(self, link: ActorLink, release: Callable[[ActorLink], None],
                 seats: list[str] | None = None, tagged: bool = False) -> None:
        self.link = link
        self.id = next(RemoteEnv._ids)
        self._release = release
        self._closed = False
        self.seats = seats
        self._tagged = tagged  # the game has ``seat_tags()``: fetched once after each reset
        self._tags: dict[str, Any] = {}

    def reset(self, task: Task, *, seed: int | None = None) -> Awaitable[Observation]:
        if self._closed:
            return _failed(RuntimeError("RemoteEnv used after close()"))
        if self._tagged:
            return self._reset_and_tag(task, seed)
        return self.link.call(RESET, self.id, (task, seed))

    async def _reset_and_tag(self, task: Task, seed: int | None) -> Observation:
        obs = await self.link.call(RESET, self.id, (task, seed))
        self._tags = await self.link.call(SEAT_TAGS, self.id, None)
        return obs

    def seat_tags(self) -> dict[str, Any]:
        """The game's seat tags as of its last reset (``core.seating``; {} when it has none)."""
        return self._tags

    def step(self, action: str) -> asyncio.Future[Transition]:
        if self._closed:
            return _failed(RuntimeError("RemoteEnv used after close()"))
        return self.link.call(STEP, self.id, action)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self.link.alive:
                await self.link.call(CLOSE, self.id, None)
        except EnvActorLost:
            pass  # the instance died with its actor: nothing left to close
        finally:
            self._release(self.link)

    async def describe(self) -> dict[str, Any]:
        """Attributes of a probe instance built in the actor (``seats``)."""
        return await self.link.call(DESCRIBE, self.id, None)


def _failed(exc: BaseException) -> asyncio.Future[Any]:
    fut = asyncio.get_running_loop().create_future()
    fut.set_exception(exc)
    return fut


def _first_line(exc: BaseException) -> str:
    """``Type: first line``, plus the last line when they differ: Ray's errors open with
    where it happened and end with the cause (``ModuleNotFoundError: No module named ...``)."""
    lines = [ln.strip() for ln in _ANSI.sub("", str(exc)).strip().splitlines() if ln.strip()]
    text = f"{type(exc).__name__}: {lines[0] if lines else ''}".strip()
    if len(lines) > 1:
        text += f" ... {lines[-1]}"
    return text


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
