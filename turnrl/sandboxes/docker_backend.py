"""``docker``: the same sandbox API on a real Docker engine (docker SDK), with a warm pool.

A one-shot run takes a started container from the pool and runs the shared wrapper
(``wrapper.py``) in it with ``docker exec`` as uid 65534: the wrapper wipes the container's
directories, unpacks the run's files from the head of stdin, runs the program under
``timeout``/``prlimit``, kills every leftover process and reports the exit status (and an OOM
flag read from the container's memory cgroup) after a per-run marker at the end of stderr. A
healthy container goes back to the pool (``max_uses`` times at most); one whose run timed out,
ran out of memory, flooded its output or failed is removed. ``pool_size=0`` gives a cold
container per run. A session owns one container for its lifetime.

Runs whose ``memory_mb``, ``processes`` or ``disk_mb`` differ from the sandbox's defaults need
a container made with them: they get a cold one. The engine must be reachable
(``DOCKER_HOST`` or the default socket) and the image built (``turnrl sandbox build``);
otherwise the constructor raises ``SandboxUnavailable`` saying how.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import secrets
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from turnrl.sandboxes import tario
from turnrl.sandboxes.api import (
    PYTHON,
    WORKDIR,
    ExecResult,
    Limits,
    RunRequest,
    SandboxUnavailable,
    parse_options,
    prepare_run,
    sandbox_error,
)
from turnrl.sandboxes.docker_build import DEFAULT_IMAGE
from turnrl.sandboxes.docker_exec import ExecOutcome, exec_with_stdin
from turnrl.sandboxes.docker_pool import (
    ContainerPool,
    ContainerSpec,
    create_container,
    reap_orphans,
    remove_container,
    remove_own,
)
from turnrl.sandboxes.process import Collected
from turnrl.sandboxes.results import classify
from turnrl.sandboxes.wrapper import SCRIPT, parse_report, wrapper_args

USER = "65534:65534"
HOST_SLACK_S = 5.0
START_HINT = (
    "start one with `sudo dockerd --bridge=none --iptables=false --ip-masq=false "
    "--ip-forward=false --storage-driver=overlay2 &` (or `sudo systemctl start docker`), "
    "then `turnrl sandbox build`")
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": WORKDIR,
            "TMPDIR": "/tmp", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}


def connect_engine(*, timeout: int, connections: int = 64) -> Any:
    """A pinged docker SDK client for ``DOCKER_HOST`` (default: the standard socket), or
    ``SandboxUnavailable`` saying how to start an engine.

    A ``unix://`` socket that does not exist is refused before the SDK is asked (its failed
    connect would leave a socket object behind). The SDK keeps one connection pool per URL
    and closes the least recently used beyond ``num_pools`` — with a container pool, every
    container and every exec has its own URLs, so under concurrency it closed pools other
    threads were using; the client gets room for thousands, and ``connections`` per pool."""
    import os

    import docker

    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://") and not os.path.exists(host[len("unix://"):]):
        raise SandboxUnavailable(f"no Docker engine is reachable (no socket at {host}); "
                                 f"{START_HINT}")
    client = None
    try:
        client = docker.DockerClient(**docker.utils.kwargs_from_env(), timeout=timeout,
                                     num_pools=4096, max_pool_size=connections)
        client.ping()
    except Exception as exc:
        if client is not None:
            client.close()
        raise SandboxUnavailable(f"no Docker engine is reachable ({exc}); {START_HINT}") \
            from None
    return client


class DockerOptions(BaseModel):
    """Options of ``make_sandbox("docker", ...)``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image: str = Field(DEFAULT_IMAGE, description="image built by `turnrl sandbox build`")
    limits: Limits = Field(default_factory=Limits, description="default limits of every run")
    pool_size: int = Field(4, ge=0, description="warm containers kept ready; 0 = cold runs")
    max_uses: int = Field(100, ge=1, description="runs per container before it is replaced")
    cpus: float = Field(1.0, gt=0, description="CPU quota of each container")
    python: str = Field("python3", description="the interpreter inside the image")
    threads: int = Field(64, ge=1, description="threads making blocking engine calls")


class DockerSandbox:
    """Runs in containers of a real Docker engine (see the module docstring)."""

    name = "docker"

    def __init__(self, **options: Any) -> None:
        self.options: DockerOptions = parse_options(DockerOptions, self.name, options)
        try:
            import docker
        except ImportError:
            raise SandboxUnavailable(
                "the docker SDK is missing: pip install 'turnrl[docker]'") from None
        self.client = connect_engine(timeout=120, connections=self.options.threads)
        try:
            self.client.images.get(self.options.image)
        except docker.errors.ImageNotFound:
            self.client.close()
            raise SandboxUnavailable(f"image {self.options.image!r} is not built: run "
                                     "`turnrl sandbox build`") from None
        reap_orphans(self.client)
        atexit.register(remove_own, self.client)
        self.executor = ThreadPoolExecutor(self.options.threads, thread_name_prefix="turnrl-dk")
        limits = self.options.limits
        self.spec = ContainerSpec(self.options.image, limits.memory_mb, limits.processes,
                                  limits.disk_mb, self.options.cpus)
        self.pool = ContainerPool(self.client, self.spec, self.options.pool_size, self.executor,
                                  self.options.max_uses)
        self.enforcement = {
            "isolation": "docker container (no network, read-only root, no capabilities)",
            "memory": "container memory cgroup", "processes": "container pids limit",
            "disk": "tmpfs size", "cpu": f"quota {self.options.cpus} CPU + rlimit",
            "files": "rlimit", "time": "timeout + kill",
        }

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: fn(*args, **kwargs))

    # ------------------------------------------------------------------ public API
    async def run(self, code: str | None = None, *, command: Sequence[str] | None = None,
                  language: str = "python", files: Mapping[str, bytes | str] | None = None,
                  stdin: str | bytes = "", timeout: float = 10.0,
                  limits: Limits | Mapping[str, Any] | None = None,
                  env: Mapping[str, str] | None = None,
                  fetch: Sequence[str] | None = None) -> ExecResult:
        request = prepare_run(code, command=command, language=language, files=files,
                              stdin=stdin, timeout=timeout, limits=limits,
                              default_limits=self.options.limits, env=env, fetch=fetch)
        start = time.perf_counter()
        spec = self._spec_for(request.limits)
        pooled = spec == self.spec and self.options.pool_size > 0
        try:
            container = await (self.pool.acquire() if pooled
                               else self._call(create_container, self.client, spec))
        except Exception as exc:
            return sandbox_error(f"could not start a container: {exc}",
                                 time.perf_counter() - start)
        result = sandbox_error("the run did not finish")
        try:
            result = await self.execute(container, request, clean=True, start=start)
        finally:
            healthy = result.status in ("ok", "error")
            if pooled:
                await self.pool.release(container, healthy=healthy)
            else:
                await self._call(remove_container, container)
        return result

    def session(self) -> DockerSession:
        return DockerSession(self)

    async def warm_up(self) -> None:
        """Start the pool's containers now rather than on the first runs."""
        await self.pool.fill()

    async def close(self) -> None:
        """Remove the pool's containers and close the engine connections (idempotent; the
        sandbox starts a new pool if it is used again)."""
        await self.pool.close()
        self.pool = ContainerPool(self.client, self.spec, self.options.pool_size, self.executor,
                                  self.options.max_uses)
        self.client.close()

    async def __aenter__(self) -> DockerSandbox:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ one run
    def _spec_for(self, limits: Limits) -> ContainerSpec:
        return ContainerSpec(self.options.image, limits.memory_mb, limits.processes,
                             limits.disk_mb, self.options.cpus)

    async def execute(self, container: Any, request: RunRequest, *, clean: bool,
                      start: float) -> ExecResult:
        limits = request.limits
        marker = f"--turnrl-report-{secrets.token_hex(12)}--"
        payload = tario.pack(request.files) if request.files else b""
        argv = [self.options.python if a == PYTHON else a for a in request.argv]
        cpu = limits.cpu_limit(request.timeout)
        prlimits = [f"--cpu={cpu}:{cpu + 1}", f"--fsize={limits.file_size_mb << 20}",
                    f"--nofile={limits.open_files}", "--core=0"]
        command = ["sh", "-c", SCRIPT, "sh",
                   *wrapper_args(input_spec=f"stdin:{len(payload)}" if payload else "none",
                                 fetch=request.fetch, seconds=request.timeout,
                                 report=f"stderr:{marker}", oomfile="auto", clean=clean),
                   "prlimit", *prlimits, "--", *argv]
        report_room = ((limits.disk_mb << 20) if request.fetch else 0) + 4096
        deadline = time.monotonic() + request.timeout + HOST_SLACK_S
        outcome: ExecOutcome = await self._call(
            exec_with_stdin, self.client.api, container.id, command,
            env={**BASE_ENV, **request.env}, stdin=payload + request.stdin, deadline=deadline,
            stdout_limit=limits.output_bytes, stderr_limit=limits.output_bytes + report_room,
            user=USER, workdir=WORKDIR)
        duration = time.perf_counter() - start
        if outcome.error:
            return sandbox_error(outcome.error, duration)
        stopped = outcome.timed_out or outcome.stdout_exceeded or outcome.stderr_exceeded
        if stopped:
            await self._kill_leftovers(container)
        stderr, _, report = outcome.stderr.partition(marker.encode())
        started, exit_status, oom, tar_bytes = parse_report(report)
        stderr_exceeded = (outcome.stderr_exceeded and not started) or \
            len(stderr) > limits.output_bytes
        collected = Collected(
            returncode=None, stdout=outcome.stdout, stderr=stderr[:limits.output_bytes],
            truncated=outcome.stdout_exceeded or stderr_exceeded,
            timed_out=outcome.timed_out, output_exceeded=outcome.stdout_exceeded or
            stderr_exceeded, duration_s=duration)
        if not stopped and not started:
            message = stderr.decode(errors="replace").strip() or \
                f"the container's wrapper exited with {outcome.exit_code} before the program"
            return sandbox_error(f"sandbox failed to start: {message}", duration)
        if exit_status is None and not stopped:
            exit_status = outcome.exit_code
        result = classify(collected, exit_status, timeout=request.timeout, oom=oom)
        if request.fetch and tar_bytes:
            fetched = tario.select(tario.unpack(tar_bytes, limit=limits.disk_mb << 20),
                                   request.fetch)
            result = ExecResult(status=result.status, exit_code=result.exit_code,
                                stdout=result.stdout, stderr=result.stderr,
                                truncated=result.truncated, duration_s=result.duration_s,
                                files=fetched)
        return result

    async def _kill_leftovers(self, container: Any) -> None:
        with contextlib.suppress(Exception):
            await self._call(container.exec_run, ["kill", "-s", "KILL", "--", "-1"], user=USER)


class DockerSession:
    """Runs sharing one container (and so one working directory) until ``close``. A container
    that died answers every later run with ``sandbox_error``."""

    def __init__(self, sandbox: DockerSandbox) -> None:
        self.sandbox = sandbox
        self.container: Any = None
        self.closed = False
        self._lock = asyncio.Lock()

    async def run(self, code: str | None = None, *, command: Sequence[str] | None = None,
                  language: str = "python", files: Mapping[str, bytes | str] | None = None,
                  stdin: str | bytes = "", timeout: float = 10.0,
                  limits: Limits | Mapping[str, Any] | None = None,
                  env: Mapping[str, str] | None = None,
                  fetch: Sequence[str] | None = None) -> ExecResult:
        sandbox = self.sandbox
        request = prepare_run(code, command=command, language=language, files=files,
                              stdin=stdin, timeout=timeout, limits=limits,
                              default_limits=sandbox.options.limits, env=env, fetch=fetch)
        start = time.perf_counter()
        async with self._lock:
            if self.closed:
                return sandbox_error("the session is closed")
            if self.container is None:
                try:
                    self.container = await sandbox._call(
                        create_container, sandbox.client, sandbox._spec_for(request.limits))
                except Exception as exc:
                    return sandbox_error(f"could not start a container: {exc}")
            return await sandbox.execute(self.container, request, clean=False, start=start)

    async def close(self) -> None:
        async with self._lock:
            self.closed = True
            container, self.container = self.container, None
        if container is not None:
            await self.sandbox._call(remove_container, container)

    async def __aenter__(self) -> DockerSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
