"""Sandbox containers for the ``docker`` backend: how each is made, a warm pool of them, and the
reaping of containers a crashed turnrl process left behind.

Every container: ``network_mode="none"``, memory (and swap) cap, PID cap, CPU quota, read-only
root, size-capped tmpfs ``/sandbox`` and ``/tmp``, uid 65534, all capabilities dropped,
``no-new-privileges``, a 16 MB ``/dev/shm``, and a tiny Python reaper as PID 1 (orphans are
reaped, and ``kill -1`` from the wrapper cannot reach PID 1, so the container outlives every
program it runs). Containers carry ``turnrl.sandbox=1`` and their owner's host, PID and process
start time: ``reap_orphans`` removes those whose owner is gone.

The pool keeps ``size`` started containers ready; ``acquire`` takes one (or starts one when none
is idle), ``release`` returns a healthy one (the next run's wrapper wipes its directories
first) or removes it, and a background task tops the pool up. All engine calls are blocking
SDK calls made in the backend's thread pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from turnrl.sandboxes.docker_build import REAPER

LABEL = "turnrl.sandbox"
WRAPPER_PROCESSES = 3
"""PID 1 (reaper), the wrapper shell and ``timeout``, on top of ``Limits.processes``."""


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """What a container is created with (the per-container part of ``Limits``)."""

    image: str
    memory_mb: int
    processes: int
    disk_mb: int
    cpus: float


def owner_labels() -> dict[str, str]:
    return {LABEL: "1", f"{LABEL}.host": socket.gethostname(),
            f"{LABEL}.pid": str(os.getpid()), f"{LABEL}.start": _start_time(os.getpid())}


def create_container(client: Any, spec: ContainerSpec) -> Any:
    """Create and start one sandbox container (blocking)."""
    memory = f"{spec.memory_mb}m"
    tmpfs_options = f"size={spec.disk_mb}m,mode=1777,exec"
    return client.containers.run(
        spec.image, command=["python3", "-c", REAPER], detach=True, network_mode="none",
        mem_limit=memory, memswap_limit=memory, pids_limit=spec.processes + WRAPPER_PROCESSES,
        nano_cpus=int(spec.cpus * 1e9), read_only=True,
        tmpfs={"/sandbox": tmpfs_options, "/tmp": tmpfs_options}, shm_size="16m",
        user="65534:65534", cap_drop=["ALL"], security_opt=["no-new-privileges"],
        working_dir="/sandbox", hostname="sandbox", labels=owner_labels(), environment={},
        auto_remove=False, init=False)


def remove_container(container: Any) -> None:
    with contextlib.suppress(Exception):
        container.remove(force=True)


def reap_orphans(client: Any) -> int:
    """Remove sandbox containers whose owning process is gone; returns how many."""
    host = socket.gethostname()
    removed = 0
    for container in client.containers.list(all=True, filters={"label": f"{LABEL}=1"}):
        labels = container.labels or {}
        pid = labels.get(f"{LABEL}.pid", "")
        alive = labels.get(f"{LABEL}.host") == host and pid.isdigit() and \
            _start_time(int(pid)) == labels.get(f"{LABEL}.start")
        if not alive:
            remove_container(container)
            removed += 1
    return removed


def remove_own(client: Any) -> None:
    """Remove every sandbox container this process owns (at exit)."""
    filters = {"label": [f"{LABEL}=1", f"{LABEL}.pid={os.getpid()}"]}
    with contextlib.suppress(Exception):
        for container in client.containers.list(all=True, filters=filters):
            remove_container(container)


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (tells a reused PID apart)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


class ContainerPool:
    """At most ``size`` warm containers of one ``ContainerSpec`` (see the module docstring).

    When every container is busy, ``acquire`` waits for one to come back rather than starting
    a cold one: a container start costs ~0.5-1 s of engine time, a warm ``exec`` ~0.1 s, so on a
    small machine queueing is much faster than growing.
    """

    def __init__(self, client: Any, spec: ContainerSpec, size: int, executor: ThreadPoolExecutor,
                 max_uses: int) -> None:
        self.client = client
        self.spec = spec
        self.size = size
        self.max_uses = max_uses
        self.executor = executor
        self.idle: list[Any] = []
        self.uses: dict[str, int] = {}
        self.live = 0
        """Containers that exist or are being started (idle, busy or starting)."""
        self.closed = False
        self._changed: asyncio.Condition | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starting: set[asyncio.Task[None]] = set()
        self.errors: list[str] = []

    @property
    def changed(self) -> asyncio.Condition:
        """The pool's condition, made anew when the sandbox is used from another event loop
        (tests and scripts call ``asyncio.run`` more than once)."""
        loop = asyncio.get_running_loop()
        if self._changed is None or self._loop is not loop:
            self._changed, self._loop = asyncio.Condition(), loop
        return self._changed

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def acquire(self) -> Any:
        """An idle warm container; waits while all ``size`` are busy. Raises the engine's error
        when containers cannot be started at all."""
        async with self.changed:
            while True:
                if self.closed:
                    raise RuntimeError("the container pool is closed")
                if self.idle:
                    container = self.idle.pop()
                    self.uses[container.id] = self.uses.get(container.id, 0) + 1
                    return container
                if self.live < self.size:
                    self._start_one()
                if self.errors and not self._starting:
                    raise RuntimeError(self.errors[-1])
                await self.changed.wait()

    async def release(self, container: Any, *, healthy: bool) -> None:
        keep = healthy and not self.closed and self.uses.get(container.id, 0) < self.max_uses
        if keep:
            async with self.changed:
                self.idle.append(container)
                self.changed.notify()
            return
        self.uses.pop(container.id, None)
        await self._call(remove_container, container)
        async with self.changed:
            self.live -= 1
            if not self.closed:
                self._start_one()
            self.changed.notify_all()

    def _start_one(self) -> None:
        self.live += 1
        task = asyncio.ensure_future(self._start())
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _start(self) -> None:
        try:
            container = await self._call(create_container, self.client, self.spec)
        except Exception as exc:
            async with self.changed:
                self.live -= 1
                self.errors = [*self.errors[-4:], f"could not start a container: {exc}"]
                self.changed.notify_all()
            return
        async with self.changed:
            if self.closed:
                self.live -= 1
                await self._call(remove_container, container)
                return
            self.errors.clear()
            self.idle.append(container)
            self.changed.notify()

    async def fill(self) -> None:
        """Start containers until ``size`` exist, and wait until they are up."""
        async with self.changed:
            while self.live < self.size:
                self._start_one()
        if self._starting:
            await asyncio.gather(*self._starting, return_exceptions=True)

    async def close(self) -> None:
        self.closed = True
        if self._starting:
            await asyncio.gather(*self._starting, return_exceptions=True)
        async with self.changed:
            idle, self.idle = self.idle, []
            self.changed.notify_all()
        await asyncio.gather(*(self._call(remove_container, c) for c in idle))
