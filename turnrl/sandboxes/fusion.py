"""SandboxFusion's ``/run_code`` shapes, both directions, and the ``sandbox-fusion`` client backend.

Request (SandboxFusion ``RunCodeRequest``): ``code``, ``language``, ``stdin``, ``run_timeout``,
``compile_timeout``, ``memory_limit_MB``, ``files`` (path -> base64), ``fetch_files``.
Response (``RunCodeResponse``): ``status`` (``Success`` | ``Failed`` | ``SandboxError``),
``message``, ``compile_result``, ``run_result`` (``status``: ``Finished`` | ``Error`` |
``TimeLimitExceeded``, ``execution_time``, ``return_code``, ``stdout``, ``stderr``),
``executor_pod_name``, ``files`` (path -> base64). ``turnrl sandbox serve`` adds one key,
``turnrl`` (``{"status", "truncated"}``), that SandboxFusion's own client ignores and this
backend reads, so turnrl statuses survive the round trip exactly; from a real SandboxFusion
server they are inferred from the standard fields.

The backend is a thin aiohttp client: the server does the isolating. ``command=`` runs as a
bash script that ``exec``s the command; ``env=`` is refused (SandboxFusion has no field for
it, and silently dropping it would be worse); a session resends the files it was given and
those it fetched (SandboxFusion keeps nothing between requests).
"""

from __future__ import annotations

import asyncio
import base64
import shlex
import time
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from turnrl.sandboxes.api import (
    PYTHON,
    STATUSES,
    ExecResult,
    Limits,
    RunRequest,
    SandboxUsageError,
    parse_options,
    prepare_run,
    sandbox_error,
)


# --------------------------------------------------------------------------- shapes
def to_response(result: ExecResult, *, pod: str = "turnrl") -> dict[str, Any]:
    """A turnrl ``ExecResult`` as SandboxFusion's ``RunCodeResponse`` JSON."""
    if result.status == "sandbox_error":
        return {"status": "SandboxError", "message": result.stderr, "compile_result": None,
                "run_result": None, "executor_pod_name": pod, "files": {},
                "turnrl": {"status": result.status, "truncated": result.truncated}}
    run_status = {"timeout": "TimeLimitExceeded", "output_limit": "Error"}.get(
        result.status, "Finished")
    return {
        "status": "Success" if result.status == "ok" else "Failed",
        "message": "" if result.status in ("ok", "error") else result.status,
        "compile_result": None,
        "run_result": {"status": run_status, "execution_time": result.duration_s,
                       "return_code": result.exit_code, "stdout": result.stdout,
                       "stderr": result.stderr},
        "executor_pod_name": pod,
        "files": {path: base64.b64encode(data).decode() for path, data in result.files.items()},
        "turnrl": {"status": result.status, "truncated": result.truncated},
    }


def from_response(data: Mapping[str, Any], *, elapsed: float) -> ExecResult:
    """SandboxFusion's ``RunCodeResponse`` JSON as an ``ExecResult``."""
    files = {path: base64.b64decode(text) for path, text in (data.get("files") or {}).items()
             if isinstance(text, str)}
    extension = data.get("turnrl") if isinstance(data.get("turnrl"), Mapping) else {}
    status = data.get("status")
    if status == "SandboxError":
        return sandbox_error(str(data.get("message") or "SandboxFusion reported SandboxError"),
                             elapsed)
    run = data.get("run_result") or data.get("compile_result") or {}
    stdout, stderr = str(run.get("stdout") or ""), str(run.get("stderr") or "")
    code = run.get("return_code")
    if extension.get("status") in STATUSES:
        mapped = extension["status"]
    elif run.get("status") == "TimeLimitExceeded":
        mapped = "timeout"
    elif status == "Success":
        mapped = "ok"
    elif stderr.strip().splitlines()[-1:] == ["MemoryError"]:
        mapped = "memory"
    else:
        mapped = "error"
    duration = run.get("execution_time")
    return ExecResult(status=mapped, exit_code=code if isinstance(code, int) else None,
                      stdout=stdout, stderr=stderr, truncated=bool(extension.get("truncated")),
                      duration_s=float(duration) if isinstance(duration, int | float)
                      else elapsed, files=files)


def to_request(request: RunRequest, *, language: str, code: str) -> dict[str, Any]:
    """A turnrl run as SandboxFusion's ``RunCodeRequest`` JSON (``code`` carried separately)."""
    return {
        "code": code, "language": language, "stdin": request.stdin.decode(errors="replace"),
        "run_timeout": request.timeout, "compile_timeout": request.timeout,
        "memory_limit_MB": request.limits.memory_mb,
        "files": {path: base64.b64encode(data).decode() for path, data in request.files.items()},
        "fetch_files": list(request.fetch),
    }


# --------------------------------------------------------------------------- the backend
class FusionOptions(BaseModel):
    """Options of ``make_sandbox("sandbox-fusion", ...)``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(..., description="the server, e.g. http://127.0.0.1:8080")
    limits: Limits = Field(default_factory=Limits, description="default limits of every run")
    concurrency: int = Field(32, ge=1, description="requests in flight at once")
    request_slack_s: float = Field(30.0, gt=0, description="HTTP timeout beyond the run's")


class SandboxFusionSandbox:
    """Sends runs to a SandboxFusion server (or ``turnrl sandbox serve``)."""

    name = "sandbox-fusion"

    def __init__(self, **options: Any) -> None:
        self.options: FusionOptions = parse_options(FusionOptions, self.name, options)
        self.url = self.options.url.rstrip("/")
        self.enforcement = {"isolation": f"the server at {self.url}", "memory":
                            "server (memory_limit_MB)", "processes": "server", "disk": "server",
                            "cpu": "server", "files": "server", "time": "server run_timeout",
                            "output": "client-side truncation"}
        self._semaphore: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, code: str | None = None, *, command: Sequence[str] | None = None,
                  language: str = "python", files: Mapping[str, bytes | str] | None = None,
                  stdin: str | bytes = "", timeout: float = 10.0,
                  limits: Limits | Mapping[str, Any] | None = None,
                  env: Mapping[str, str] | None = None,
                  fetch: Sequence[str] | None = None) -> ExecResult:
        if env:
            raise SandboxUsageError("sandbox-fusion: SandboxFusion's /run_code has no field for "
                                    "environment variables; env= cannot be sent")
        request = prepare_run(code, command=command, language=language, files=files,
                              stdin=stdin, timeout=timeout, limits=limits,
                              default_limits=self.options.limits, env=None, fetch=fetch)
        return await self.send(request)

    async def send(self, request: RunRequest) -> ExecResult:
        from turnrl.sandboxes.languages import LANGUAGES

        files = dict(request.files)
        if request.argv[0] == PYTHON:
            spec = LANGUAGES["python"]
            language, body = "python", files.pop(spec.filename).decode()
        elif request.argv in ((s.argv) for s in LANGUAGES.values()):
            spec = next(s for s in LANGUAGES.values() if s.argv == request.argv)
            language, body = spec.name, files.pop(spec.filename).decode()
        else:
            language, body = "bash", "exec " + shlex.join(request.argv) + "\n"
        payload = to_request(RunRequest(request.argv, files, request.stdin, request.timeout,
                                        request.limits, {}, request.fetch),
                             language=language, code=body)
        return await self._post(payload, request)

    async def _post(self, payload: dict[str, Any], request: RunRequest) -> ExecResult:
        import aiohttp

        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._loop is not loop:
            self._semaphore, self._loop = asyncio.Semaphore(self.options.concurrency), loop
        start = time.perf_counter()
        timeout = aiohttp.ClientTimeout(total=request.timeout + self.options.request_slack_s)
        async with self._semaphore:
            try:
                async with aiohttp.ClientSession() as client, client.post(
                        f"{self.url}/run_code", json=payload, timeout=timeout) as response:
                    if response.status != 200:
                        text = (await response.text())[:500]
                        return sandbox_error(f"{self.url}/run_code answered HTTP "
                                             f"{response.status}: {text}",
                                             time.perf_counter() - start)
                    data = await response.json(content_type=None)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                return sandbox_error(f"{self.url}/run_code failed: {type(exc).__name__}: "
                                     f"{exc}", time.perf_counter() - start)
        if not isinstance(data, Mapping):
            return sandbox_error(f"{self.url}/run_code answered {type(data).__name__}, not an "
                                 "object", time.perf_counter() - start)
        result = from_response(data, elapsed=time.perf_counter() - start)
        return _cap(result, request.limits.output_bytes)

    def session(self) -> FusionSession:
        return FusionSession(self)

    async def close(self) -> None:
        """Nothing is held between requests (one HTTP session per request)."""

    async def __aenter__(self) -> SandboxFusionSandbox:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class FusionSession:
    """SandboxFusion keeps nothing between requests: the session resends every file it was
    given and every file a run fetched, so what the program wrote survives only if fetched."""

    def __init__(self, sandbox: SandboxFusionSandbox) -> None:
        self.sandbox = sandbox
        self.files: dict[str, bytes] = {}
        self.closed = False
        self._lock = asyncio.Lock()

    async def run(self, code: str | None = None, *, command: Sequence[str] | None = None,
                  language: str = "python", files: Mapping[str, bytes | str] | None = None,
                  stdin: str | bytes = "", timeout: float = 10.0,
                  limits: Limits | Mapping[str, Any] | None = None,
                  env: Mapping[str, str] | None = None,
                  fetch: Sequence[str] | None = None) -> ExecResult:
        async with self._lock:
            if self.closed:
                return sandbox_error("the session is closed")
            merged = {**self.files, **{k: (v.encode() if isinstance(v, str) else bytes(v))
                                       for k, v in (files or {}).items()}}
            result = await self.sandbox.run(code, command=command, language=language,
                                            files=merged, stdin=stdin, timeout=timeout,
                                            limits=limits, env=env, fetch=fetch)
            self.files.update(merged)
            self.files.update(result.files)
            return result

    async def close(self) -> None:
        self.closed = True
        self.files = {}

    async def __aenter__(self) -> FusionSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _cap(result: ExecResult, limit: int) -> ExecResult:
    if len(result.stdout) <= limit and len(result.stderr) <= limit:
        return result
    return ExecResult(status="output_limit", exit_code=None, stdout=result.stdout[:limit],
                      stderr=result.stderr[:limit], truncated=True,
                      duration_s=result.duration_s, files=result.files)
