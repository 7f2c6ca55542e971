"""``turnrl sandbox serve``: SandboxFusion's ``/run_code`` API (aiohttp) on top of any backend.

A verl or SkyRL user points ``sandbox_fusion_url`` at it and their code runs in turnrl's
``bwrap`` (or ``docker``) sandbox instead of a SandboxFusion deployment. Endpoints:

* ``POST /run_code`` — ``RunCodeRequest`` in, ``RunCodeResponse`` out (``fusion.py``);
  ``memory_limit_MB > 0`` becomes the run's memory limit; languages: python (python3), bash,
  sh. A malformed request gets HTTP 400 with ``{"detail": "..."}`` naming the problem; a run
  that fails inside the sandbox is a normal 200 answer with its status.
* ``GET /v1/ping`` and ``GET /ping`` — ``"pong"`` (liveness).

At most ``concurrency`` runs execute at once; the rest wait their turn.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from turnrl.sandboxes.api import Sandbox, SandboxUsageError, one_line
from turnrl.sandboxes.fusion import to_response


class RunCodeRequest(BaseModel):
    """SandboxFusion's request; fields it has that turnrl does not use are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")

    code: str
    language: str = "python"
    stdin: str | None = None
    run_timeout: float = Field(10.0, gt=0)
    compile_timeout: float = Field(10.0, gt=0)
    memory_limit_MB: int = -1
    files: dict[str, str | None] = Field(default_factory=dict)
    fetch_files: list[str] = Field(default_factory=list)


def build_app(sandbox: Sandbox, *, concurrency: int = 8) -> Any:
    """The aiohttp application serving ``sandbox``."""
    from aiohttp import web

    semaphore = asyncio.Semaphore(concurrency)

    async def run_code(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _bad("the body must be JSON")
        try:
            parsed = RunCodeRequest.model_validate(body)
        except ValidationError as exc:
            return _bad(one_line(exc))
        try:
            files = {path: base64.b64decode(text or "", validate=True)
                     for path, text in parsed.files.items()}
        except (binascii.Error, ValueError):
            return _bad("files must map paths to base64 text")
        limits = {"memory_mb": parsed.memory_limit_MB} if parsed.memory_limit_MB > 0 else None
        async with semaphore:
            try:
                result = await sandbox.run(parsed.code, language=parsed.language, files=files,
                                           stdin=parsed.stdin or "",
                                           timeout=parsed.run_timeout, limits=limits,
                                           fetch=parsed.fetch_files)
            except SandboxUsageError as exc:
                return _bad(str(exc))
        return web.json_response(to_response(result, pod=f"turnrl-{sandbox.name}"))

    async def ping(request: web.Request) -> web.Response:
        return web.json_response("pong")

    app = web.Application(client_max_size=256 << 20)
    app.router.add_post("/run_code", run_code)
    app.router.add_get("/v1/ping", ping)
    app.router.add_get("/ping", ping)

    async def close_sandbox(app: web.Application) -> None:
        await sandbox.close()

    app.on_cleanup.append(close_sandbox)
    return app


def _bad(detail: str) -> Any:
    from aiohttp import web

    return web.json_response({"detail": detail}, status=400)
