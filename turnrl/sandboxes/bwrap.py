"""``bwrap``: the embedded default sandbox — Linux namespaces through bubblewrap, no daemon.

Each run is one ``bwrap`` process with new user, mount, network, PID, IPC, UTS and cgroup
namespaces: no network at all (not even the host's loopback), uid/gid 65534, no capabilities,
no further user namespaces, a new terminal session, and ``--die-with-parent``. The file system
is built from nothing: ``/usr`` (and the ``/bin``, ``/lib*`` links into it), a few ``/etc``
files the dynamic loader and libc read, the interpreter's prefixes (``interpreter.py``) — all
read-only — plus fresh ``/proc`` and ``/dev``, a size-capped tmpfs working directory
``/sandbox`` and a size-capped ``/tmp``; then ``/`` is remounted read-only. ``$HOME``,
``/root``, ``/etc/shadow``, other runs' directories and the caller's environment variables are
simply not there (bwrap is started with only the run's own environment: in a PID namespace
``/proc/1/environ`` is bwrap's). The shell wrapper (``wrapper.py``) applies rlimits, kills every
leftover process when the program ends, and hands fetched files back through a memfd.

Memory and process counts use a per-run cgroup when one can be made (``cgroups.py``), else
rlimits; ``enforcement`` says which. When ``bwrap`` is missing the constructor raises
``SandboxUnavailable`` with the install command — there is no silent fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
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
    SandboxUsageError,
    parse_options,
    prepare_run,
    sandbox_error,
)
from turnrl.sandboxes.bwrap_host import (
    JOIN_CGROUP,
    SANDBOX_UID,
    memfd,
    private_dir,
    probe,
    read_fd,
    read_file,
    require,
    static_etc,
    status_report,
    ulimits,
    user_process_count,
    with_files,
    write,
)
from turnrl.sandboxes.cgroups import RunCgroup, cgroup_manager
from turnrl.sandboxes.interpreter import check_bindable, resolve_interpreter
from turnrl.sandboxes.process import collect, shell_exit_code
from turnrl.sandboxes.results import classify
from turnrl.sandboxes.wrapper import SCRIPT, parse_report, wrapper_args

INSTALL_HINT = ("bubblewrap is not installed: `apt-get install bubblewrap` (Debian/Ubuntu), "
                "`dnf install bubblewrap` (Fedora) or `pacman -S bubblewrap` (Arch)")
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
             "/etc/alternatives", "/etc/nsswitch.conf")
TOP_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
WRAPPER_PROCESSES = 4
"""bwrap, bwrap's PID 1, the wrapper shell and ``timeout`` (a session's run; a plain run has
only the first two, a fetching one three): counted in the pids cgroup on top of
``Limits.processes``, so the program and its children get exactly that many."""
HOST_SLACK_S = 2.0
"""Seconds the host waits past a run's timeout (the in-sandbox ``timeout`` acts first)."""
BASE_ENV = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": WORKDIR, "TMPDIR": "/tmp",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}


class BwrapOptions(BaseModel):
    """Options of ``make_sandbox("bwrap", ...)``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    python: str | None = Field(None, description="interpreter path or command; None = this one")
    limits: Limits = Field(default_factory=Limits, description="default limits of every run")
    ro_binds: tuple[str, ...] = Field((), description="extra host paths visible read-only")
    cgroups: bool | None = Field(None, description="None = use cgroups when possible")
    bwrap: str = Field("bwrap", description="the bubblewrap executable")


class BwrapSandbox:
    """One-shot runs and sessions in bubblewrap namespaces (see the module docstring)."""

    name = "bwrap"

    def __init__(self, **options: Any) -> None:
        self.options: BwrapOptions = parse_options(BwrapOptions, self.name, options)
        self.bwrap = shutil.which(self.options.bwrap)
        if not self.bwrap:
            raise SandboxUnavailable(INSTALL_HINT)
        self.tools = {tool: require(tool) for tool in ("prlimit", "timeout", "tar")}
        self.interpreter = resolve_interpreter(self.options.python)
        for path in self.options.ro_binds:
            if not os.path.exists(path):
                raise SandboxUsageError(f"ro_binds: {path!r} does not exist")
            check_bindable(path)
        manager = cgroup_manager()
        self.cgroups = manager if manager.available and self.options.cgroups is not False \
            else None
        if self.options.cgroups and self.cgroups is None:
            raise SandboxUnavailable(f"cgroups=True but {manager.reason}")
        self.enforcement = {
            "isolation": "bubblewrap namespaces (user, mount, net, pid, ipc, uts, cgroup)",
            "memory": f"cgroup v{manager.version}" if self.cgroups else "rlimit (address space)",
            "processes": f"cgroup v{manager.version} pids" if self.cgroups else (
                "rlimit (RLIMIT_NPROC above the user's current count)" if os.geteuid() != 0
                else "none beyond the PID namespace and timeout (root without cgroups)"),
            "disk": "tmpfs size", "cpu": "rlimit", "files": "rlimit", "time": "timeout + kill",
        }
        self._static = static_etc()
        self._base_args = self._fixed_args()
        probe(self.bwrap, tuple(self._base_args))

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
        result, _ = await self.execute(request, state=None)
        return result

    def session(self) -> BwrapSession:
        return BwrapSession(self)

    async def close(self) -> None:
        """Nothing is held between runs; present for the protocol."""

    async def __aenter__(self) -> BwrapSandbox:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ one run
    async def execute(self, request: RunRequest, *, state: bytes | None
                      ) -> tuple[ExecResult, bytes | None]:
        """Run ``request``; with ``state`` (a session's tar, b"" when empty) restore it first
        and return the new state (None when it could not be read back)."""
        limits = request.limits
        session = state is not None
        plain = not session and not request.fetch  # no wrapper: bwrap runs the program
        fds: list[int] = []
        group: RunCgroup | None = None
        run_dir = "" if plain else tempfile.mkdtemp(prefix="run-", dir=private_dir())
        report_path = os.path.join(run_dir, "report")
        rlimits = [*self._rlimit_args(limits, request.timeout), "--"]
        try:
            args = list(self._base_args)
            args += ["--size", str(limits.disk_mb << 20), "--tmpfs", WORKDIR,
                     "--size", str(limits.disk_mb << 20), "--tmpfs", "/tmp"]
            input_spec = "none"
            if session:
                stream = (state or b"") + (tario.pack(request.files) if request.files else b"")
                args += ["--ro-bind", write(run_dir, "restore", stream), "/.turnrl/restore"]
                input_spec = "file:/.turnrl/restore"
            else:
                for path, data in request.files.items():
                    fd = memfd("file", data)
                    fds.append(fd)
                    perms = "0755" if data.startswith(b"#!") else "0644"
                    args += ["--perms", perms, "--file", str(fd), f"{WORKDIR}/{path}"]
            if plain:
                status_fd = memfd("status", b"")
                fds.append(status_fd)
                args += ["--json-status-fd", str(status_fd)]
            else:
                open(report_path, "wb").close()
                args += ["--bind", report_path, "/.turnrl/report"]
            args += ["--remount-ro", "/", "--chdir", WORKDIR]
            argv = [self.interpreter.executable if a == PYTHON else a for a in request.argv]
            if plain:
                inner = argv
            else:  # a session's wrapper times the program out itself and keeps the directory
                inner = ["/bin/sh", "-c", SCRIPT, "sh",
                         *wrapper_args(input_spec=input_spec,
                                       fetch=None if session else request.fetch,
                                       seconds=request.timeout if session else 0.0,
                                       report="/.turnrl/report"),
                         *([self.tools["prlimit"], *rlimits] if session else []), *argv]
            full = [self.bwrap, *args, "--", *inner]
            if not session and self.cgroups is None:  # rlimits on bwrap, for the program
                full = [self.tools["prlimit"], *rlimits, *full]
            if self.cgroups is not None:
                try:
                    overhead = 2 if plain else (WRAPPER_PROCESSES if session else 3)
                    group = self.cgroups.create(limits.memory_mb << 20,
                                               limits.processes + overhead)
                except OSError as exc:
                    return sandbox_error(f"could not create the run's cgroup: {exc}"), None
                # one shell joins the cgroup and (one-shot runs) sets the rlimits: a process
                # start fewer than `prlimit`, which counts on a busy machine
                script = JOIN_CGROUP + ("" if session else ulimits(limits, request.timeout))
                full = ["/bin/sh", "-c", script + 'exec "$@"', "sh", *group.procs_files, "--",
                        *full]
            collected = await collect(
                full, env=self._environment(request.env), stdin=request.stdin,
                timeout=request.timeout + (HOST_SLACK_S if session else 0.0),
                output_limit=limits.output_bytes, pass_fds=fds,
                on_kill=group.kill_members if group else None)
            if plain:
                report = status_report(read_fd(status_fd, 1 << 16))
            else:
                report = read_file(report_path, (limits.disk_mb << 20) + (1 << 20))
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
            if run_dir:
                shutil.rmtree(run_dir, ignore_errors=True)
        oom = False
        if group is not None:
            group.kill_members()
            oom = group.oom_killed()
            if not group.remove(0.0):
                await asyncio.to_thread(group.remove)
        started, exit_status, _, tar_bytes = parse_report(report)
        if collected.start_error:
            return sandbox_error(collected.start_error, collected.duration_s), None
        if not started and not (collected.timed_out or collected.output_exceeded):
            message = collected.stderr.decode(errors="replace").strip() or \
                f"bwrap exited with {shell_exit_code(collected.returncode)} before the program"
            return sandbox_error(f"sandbox failed to start: {message}",
                                 collected.duration_s), None
        if exit_status is None:
            exit_status = shell_exit_code(collected.returncode)
        result = classify(collected, exit_status, timeout=request.timeout, oom=oom)
        limit = limits.disk_mb << 20
        new_state: bytes | None = None
        fetched: dict[str, bytes] = {}
        if session and exit_status is not None and not collected.timed_out:
            new_state = tar_bytes
            if request.fetch:
                fetched = tario.select(tario.unpack(tar_bytes, limit=limit), request.fetch)
        elif request.fetch:
            fetched = tario.select(tario.unpack(tar_bytes, limit=limit), request.fetch)
        if fetched:
            result = with_files(result, fetched)
        return result, new_state

    # ------------------------------------------------------------------ argv pieces
    def _fixed_args(self) -> list[str]:
        args = [
            "--unshare-user", "--unshare-ipc", "--unshare-pid", "--unshare-net",
            "--unshare-uts", "--unshare-cgroup", "--uid", str(SANDBOX_UID), "--gid",
            str(SANDBOX_UID), "--disable-userns", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--hostname", "sandbox",
            "--ro-bind", "/usr", "/usr",
        ]
        for top in TOP_LINKS:
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        for path in ETC_FILES:
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
        for name, host_path in self._static.items():
            args += ["--ro-bind", host_path, f"/etc/{name}"]
        for path in (*self.interpreter.binds, *self.options.ro_binds):
            args += ["--ro-bind", path, os.path.abspath(path)]
        args += ["--proc", "/proc", "--dev", "/dev"]
        return args

    def _rlimit_args(self, limits: Limits, timeout: float) -> list[str]:
        cpu = limits.cpu_limit(timeout)
        args = [f"--cpu={cpu}:{cpu + 1}", f"--fsize={limits.file_size_mb << 20}",
                f"--nofile={limits.open_files}", "--core=0"]
        if self.cgroups is None:
            args.append(f"--as={limits.memory_mb << 20}")
            if os.geteuid() != 0:  # RLIMIT_NPROC counts the user's processes everywhere
                args.append(f"--nproc={user_process_count() + limits.processes + 8}")
        return args

    def _environment(self, extra: Mapping[str, str]) -> dict[str, str]:
        path = ":".join(dict.fromkeys((self.interpreter.bin_dir, "/usr/local/bin", "/usr/bin",
                                       "/bin")))
        return {"PATH": path, **BASE_ENV, **extra}


class BwrapSession:
    """Runs sharing one working directory: its contents travel as a tar stream between runs
    (restored before, saved after each run, capped by ``disk_mb``). A run that times out keeps
    what it wrote before the deadline; a run whose sandbox failed leaves the directory as it
    was. Runs of one session are serialised."""

    def __init__(self, sandbox: BwrapSandbox) -> None:
        self.sandbox = sandbox
        self.state = b""
        self.closed = False
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
            if self.closed:
                return sandbox_error("the session is closed")
            result, state = await self.sandbox.execute(request, state=self.state)
            if state is not None:
                self.state = state
            return result

    async def close(self) -> None:
        self.closed = True
        self.state = b""

    async def __aenter__(self) -> BwrapSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


# --------------------------------------------------------------------------- helpers
