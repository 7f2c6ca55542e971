"""One ``docker exec`` with stdin, capped output and a deadline, through the docker SDK.

The SDK's ``exec_run`` cannot feed stdin, so this uses ``exec_create(stdin=True)`` and the
hijacked socket of ``exec_start(socket=True)``: stdin is written and half-closed while the
multiplexed stdout/stderr frames (8-byte header: stream, 3 zero bytes, big-endian length) are
read in one ``select`` loop, so a program that writes before it reads cannot deadlock us. A
flood or the deadline stops the loop; the caller then kills what runs in the container.
Blocking by design: the backend runs it in its own thread pool.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import time
from dataclasses import dataclass
from typing import Any

HEADER = struct.Struct(">BxxxL")


@dataclass(slots=True)
class ExecOutcome:
    exit_code: int | None
    stdout: bytes
    stderr: bytes
    stdout_exceeded: bool
    stderr_exceeded: bool
    timed_out: bool
    error: str = ""


def exec_with_stdin(api: Any, container_id: str, argv: list[str], *, env: dict[str, str],
                    stdin: bytes, deadline: float, stdout_limit: int, stderr_limit: int,
                    user: str, workdir: str) -> ExecOutcome:
    """Run ``argv`` in the container until it ends, ``deadline`` (``time.monotonic``) passes or
    a stream passes its limit. Engine failures come back in ``error``, never raised."""
    import docker

    try:
        exec_id = api.exec_create(container_id, argv, stdin=True, stdout=True, stderr=True,
                                  user=user, workdir=workdir, environment=env)["Id"]
        hijacked = api.exec_start(exec_id, socket=True)
    except (docker.errors.APIError, OSError, ValueError) as exc:
        return ExecOutcome(None, b"", b"", False, False, False, error=_describe(exc))
    sock: socket.socket = getattr(hijacked, "_sock", hijacked)
    outcome = _pump(sock, stdin, deadline, stdout_limit, stderr_limit)
    with contextlib.suppress(Exception):
        hijacked.close()
    with contextlib.suppress(OSError):
        sock.close()
    if outcome.timed_out or outcome.stdout_exceeded or outcome.stderr_exceeded:
        return outcome
    try:
        for _ in range(50):  # the exit code lands a moment after the stream's end
            info = api.exec_inspect(exec_id)
            if not info.get("Running"):
                outcome.exit_code = info.get("ExitCode")
                break
            time.sleep(0.01)
    except (docker.errors.APIError, OSError) as exc:
        outcome.error = _describe(exc)
    return outcome


def _pump(sock: socket.socket, stdin: bytes, deadline: float, stdout_limit: int,
          stderr_limit: int) -> ExecOutcome:
    sock.setblocking(False)
    pending = memoryview(stdin)
    if not pending:
        _half_close(sock)
    buffers = {1: bytearray(), 2: bytearray()}
    limits = {1: stdout_limit, 2: stderr_limit}
    raw = bytearray()
    outcome = ExecOutcome(None, b"", b"", False, False, False)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            outcome.timed_out = True
            break
        writers = [sock] if pending else []
        try:
            readable, writable, _ = select.select([sock], writers, [], min(remaining, 1.0))
        except (OSError, ValueError):
            break
        if writable and pending:
            try:
                sent = sock.send(pending[:1 << 16])
                pending = pending[sent:]
            except BlockingIOError:
                pass
            except OSError:
                pending = memoryview(b"")
            if not pending:
                _half_close(sock)
        if not readable:
            continue
        try:
            chunk = sock.recv(1 << 16)
        except BlockingIOError:
            continue
        except OSError:
            break
        if not chunk:
            break
        raw += chunk
        while len(raw) >= HEADER.size:
            stream, size = HEADER.unpack_from(raw)
            if len(raw) < HEADER.size + size:
                break
            payload = raw[HEADER.size:HEADER.size + size]
            del raw[:HEADER.size + size]
            target = buffers.get(stream)
            if target is None:
                continue
            room = limits[stream] - len(target)
            target += payload[:max(room, 0)]
            if len(payload) > room:
                if stream == 1:
                    outcome.stdout_exceeded = True
                else:
                    outcome.stderr_exceeded = True
        if outcome.stdout_exceeded or outcome.stderr_exceeded:
            break
    outcome.stdout, outcome.stderr = bytes(buffers[1]), bytes(buffers[2])
    return outcome


def _half_close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)


def _describe(exc: BaseException) -> str:
    explanation = getattr(exc, "explanation", None)
    return f"docker engine: {explanation or exc}"
