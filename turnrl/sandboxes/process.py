"""Run one child process with a wall-clock deadline and capped output, and always reap it.

The child starts in a new session (its own process group) so a timeout or an output flood
kills the whole group at once (``SIGKILL``: a program that ignores ``SIGTERM`` cannot stall
us). Output is read as it comes and kept up to ``output_limit`` bytes per stream; the first
byte past the cap stops the run, so a 1 GB flood costs a few milliseconds, not a gigabyte.
Once the main process has exited, a grandchild that still holds the pipes open is given a short
grace period and then killed with the group: nothing this module starts outlives ``collect``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

READ_CHUNK = 1 << 16
DRAIN_GRACE_S = 0.5
KILL_WAIT_S = 5.0


@dataclass(slots=True)
class Collected:
    """The raw outcome of one child process (before a backend turns it into ``ExecResult``).

    ``returncode`` follows ``asyncio``: negative for a signal; ``None`` if it never started
    (``start_error`` says why) or could not be reaped.
    """

    returncode: int | None
    stdout: bytes
    stderr: bytes
    truncated: bool
    timed_out: bool
    output_exceeded: bool
    duration_s: float
    start_error: str = ""


async def collect(argv: Sequence[str], *, env: Mapping[str, str], stdin: bytes, timeout: float,
                  output_limit: int, cwd: str | None = None, pass_fds: Sequence[int] = (),
                  on_kill: Callable[[], None] | None = None) -> Collected:
    """Run ``argv`` to the end, the deadline or the output cap, whichever comes first.

    ``on_kill`` is called (synchronously) when the run is stopped early, after the process group
    was signalled: backends use it to kill what lives outside the group (a cgroup's members).
    """
    start = time.perf_counter()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=dict(env), cwd=cwd, pass_fds=tuple(pass_fds),
            start_new_session=True)
    except OSError as exc:
        return Collected(None, b"", b"", False, False, False, time.perf_counter() - start,
                         start_error=f"could not start {argv[0]!r}: {exc}")
    state = _State(output_limit)

    def kill() -> None:
        _kill_group(proc.pid)
        if on_kill is not None:
            on_kill()

    assert proc.stdout is not None
    assert proc.stderr is not None
    readers = [
        asyncio.ensure_future(_read(proc.stdout, state, 0, kill)),
        asyncio.ensure_future(_read(proc.stderr, state, 1, kill)),
    ]
    writer = asyncio.ensure_future(_write(proc, stdin))
    waiter = asyncio.ensure_future(proc.wait())
    timed_out = False
    try:
        done, _ = await asyncio.wait({waiter, state.exceeded_event}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if not done:
            timed_out = True
            kill()
        elif waiter not in done:  # output cap passed: readers already killed the group
            pass
        # main process gone (or killed): give straggling writers a moment, then kill them
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(asyncio.gather(*readers)), DRAIN_GRACE_S)
        if not all(r.done() for r in readers):
            kill()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiter), KILL_WAIT_S)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(asyncio.gather(*readers)), KILL_WAIT_S)
    except asyncio.CancelledError:
        kill()
        raise
    finally:
        for task in (*readers, writer, waiter):
            if not task.done():
                task.cancel()
        _kill_group(proc.pid)  # nothing of this run outlives it (no-op when all are gone)
        with contextlib.suppress(Exception):
            proc._transport.close()  # type: ignore[attr-defined]
    state.exceeded_event.cancel()
    return Collected(
        returncode=proc.returncode, stdout=bytes(state.buffers[0]),
        stderr=bytes(state.buffers[1]), truncated=state.truncated, timed_out=timed_out,
        output_exceeded=state.exceeded, duration_s=time.perf_counter() - start)


class _State:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.buffers = (bytearray(), bytearray())
        self.truncated = False
        self.exceeded = False
        self.exceeded_event: asyncio.Future[None] = asyncio.get_running_loop().create_future()


async def _read(stream: asyncio.StreamReader, state: _State, index: int,
                kill: Callable[[], None]) -> None:
    buffer = state.buffers[index]
    while True:
        chunk = await stream.read(READ_CHUNK)
        if not chunk:
            return
        room = state.limit - len(buffer)
        if len(chunk) > room:
            buffer += chunk[:max(room, 0)]
            state.truncated = state.exceeded = True
            if not state.exceeded_event.done():
                state.exceeded_event.set_result(None)
            kill()
            return
        buffer += chunk


async def _write(proc: asyncio.subprocess.Process, data: bytes) -> None:
    assert proc.stdin is not None
    try:
        if data:
            proc.stdin.write(data)
            await proc.stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        with contextlib.suppress(Exception):
            proc.stdin.close()


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def shell_exit_code(returncode: int | None) -> int | None:
    """``asyncio``'s code (negative for a signal) as a shell reports it (128 + N)."""
    if returncode is None:
        return None
    return 128 - returncode if returncode < 0 else returncode
