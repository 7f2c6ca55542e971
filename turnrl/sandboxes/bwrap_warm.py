"""Pre-started bubblewrap sandboxes: the namespaces of the next one-shot run are built while the
caller is busy elsewhere, so a run waits only for its own program.

Building bwrap's user, PID, network, IPC, UTS and cgroup namespaces and its mounts, set up per
run, adds 19 ms (idle) to 65 ms (loaded) p50 over a bare subprocess on a 2-core machine
(``benchmarks/sandbox_throughput.py``, row ``bwrap-cold``; benchmarks/RESULTS.md) — more than
a small program itself takes. A *pre-started* sandbox is a bwrap process that has
done all of that and waits: for the run's files on pipes (``--file FD``; bwrap copies them into
the fresh tmpfs after the namespaces exist), then for one byte on a gate pipe (``--block-fd``)
before it starts the program. The run writes the files and opens the gate. Each sandbox still
serves exactly one run, with the argv a sandbox started on the spot gets — same isolation,
nothing shared between runs; only its start moved earlier.

Sandboxes are kept per *shape* (program argv, file names and modes, limits, timeout,
environment: everything the command line fixes). A run takes a ready sandbox of its shape, or
starts one on the spot (the cold path, as fast as without this module), and ``depth`` new ones
of that shape are started behind it, so repeated runs of one kind — an RL batch — find theirs
ready. At most ``MAX_SHAPES`` shapes are kept (least recently used dropped).

Everything runs on one private event-loop thread, so sandboxes started while one caller's loop
ran serve the next caller's loop too (the rollout engine runs ``asyncio.run`` per call).
``close()`` kills and reaps every waiting sandbox and stops the thread; the process's exit kills
them too (``--die-with-parent``), and so does dropping the sandbox object.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
import weakref
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from turnrl.sandboxes.api import ExecResult, RunRequest, sandbox_error
from turnrl.sandboxes.bwrap_host import memfd, read_fd, status_report
from turnrl.sandboxes.cgroups import RunCgroup
from turnrl.sandboxes.process import collect_started, start

if TYPE_CHECKING:
    from turnrl.sandboxes.bwrap import BwrapSandbox

MAX_SHAPES = 4
"""Shapes whose sandboxes are kept waiting; a fifth drops the least recently used."""
REAP_WAIT_S = 5.0

Shape = tuple[object, ...]


def shape_of(request: RunRequest) -> Shape:
    """What the command line of a plain run fixes (file contents come later, through pipes)."""
    from turnrl.sandboxes.bwrap import file_perms

    files = tuple((path, file_perms(data)) for path, data in request.files.items())
    return (request.argv, files, request.limits.model_dump_json(), request.timeout,
            tuple(sorted(request.env.items())))


@dataclass(eq=False)
class Ready:
    """A bwrap process waiting for its run: the write ends of its file pipes (one per file, in
    order) and then of its gate pipe, its ``--json-status-fd`` memfd and its cgroup."""

    proc: asyncio.subprocess.Process
    pipes: list[int]
    status_fd: int
    group: RunCgroup | None
    started: float = field(default_factory=time.perf_counter)


class WarmStarts:
    """The pre-started sandboxes of one ``BwrapSandbox`` (see the module docstring)."""

    def __init__(self, sandbox: BwrapSandbox, depth: int) -> None:
        self._sandbox = weakref.ref(sandbox)
        self.depth = depth
        self._ready: OrderedDict[Shape, deque[Ready]] = OrderedDict()
        self._starting: dict[Shape, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()
        self._running: list[asyncio.AbstractEventLoop] = []
        """The private loop while it runs: all the finalizer may touch (not ``self``)."""
        weakref.finalize(sandbox, WarmStarts._stop_soon, self._running)
        self.cold_starts = 0
        """Runs that found no sandbox of their shape ready (started one on the spot)."""
        self.warm_starts = 0
        self.failed_starts: list[str] = []
        """Why sandboxes set up ahead failed (the run that needed one then started its own
        and reported the error itself); the last few."""

    # ------------------------------------------------------------------ caller side
    async def run(self, request: RunRequest) -> ExecResult:
        """Play one plain run on the private loop and await it from the caller's loop."""
        future = asyncio.run_coroutine_threadsafe(self._run(request), self._private_loop())
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.cancel()
            raise

    async def close(self) -> None:
        """Kill and reap every waiting sandbox and stop the private thread (idempotent; a
        later run starts them again)."""
        with self._guard:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
            self._running.clear()
        if loop is None or thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._discard_all(), loop)
        with contextlib.suppress(Exception):
            await asyncio.wrap_future(future)
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join, REAP_WAIT_S)

    # ------------------------------------------------------------------ private loop
    @staticmethod
    def _stop_soon(holder: list[asyncio.AbstractEventLoop]) -> None:
        for loop in holder:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)

    def _private_loop(self) -> asyncio.AbstractEventLoop:
        with self._guard:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=self._serve, args=(loop,), daemon=True,
                                          name="turnrl-bwrap-prestart")
                thread.start()
                self._loop, self._thread = loop, thread
                self._running[:] = [loop]
            return self._loop

    def _serve(self, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            # stopped without close() (the sandbox was dropped): kill what still waits
            pending = [ready for queue in self._ready.values() for ready in queue]
            self._ready.clear()
            for ready in pending:
                _kill(ready)
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.gather(
                    *(_reap(ready) for ready in pending), return_exceptions=True))
            loop.close()

    async def _run(self, request: RunRequest) -> ExecResult:
        sandbox = self._sandbox()
        if sandbox is None:
            return sandbox_error("the sandbox was closed")
        shape = shape_of(request)
        ready = self._take(shape)
        if ready is None:
            self.cold_starts += 1
            started = await self._start(sandbox, request)
            if isinstance(started, ExecResult):
                return started
            ready = started
        else:
            self.warm_starts += 1
        self._refill(sandbox, shape, request)
        began = time.perf_counter()
        feeder = asyncio.ensure_future(asyncio.to_thread(
            _feed, ready.pipes, [*request.files.values(), b"g"]))
        try:
            collected = await collect_started(
                ready.proc, stdin=request.stdin, timeout=request.timeout,
                output_limit=request.limits.output_bytes, began=began,
                on_kill=ready.group.kill_members if ready.group else None)
            report = status_report(read_fd(ready.status_fd, 1 << 16))
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(feeder), REAP_WAIT_S)
            with contextlib.suppress(OSError):
                os.close(ready.status_fd)
        result, _ = await sandbox.conclude(request, collected, report, ready.group,
                                           session=False)
        return result

    def _take(self, shape: Shape) -> Ready | None:
        queue = self._ready.get(shape)
        while queue:
            ready = queue.popleft()
            if ready.proc.returncode is None:
                self._ready.move_to_end(shape)
                return ready
            self._track(_reap(ready))  # died while waiting (killed from outside)
        return None

    def _refill(self, sandbox: BwrapSandbox, shape: Shape, request: RunRequest) -> None:
        queue = self._ready.setdefault(shape, deque())
        self._ready.move_to_end(shape)
        while len(self._ready) > MAX_SHAPES:
            _, dropped = self._ready.popitem(last=False)
            for ready in dropped:
                _kill(ready)
                self._track(_reap(ready))
        for _ in range(self.depth - len(queue) - self._starting.get(shape, 0)):
            self._starting[shape] = self._starting.get(shape, 0) + 1
            self._track(self._start_into(sandbox, shape, request))

    async def _start_into(self, sandbox: BwrapSandbox, shape: Shape,
                          request: RunRequest) -> None:
        try:
            started = await self._start(sandbox, request)
        finally:
            self._starting[shape] -= 1
        if isinstance(started, ExecResult):
            # the run that would have used it starts one on the spot and reports the error
            self.failed_starts = [*self.failed_starts[-9:], started.stderr]
            return
        queue = self._ready.get(shape)
        if queue is None or len(queue) >= self.depth:
            _kill(started)
            await _reap(started)
        else:
            queue.append(started)

    async def _start(self, sandbox: BwrapSandbox, request: RunRequest) -> Ready | ExecResult:
        """Start the sandbox of ``request``'s shape; it blocks reading its first file (or, with
        none, its gate)."""
        pipes = [os.pipe() for _ in range(len(request.files) + 1)]  # the last is the gate
        # (pipes are not inheritable: only the read ends pass, so bwrap sees EOF)
        status_fd = memfd("status", b"")
        group: RunCgroup | None = None
        proc: asyncio.subprocess.Process | str = "not started"
        try:
            group = sandbox.run_cgroup(request.limits, plain=True)
            read_ends = [r for r, _ in pipes]
            proc = await start(sandbox.plain_command(request, read_ends[:-1], status_fd, group,
                                                     gate_fd=read_ends[-1]),
                               env=sandbox.environment(request.env),
                               pass_fds=[*read_ends, status_fd])
        except OSError as exc:
            proc = f"could not create the run's cgroup: {exc}"
        finally:
            for r, _ in pipes:
                os.close(r)
        if isinstance(proc, str):
            for _, w in pipes:
                os.close(w)
            os.close(status_fd)
            if group is not None:
                group.remove(0.0)
            return sandbox_error(proc)
        return Ready(proc, [w for _, w in pipes], status_fd, group)

    async def _discard_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        pending = [ready for queue in self._ready.values() for ready in queue]
        self._ready.clear()
        for ready in pending:
            _kill(ready)
        await asyncio.gather(*(_reap(ready) for ready in pending), return_exceptions=True)

    def _track(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _feed(pipes: Sequence[int], contents: Sequence[bytes]) -> None:
    """Write each file into its pipe and close it (bwrap reads them in order), then the gate's
    byte; a sandbox that died stops the feed (EPIPE). Runs in a worker thread: a file bigger
    than the pipe buffer blocks until bwrap reads it."""
    remaining = list(pipes)
    try:
        for fd, data in zip(pipes, contents, strict=True):
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            remaining.remove(fd)  # before closing: the number may be reused at once
            os.close(fd)
    except OSError:
        pass
    finally:
        for fd in remaining:
            with contextlib.suppress(OSError):
                os.close(fd)


def _kill(ready: Ready) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(ready.proc.pid, signal.SIGKILL)
    if ready.group is not None:
        ready.group.kill_members()


async def _reap(ready: Ready) -> None:
    """Wait for a killed (or dead) waiting sandbox, close its descriptors, drop its cgroup."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(ready.proc.wait(), REAP_WAIT_S)
    with contextlib.suppress(Exception):
        ready.proc._transport.close()  # type: ignore[attr-defined]
    for fd in (*ready.pipes, ready.status_fd):
        with contextlib.suppress(OSError):
            os.close(fd)
    if ready.group is not None and not ready.group.remove(0.0):
        await asyncio.to_thread(ready.group.remove)
