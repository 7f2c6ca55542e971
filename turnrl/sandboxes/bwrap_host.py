"""Host-side pieces of the ``bwrap`` backend: the cgroup-joining shell and its rlimits, the
channels to and from the sandbox (memfds, a private RAM-backed directory, bwrap's JSON status
stream), the static ``/etc`` files every sandbox sees, and the one-time probe that turns a
machine without user namespaces into one clear error.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import subprocess
import tempfile

from turnrl.sandboxes.api import WORKDIR, ExecResult, Limits, SandboxUnavailable

SANDBOX_UID = 65534


JOIN_CGROUP = ('for f in "$@"; do [ "$f" = -- ] && break; '
                'echo $$ >"$f" || { echo "turnrl sandbox: cannot join cgroup $f" >&2; exit 126; }; '
                'shift; done; shift; ')


def ulimits(limits: Limits, timeout: float) -> str:
    """The one-shot rlimits as POSIX ``ulimit`` builtins (dash and bash alike: ``-f`` counts
    512-byte blocks); the soft CPU limit sends SIGXCPU, the hard one a second later kills."""
    cpu = limits.cpu_limit(timeout)
    return (f"ulimit -S -t {cpu} && ulimit -H -t {cpu + 1} && ulimit -n {limits.open_files} && "
            f"ulimit -c 0 && ulimit -f {limits.file_size_mb * 2048} || "
            '{ echo "turnrl sandbox: cannot set rlimits" >&2; exit 126; }; ')


def memfd(name: str, data: bytes) -> int:
    fd = os.memfd_create(f"turnrl-{name}", 0)  # no MFD_CLOEXEC: passed on with pass_fds
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:
        os.close(fd)
        raise
    return fd


def read_fd(fd: int, limit: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, limit)


def status_report(status: bytes) -> bytes:
    """bwrap's ``--json-status-fd`` stream as the wrapper's report (``S`` + ``X<code>``): bwrap
    writes ``exit-code`` only for a program it set up and started — a failed mount or exec
    leaves only ``child-pid`` — so its absence means the sandbox failed (or was killed)."""
    for line in status.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("exit-code"), int):
            return b"SX%d 0\n" % entry["exit-code"]
    return b""


def read_file(path: str, limit: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(limit)
    except OSError:
        return b""


def write(directory: str, name: str, data: bytes) -> str:
    path = os.path.join(directory, name)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


@functools.lru_cache(maxsize=1)
def private_dir() -> str:
    """This process's directory for per-run channel files (RAM-backed ``/dev/shm`` when there
    is one), private to this user and removed at exit; those of dead processes (killed before
    their exit handlers ran) are removed here."""
    import atexit

    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else \
        tempfile.gettempdir()
    for entry in os.scandir(base):
        parts = entry.name.split("-")
        if entry.name.startswith("turnrl-sbx-") and len(parts) > 3 and parts[2].isdigit() \
                and not _alive(int(parts[2])) and entry.is_dir(follow_symlinks=False):
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == os.getuid():
                    shutil.rmtree(entry.path, ignore_errors=True)
    directory = tempfile.mkdtemp(prefix=f"turnrl-sbx-{os.getpid()}-", dir=base)
    atexit.register(shutil.rmtree, directory, True)
    return directory


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def with_files(result: ExecResult, files: dict[str, bytes]) -> ExecResult:
    return ExecResult(status=result.status, exit_code=result.exit_code, stdout=result.stdout,
                      stderr=result.stderr, truncated=result.truncated,
                      duration_s=result.duration_s, files=files)


def require(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise SandboxUnavailable(f"{tool!r} is missing (coreutils / util-linux / tar)")
    return path


def user_process_count() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    count += 1
    return count


@functools.lru_cache(maxsize=1)
def static_etc() -> dict[str, str]:
    """``/etc/passwd``, ``group`` and ``hosts`` for the sandbox user, written once per process
    to the private directory and bound read-only into every run."""
    directory = os.path.join(private_dir(), "etc")
    os.mkdir(directory)
    contents = {
        "passwd": f"root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
                  f"sandbox:x:{SANDBOX_UID}:{SANDBOX_UID}:sandbox:{WORKDIR}:/bin/sh\n",
        "group": f"root:x:0:\nsandbox:x:{SANDBOX_UID}:\n",
        "hosts": "127.0.0.1 localhost sandbox\n::1 localhost\n",
    }
    for name, text in contents.items():
        with open(os.path.join(directory, name), "w") as handle:
            handle.write(text)
        os.chmod(os.path.join(directory, name), 0o644)
    os.chmod(directory, 0o755)
    return {name: os.path.join(directory, name) for name in contents}


@functools.lru_cache(maxsize=8)
def probe(bwrap: str, base_args: tuple[str, ...]) -> None:
    """Start one empty sandbox so a machine without user namespaces fails here, once, with
    bwrap's own reason — not at every run."""
    try:
        done = subprocess.run([bwrap, *base_args, "--", "/bin/true"], capture_output=True,
                              env={}, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"bwrap could not start: {exc}") from None
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip()
        raise SandboxUnavailable(
            f"bwrap cannot create its namespaces here ({reason}); on Ubuntu 24.04+ allow "
            "unprivileged user namespaces for bwrap (AppArmor), or use the docker backend")
