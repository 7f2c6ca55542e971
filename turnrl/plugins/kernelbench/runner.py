"""Running the harness: the files it needs, the command, and reading its report back.

Model answers only ever run through a sandbox from ``turnrl.sandboxes`` (``make_sandbox``,
``bwrap`` by default). ``TrustedSubprocess`` speaks the same ``run`` API for *trusted* code only
(the shipped experts in this package's own tests and benchmark): a plain child process in a
temporary directory with a time limit, no isolation at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

HARNESS_FILES: tuple[str, ...] = ("harness.py", "harness_cuda.py")


@dataclass(slots=True)
class RunOutput:
    """What came back from one harness run, whoever ran it (``ExecResult``'s fields)."""

    status: str
    exit_code: int | None
    stdout: str
    stderr: str
    truncated: bool = False
    duration_s: float = 0.0


@dataclass(slots=True)
class HarnessReport:
    """The harness's own lines: stage markers and the final result (None if it never came)."""

    stages: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None

    @property
    def last_stage(self) -> str | None:
        return self.stages[-1]["stage"] if self.stages else None


def harness_files(problem_source: str, answer_source: str) -> dict[str, bytes]:
    """The working directory of one evaluation."""
    package = resources.files("turnrl.plugins.kernelbench")
    files = {name: package.joinpath(name).read_bytes() for name in HARNESS_FILES}
    files["problem.py"] = problem_source.encode()
    files["answer.py"] = answer_source.encode()
    return files


def harness_command(python: str | None = None) -> list[str]:
    """``python -I harness.py``: isolated mode (no PYTHONPATH, user site or cwd on the path).
    Without ``python``, the sandbox's own interpreter (``turnrl.sandboxes`` placeholder)."""
    from turnrl.sandboxes.api import PYTHON

    return [python or PYTHON, "-I", "harness.py"]


def harness_env(device: str, threads: int = 1) -> dict[str, str]:
    """The only environment variables the harness gets (never the caller's)."""
    env = {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}
    if device == "cpu":
        env["TRITON_INTERPRET"] = "1"
    for name in ("CUDA_VISIBLE_DEVICES", "PATH", "LD_LIBRARY_PATH"):  # the GPU path needs them
        if device != "cpu" and name in os.environ:
            env[name] = os.environ[name]
    return env


def new_nonce() -> str:
    return "@@turnrl-" + secrets.token_hex(12)


def parse_reports(stdout: str, nonce: str) -> HarnessReport:
    """Collect the ``<nonce> <json>`` lines; anything else on stdout is ignored."""
    report = HarnessReport()
    prefix = nonce + " "
    for line in stdout.splitlines():
        if not line.startswith(prefix):
            continue
        try:
            payload = json.loads(line[len(prefix):])
        except ValueError:
            continue
        if "result" in payload:
            report.result = payload["result"]
        elif "stage" in payload:
            report.stages.append(payload)
    return report


class TrustedSubprocess:
    """Runs the harness as a bare child process. **No isolation: trusted code only.**

    For the shipped experts in tests and benchmarks, where a sandbox adds nothing but start-up
    time. Never pass it a model's answer: ``evaluate_kernel`` refuses it unless told the code is
    trusted.
    """

    trusted_only = True

    def __init__(self, *, keep_env: bool = False) -> None:
        self.keep_env = keep_env

    async def run(self, code: str | None = None, *, command: list[str] | None = None,
                  language: str = "python", files: dict[str, bytes] | None = None,
                  stdin: str = "", timeout: float = 10.0, limits: Any = None,
                  env: dict[str, str] | None = None, fetch: Any = None) -> RunOutput:
        if command is None:
            raise ValueError("TrustedSubprocess needs command=[...]")
        from turnrl.sandboxes.api import PYTHON

        command = [sys.executable if a == PYTHON else a for a in command]
        workdir = Path(tempfile.mkdtemp(prefix="turnrl-kernel-"))
        start = time.perf_counter()
        try:
            for name, data in (files or {}).items():
                (workdir / name).write_bytes(data)
            child_env = dict(os.environ) if self.keep_env else {}
            child_env.update(env or {})
            proc = await asyncio.create_subprocess_exec(
                *command, cwd=workdir, env=child_env, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                start_new_session=True)
            try:
                out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), timeout)
                status = "ok" if proc.returncode == 0 else "error"
            except asyncio.TimeoutError:
                _kill_group(proc.pid)
                out, err = await proc.communicate()
                status = "timeout"
            except BaseException:
                _kill_group(proc.pid)
                await proc.wait()
                raise
            return RunOutput(status, proc.returncode, out.decode(errors="replace"),
                             err.decode(errors="replace"), False,
                             time.perf_counter() - start)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
