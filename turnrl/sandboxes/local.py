"""``local``: NO ISOLATION — a plain subprocess with rlimits, for TRUSTED code only.

It exists for code you wrote yourself (tests of a harness, a benchmark's baseline, machines
where neither bubblewrap nor Docker can run and the code is your own). A model's answer run
here can read every file you can, open network connections and leave processes behind that
escape the process group. Never point an environment that runs
model-written code at it; ``turnrl`` itself never picks it by default.

What it does provide: a fresh temporary working directory per run (one per session), only the
run's own environment variables, rlimits through ``prlimit`` (address space, CPU seconds, file
size, open files), a wall-clock timeout and an output cap that kill the process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from turnrl.sandboxes.api import (
    PYTHON,
    ExecResult,
    Limits,
    RunRequest,
    SandboxUnavailable,
    parse_options,
    prepare_run,
    sandbox_error,
)
from turnrl.sandboxes.interpreter import resolve_interpreter
from turnrl.sandboxes.process import collect, shell_exit_code
from turnrl.sandboxes.results import classify


class LocalOptions(BaseModel):
    """Options of ``make_sandbox("local", ...)``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    python: str | None = Field(None, description="interpreter path or command; None = this one")
    limits: Limits = Field(default_factory=Limits, description="default limits of every run")


class LocalTrustedSandbox:
    """Trusted code only: a subprocess with rlimits and no isolation (see the module doc)."""

    name = "local"

    def __init__(self, **options: Any) -> None:
        self.options: LocalOptions = parse_options(LocalOptions, self.name, options)
        self.prlimit = shutil.which("prlimit")
        if not self.prlimit:
            raise SandboxUnavailable("'prlimit' (util-linux) is missing")
        self.interpreter = resolve_interpreter(self.options.python)
        self.enforcement = {"isolation": "NONE (trusted code only)", "memory": "rlimit (address "
                            "space)", "processes": "none", "disk": "rlimit (file size)",
                            "cpu": "rlimit", "files": "rlimit", "time": "timeout + kill"}

    async def run(self, code: str | None = None, *, command: Sequence[str] | None = None,
                  language: str = "python", files: Mapping[str, bytes | str] | None = None,
                  stdin: str | bytes = "", timeout: float = 10.0,
                  limits: Limits | Mapping[str, Any] | None = None,
                  env: Mapping[str, str] | None = None,
                  fetch: Sequence[str] | None = None) -> ExecResult:
        request = prepare_run(code, command=command, language=language, files=files,
                              stdin=stdin, timeout=timeout, limits=limits,
                              default_limits=self.options.limits, env=env, fetch=fetch)
        workdir = tempfile.mkdtemp(prefix="turnrl-local-")
        try:
            return await self.execute(request, workdir)
        finally:
            await asyncio.to_thread(shutil.rmtree, workdir, True)

    def session(self) -> LocalSession:
        return LocalSession(self)

    async def close(self) -> None:
        """Nothing is held between runs."""

    async def __aenter__(self) -> LocalTrustedSandbox:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def execute(self, request: RunRequest, workdir: str) -> ExecResult:
        root = Path(workdir)
        for path, data in request.files.items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            if data.startswith(b"#!"):
                target.chmod(0o755)
        limits = request.limits
        cpu = limits.cpu_limit(request.timeout)
        argv = [self.interpreter.executable if a == PYTHON else a for a in request.argv]
        full = [self.prlimit, f"--as={limits.memory_mb << 20}", f"--cpu={cpu}:{cpu + 1}",
                f"--fsize={limits.file_size_mb << 20}", f"--nofile={limits.open_files}",
                "--core=0", "--", *argv]
        path = ":".join(dict.fromkeys((self.interpreter.bin_dir, "/usr/local/bin", "/usr/bin",
                                       "/bin")))
        environment = {"PATH": path, "HOME": workdir, "LANG": "C.UTF-8", "TMPDIR": workdir,
                       "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1", **request.env}
        collected = await collect(full, env=environment, stdin=request.stdin,
                                  timeout=request.timeout, output_limit=limits.output_bytes,
                                  cwd=workdir)
        if collected.start_error:
            return sandbox_error(collected.start_error, collected.duration_s)
        result = classify(collected, shell_exit_code(collected.returncode),
                          timeout=request.timeout, oom=False)
        if request.fetch:
            fetched = _read_back(root, request.fetch, limits.disk_mb << 20)
            result = ExecResult(status=result.status, exit_code=result.exit_code,
                                stdout=result.stdout, stderr=result.stderr,
                                truncated=result.truncated, duration_s=result.duration_s,
                                files=fetched)
        return result


class LocalSession:
    """Runs of the ``local`` backend sharing one temporary directory (trusted code only)."""

    def __init__(self, sandbox: LocalTrustedSandbox) -> None:
        self.sandbox = sandbox
        self.workdir: str | None = tempfile.mkdtemp(prefix="turnrl-local-session-")
        self._lock = asyncio.Lock()

    async def run(self, code: str | None = None, *, command: Sequence[str] | None = None,
                  language: str = "python", files: Mapping[str, bytes | str] | None = None,
                  stdin: str | bytes = "", timeout: float = 10.0,
                  limits: Limits | Mapping[str, Any] | None = None,
                  env: Mapping[str, str] | None = None,
                  fetch: Sequence[str] | None = None) -> ExecResult:
        request = prepare_run(code, command=command, language=language, files=files,
                              stdin=stdin, timeout=timeout, limits=limits,
                              default_limits=self.sandbox.options.limits, env=env, fetch=fetch)
        async with self._lock:
            if self.workdir is None:
                return sandbox_error("the session is closed")
            if not os.path.isdir(self.workdir):
                return sandbox_error("the session's working directory is gone")
            return await self.sandbox.execute(request, self.workdir)

    async def close(self) -> None:
        workdir, self.workdir = self.workdir, None
        if workdir:
            await asyncio.to_thread(shutil.rmtree, workdir, True)

    async def __aenter__(self) -> LocalSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _read_back(root: Path, wanted: Sequence[str], limit: int) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    base = root.resolve()
    for name in wanted:
        target = (root / name)
        candidates = [p for p in target.rglob("*") if p.is_file()] if target.is_dir() \
            else [target]
        for path in candidates:
            with contextlib.suppress(OSError):
                real = path.resolve()
                if not real.is_file() or base not in real.parents:
                    continue
                size = real.stat().st_size
                if total + size > limit:
                    continue
                files[str(path.relative_to(root))] = real.read_bytes()
                total += size
    return files
