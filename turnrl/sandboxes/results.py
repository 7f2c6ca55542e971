"""One rule, shared by every process-based backend, for turning a finished child into an
``ExecResult`` status.

Precedence: the host's own deadline or output cap, then the memory cgroup's OOM counter, then
what the exit status says — ``SIGKILL`` at or past the deadline (the in-sandbox ``timeout``)
or ``SIGXCPU`` (the CPU-seconds rlimit) is a time-out; a Python ``MemoryError`` as the last
line of stderr under an address-space rlimit is a memory failure; any other non-zero status is
an error.
"""

from __future__ import annotations

import signal

from turnrl.sandboxes.api import ExecResult, Status
from turnrl.sandboxes.process import Collected

SIGKILL_STATUS = 128 + signal.SIGKILL
SIGXCPU_STATUS = 128 + signal.SIGXCPU


def classify(collected: Collected, exit_status: int | None, *, timeout: float,
             oom: bool) -> ExecResult:
    """The ``ExecResult`` of ``collected`` whose program ended with ``exit_status`` (shell
    convention), run with wall-clock ``timeout``; ``oom``: the OOM killer struck."""
    stderr = collected.stderr.decode(errors="replace")
    status: Status
    code: int | None = exit_status
    if collected.timed_out:
        status, code = "timeout", None
    elif collected.output_exceeded:
        status, code = "output_limit", None
    elif oom:
        status = "memory"
    elif exit_status == SIGXCPU_STATUS or (
            exit_status == SIGKILL_STATUS and collected.duration_s >= timeout):
        status, code = "timeout", None
    elif exit_status == 0:
        status = "ok"
    elif exit_status is None:
        status = "sandbox_error"
        stderr = stderr or "the sandbox ended without an exit status"
    elif _last_line(stderr).startswith("MemoryError"):
        status = "memory"
    else:
        status = "error"
    return ExecResult(status=status, exit_code=code,
                      stdout=collected.stdout.decode(errors="replace"), stderr=stderr,
                      truncated=collected.truncated, duration_s=collected.duration_s)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""
