"""The sandbox contract: ``ExecResult``, ``Limits``, the ``Sandbox`` / ``Session`` protocols and
``make_sandbox``.

Every backend (``bwrap``, ``docker``, ``local``, ``sandbox-fusion``, or a third party's) answers
the same call::

    result = await sandbox.run(code, stdin="1 2\\n", timeout=5)       # a program in a language
    result = await sandbox.run(command=["python", "harness.py"],      # or a command, with files
                               files={"harness.py": b"..."}, env={"TRITON_INTERPRET": "1"},
                               fetch=["out.json"])

A caller mistake (both ``code`` and ``command``, an absolute file path, an unknown language, a
bad limit) raises ``SandboxUsageError`` with one line; anything that goes wrong *in* the run —
including the sandbox itself failing — comes back as an ``ExecResult`` with a status, never as an
exception, so a crashed sandbox cannot take an episode down with it.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Status = Literal["ok", "error", "timeout", "memory", "output_limit", "sandbox_error"]
STATUSES: tuple[str, ...] = ("ok", "error", "timeout", "memory", "output_limit", "sandbox_error")
WORKDIR = "/sandbox"
"""The working directory inside every isolating backend (a size-capped tmpfs)."""


class SandboxUsageError(ValueError):
    """The caller asked for something invalid (one line says what); the run never started."""


class SandboxUnavailable(RuntimeError):
    """The backend cannot work on this machine (``bwrap`` missing, no Docker engine, no image);
    the message says how to fix it. Never answered by a silent fallback to less isolation."""


@dataclass(slots=True, frozen=True)
class ExecResult:
    """What one run produced.

    ``status``: ``"ok"`` (exit 0), ``"error"`` (non-zero exit), ``"timeout"`` (wall clock or CPU
    seconds ran out), ``"memory"`` (killed or failed for the memory limit), ``"output_limit"``
    (stdout or stderr passed ``Limits.output_bytes``; the run was stopped), ``"sandbox_error"``
    (the sandbox itself failed; ``stderr`` says why). ``exit_code`` is the program's exit status,
    128 + N when a signal N ended it (as a shell reports it, the same on every backend), ``None``
    when the sandbox stopped it (timeout, output limit) or it never ran. ``truncated`` is true
    when stdout or stderr was cut at the output limit. ``files`` holds the files asked for with
    ``fetch=`` (path relative to the working directory -> bytes); paths that did not exist are
    absent.
    """

    status: Status
    exit_code: int | None
    stdout: str
    stderr: str
    truncated: bool = False
    duration_s: float = 0.0
    files: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"ExecResult.status must be one of {STATUSES}, got {self.status!r}")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (fetched files as latin-1 text would be lossy: they are left out)."""
        return {"status": self.status, "exit_code": self.exit_code, "stdout": self.stdout,
                "stderr": self.stderr, "truncated": self.truncated,
                "duration_s": self.duration_s, "files": sorted(self.files)}


class Limits(BaseModel):
    """Resource limits of one run; the defaults are safe for model-written code.

    ``memory_mb`` is enforced as a memory cgroup (resident memory and tmpfs pages) where the
    backend can create one (``docker`` always; ``bwrap`` when the process may write a cgroup
    v1 memory hierarchy or a delegated cgroup v2 directory) and otherwise as the address-space
    rlimit. Address space counts *mappings*, not use: ``import torch`` alone maps ~0.8 GB, so a
    caller that imports torch must pass ``memory_mb >= 2048`` when ``sandbox.enforcement["memory"]
    == "rlimit"`` (``TORCH_LIMITS`` below does). ``processes`` counts processes and threads
    (pids cgroup; a relative ``RLIMIT_NPROC`` without one). ``cpu_seconds=None`` means the run's
    timeout rounded up plus one. ``output_bytes`` caps stdout and stderr each; ``disk_mb`` caps
    the working directory (and ``/tmp``); ``file_size_mb`` caps any one written file.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    memory_mb: int = Field(512, ge=16, description="memory cap (cgroup) or address space (rlimit)")
    processes: int = Field(64, ge=1, description="processes + threads the run may hold at once")
    cpu_seconds: float | None = Field(None, gt=0, description="CPU time; None = timeout + 1")
    output_bytes: int = Field(1 << 20, ge=1024, description="per stream; more stops the run")
    file_size_mb: int = Field(64, ge=1, description="largest file the run may write")
    open_files: int = Field(256, ge=16, description="open file descriptors")
    disk_mb: int = Field(256, ge=1, description="size of the tmpfs working directory")

    def merged(self, override: Limits | Mapping[str, Any] | None) -> Limits:
        """These limits with ``override`` on top (a ``Limits`` replaces, a mapping patches)."""
        if override is None:
            return self
        if isinstance(override, Limits):
            return override
        if not isinstance(override, Mapping):
            raise SandboxUsageError(
                f"limits must be a Limits or a mapping, got {type(override).__name__}")
        try:
            return Limits(**{**self.model_dump(), **dict(override)})
        except ValidationError as exc:
            raise SandboxUsageError(f"bad limits: {one_line(exc)}") from None

    def cpu_limit(self, timeout: float) -> int:
        """CPU seconds for a run with this wall-clock ``timeout`` (whole seconds, >= 1)."""
        if self.cpu_seconds is not None:
            return max(1, math.ceil(self.cpu_seconds))
        return math.ceil(timeout) + 1


TORCH_LIMITS = Limits(memory_mb=4096, processes=256, open_files=1024, disk_mb=512)
"""Limits sized for a harness that imports torch/triton (address space, threads, .so files)."""


def one_line(exc: ValidationError) -> str:
    """A pydantic error as one line: ``field: message; field: message``."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "value"
        if err["type"] == "extra_forbidden":
            parts.append(f"unknown option {where!r}")
        else:
            parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- run requests
@dataclass(slots=True, frozen=True)
class RunRequest:
    """One validated run: what every backend receives from ``prepare_run``.

    ``argv[0]`` may be the placeholder ``PYTHON`` (the backend's interpreter); ``files`` are
    relative POSIX paths inside the working directory.
    """

    argv: tuple[str, ...]
    files: dict[str, bytes]
    stdin: bytes
    timeout: float
    limits: Limits
    env: dict[str, str]
    fetch: tuple[str, ...]


PYTHON = "\x00python"
"""Placeholder for the backend's Python interpreter in ``RunRequest.argv``."""


def prepare_run(code: str | None, *, command: Sequence[str] | None, language: str,
                files: Mapping[str, bytes | str] | None, stdin: str | bytes, timeout: float,
                limits: Limits | Mapping[str, Any] | None, default_limits: Limits,
                env: Mapping[str, str] | None, fetch: Sequence[str] | None) -> RunRequest:
    """Check a ``run`` call's arguments and turn them into a ``RunRequest`` (one line on error)."""
    from turnrl.sandboxes.languages import language_spec

    if (code is None) == (command is None):
        raise SandboxUsageError("pass exactly one of code= and command=")
    all_files: dict[str, bytes] = {}
    for path, data in (files or {}).items():
        all_files[check_relative_path(path, "files")] = _as_bytes(data, f"files[{path!r}]")
    if code is not None:
        if not isinstance(code, str):
            raise SandboxUsageError(f"code must be str, got {type(code).__name__}")
        spec = language_spec(language)
        if spec.filename in all_files:
            raise SandboxUsageError(f"files= must not hold {spec.filename!r}: code= writes it")
        all_files[spec.filename] = code.encode()
        argv = tuple(spec.argv)
    else:
        if isinstance(command, str) or not command or \
                not all(isinstance(a, str) for a in command):  # type: ignore[union-attr]
            raise SandboxUsageError("command must be a non-empty list of strings")
        argv = tuple(command)  # type: ignore[arg-type]
    if not isinstance(timeout, int | float) or not math.isfinite(timeout) or timeout <= 0:
        raise SandboxUsageError(f"timeout must be a positive number of seconds, got {timeout!r}")
    clean_env: dict[str, str] = {}
    for key, value in (env or {}).items():
        if not isinstance(key, str) or not key or "=" in key or "\x00" in key \
                or not isinstance(value, str) or "\x00" in value:
            raise SandboxUsageError(f"env entries must be str -> str without '=' in names, "
                                    f"got {key!r}: {value!r}")
        clean_env[key] = value
    wanted = tuple(check_relative_path(p, "fetch") for p in (fetch or ()))
    return RunRequest(argv=argv, files=all_files, stdin=_as_bytes(stdin, "stdin"),
                      timeout=float(timeout), limits=default_limits.merged(limits),
                      env=clean_env, fetch=wanted)


def check_relative_path(path: object, what: str) -> str:
    """A normalised relative POSIX path inside the working directory, or a one-line error."""
    if not isinstance(path, str) or not path or "\x00" in path:
        raise SandboxUsageError(f"{what}: paths must be non-empty strings, got {path!r}")
    norm = posixpath.normpath(path)
    if path.startswith("/") or norm == ".." or norm.startswith("../") or norm == ".":
        raise SandboxUsageError(
            f"{what}: {path!r} must be a relative path inside the working directory")
    return norm


def _as_bytes(data: object, what: str) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    if isinstance(data, str):
        return data.encode()
    raise SandboxUsageError(f"{what} must be bytes or str, got {type(data).__name__}")


# --------------------------------------------------------------------------- protocols
@runtime_checkable
class Session(Protocol):
    """Runs that share one working directory (and, on Docker, one container).

    ``async with sandbox.session() as s:``; ``close()`` is idempotent. A session whose sandbox
    died answers every later ``run`` with ``status="sandbox_error"`` instead of hanging.
    """

    async def run(self, code: str | None = None, *, command: Sequence[str] | None = None,
                  language: str = "python", files: Mapping[str, bytes | str] | None = None,
                  stdin: str | bytes = "", timeout: float = 10.0,
                  limits: Limits | Mapping[str, Any] | None = None,
                  env: Mapping[str, str] | None = None,
                  fetch: Sequence[str] | None = None) -> ExecResult: ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Session: ...

    async def __aexit__(self, *exc: object) -> None: ...


@runtime_checkable
class Sandbox(Protocol):
    """A backend: one-shot ``run`` calls, each in a fresh working directory, and sessions.

    ``name`` is the registered backend name; ``enforcement`` says how each limit is enforced on
    this machine (e.g. ``{"memory": "cgroup", "processes": "cgroup", ...}``).
    """

    name: str
    enforcement: dict[str, str]

    async def run(self, code: str | None = None, *, command: Sequence[str] | None = None,
                  language: str = "python", files: Mapping[str, bytes | str] | None = None,
                  stdin: str | bytes = "", timeout: float = 10.0,
                  limits: Limits | Mapping[str, Any] | None = None,
                  env: Mapping[str, str] | None = None,
                  fetch: Sequence[str] | None = None) -> ExecResult: ...

    def session(self) -> Session: ...

    async def close(self) -> None: ...


def sandbox_error(message: str, duration_s: float = 0.0) -> ExecResult:
    """The result of a run the sandbox itself could not carry out."""
    return ExecResult(status="sandbox_error", exit_code=None, stdout="", stderr=message,
                      truncated=False, duration_s=duration_s)


# --------------------------------------------------------------------------- construction
def parse_options(model: type[BaseModel], backend: str, options: Mapping[str, Any]) -> Any:
    """Validate a backend's options with its pydantic model; one line naming the bad ones."""
    try:
        return model(**dict(options))
    except ValidationError as exc:
        raise SandboxUsageError(f"sandbox {backend!r}: {one_line(exc)}") from None


def make_sandbox(name: str = "bwrap", *, host: Any = None, **options: Any) -> Sandbox:
    """Build the sandbox backend registered as ``name`` (``turnrl_register_sandboxes``).

    Unknown names raise ``PluginError`` listing the known ones; bad options raise
    ``SandboxUsageError``; a backend that cannot work here raises ``SandboxUnavailable`` saying
    how to fix it.
    """
    if host is None:
        from turnrl.core.host import get_host

        host = get_host()
    component = host.lookup("sandboxes", name)
    factory = component.resolve()
    try:
        return factory(**options)
    except TypeError as exc:  # a third-party factory without an options model
        if "keyword argument" not in str(exc):
            raise
        raise SandboxUsageError(f"sandbox {name!r}: {exc}") from None
