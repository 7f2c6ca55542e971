"""Per-run cgroups for the ``bwrap`` backend: a memory cap that counts what a program *uses*
(not what it maps, unlike ``RLIMIT_AS``), a process/thread cap, and an OOM counter.

Where they come from, in order:

1. ``TURNRL_SANDBOX_CGROUP=/sys/fs/cgroup/<dir>``: a cgroup v2 directory delegated to this
   user whose ``cgroup.subtree_control`` enables ``memory`` and ``pids``
   (e.g. ``systemd-run --user -p Delegate=yes ...``). Runs become its children.
2. cgroup v1 (``memory`` and ``pids`` hierarchies) below this process's own cgroups, when this
   process may create directories there (root in most containers and CI machines).
3. cgroup v2 below this process's own cgroup when its ``cgroup.subtree_control`` already
   enables ``memory`` and ``pids``.

Otherwise ``CgroupManager.available`` is False and the backend falls back to rlimits (and says
so in ``sandbox.enforcement``). A run's cgroup is made before the sandbox starts (the launcher
writes its own PID into it before it ``exec``s ``bwrap``, so no instruction of the program runs
outside it), read after, and removed; leftovers of a crashed process are reaped on start-up.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "turnrl-sbx"
_counter = itertools.count()


@dataclass(slots=True)
class RunCgroup:
    """The cgroup directories of one run (one per hierarchy; v2 has a single one)."""

    memory_dir: Path
    pids_dir: Path
    version: int
    procs_files: tuple[str, ...] = field(default=())

    def oom_killed(self) -> bool:
        """True when the kernel's OOM killer struck inside this run's memory cgroup."""
        if self.version == 1:
            text = _read(self.memory_dir / "memory.oom_control")
            counts = dict(line.split() for line in text.splitlines() if line.strip())
            return int(counts.get("oom_kill", "0")) > 0
        events = dict(line.split() for line in _read(self.memory_dir / "memory.events")
                      .splitlines() if line.strip())
        return int(events.get("oom_kill", "0")) > 0

    def kill_members(self) -> None:
        """SIGKILL every process still in the run's cgroups (the PID namespace normally has)."""
        for directory in {self.memory_dir, self.pids_dir}:
            for line in _read(directory / "cgroup.procs").split():
                with contextlib.suppress(ProcessLookupError, PermissionError, ValueError):
                    os.kill(int(line), signal.SIGKILL)

    def remove(self, wait_s: float = 2.0) -> bool:
        """Remove the directories (retrying while dying members leave); False if one stays."""
        deadline = time.monotonic() + wait_s
        removed = True
        for directory in dict.fromkeys((self.pids_dir, self.memory_dir)):
            while True:
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        removed = False
                        break
                    self.kill_members()
                    time.sleep(0.01)
        return removed


class CgroupManager:
    """Finds a cgroup parent this process may use and makes one ``RunCgroup`` per run."""

    def __init__(self) -> None:
        self.version = 0
        self.memory_parent: Path | None = None
        self.pids_parent: Path | None = None
        self.reason = ""
        self._find()
        if self.available:
            self.reap_stale()

    @property
    def available(self) -> bool:
        return self.memory_parent is not None and self.pids_parent is not None

    def _find(self) -> None:
        delegated = os.environ.get("TURNRL_SANDBOX_CGROUP")
        if delegated:
            path = Path(delegated)
            if _v2_usable(path):
                self.version, self.memory_parent, self.pids_parent = 2, path, path
            else:
                self.reason = (f"TURNRL_SANDBOX_CGROUP={delegated} is not a writable cgroup v2 "
                               "directory with memory and pids in cgroup.subtree_control")
            return
        own = _own_cgroups()
        mounts = _mountpoints()
        memory = _v1_dir(own, mounts, "memory")
        pids = _v1_dir(own, mounts, "pids")
        if memory and pids and _can_mkdir(memory) and _can_mkdir(pids):
            self.version, self.memory_parent, self.pids_parent = 1, memory, pids
            return
        unified = mounts.get("cgroup2")
        if unified and "" in own:
            path = Path(unified) / own[""].lstrip("/")
            if _v2_usable(path):
                self.version, self.memory_parent, self.pids_parent = 2, path, path
                return
        self.reason = ("no writable cgroup with memory and pids controllers (set "
                       "TURNRL_SANDBOX_CGROUP to a delegated cgroup v2 directory)")

    def create(self, memory_bytes: int, max_pids: int) -> RunCgroup:
        """A fresh run cgroup with these limits (raises ``OSError`` when the kernel refuses)."""
        assert self.memory_parent is not None
        assert self.pids_parent is not None
        name = f"{PREFIX}-{os.getpid()}-{next(_counter)}"
        memory_dir = self.memory_parent / name
        pids_dir = self.pids_parent / name
        memory_dir.mkdir()
        if pids_dir != memory_dir:
            pids_dir.mkdir()
        group = RunCgroup(memory_dir, pids_dir, self.version)
        try:
            if self.version == 1:
                (memory_dir / "memory.limit_in_bytes").write_text(str(memory_bytes))
                swap = memory_dir / "memory.memsw.limit_in_bytes"
                if swap.exists():  # no swapping around the cap where swap accounting exists
                    with contextlib.suppress(OSError):
                        swap.write_text(str(memory_bytes))
            else:
                (memory_dir / "memory.max").write_text(str(memory_bytes))
                swap = memory_dir / "memory.swap.max"
                if swap.exists():
                    with contextlib.suppress(OSError):
                        swap.write_text("0")
            (pids_dir / "pids.max").write_text(str(max_pids))
        except OSError:
            group.remove(0.0)
            raise
        group.procs_files = tuple(dict.fromkeys(
            (str(memory_dir / "cgroup.procs"), str(pids_dir / "cgroup.procs"))))
        return group

    def reap_stale(self) -> None:
        """Remove run cgroups left by turnrl processes that died without cleaning up."""
        for parent in dict.fromkeys((self.memory_parent, self.pids_parent)):
            if parent is None:
                continue
            for directory in parent.glob(f"{PREFIX}-*-*"):
                owner = directory.name.split("-")[2]
                if owner.isdigit() and not _alive(int(owner)):
                    RunCgroup(directory, directory, self.version).remove(0.5)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _own_cgroups() -> dict[str, str]:
    """controller -> this process's cgroup path (``""`` is the v2 unified hierarchy)."""
    own: dict[str, str] = {}
    for line in _read(Path("/proc/self/cgroup")).splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(","):
                own[controller] = parts[2]
    return own


def _mountpoints() -> dict[str, str]:
    """``"cgroup2"`` -> its mount point, and each v1 controller -> its hierarchy's mount point."""
    found: dict[str, str] = {}
    for line in _read(Path("/proc/self/mountinfo")).splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        mountpoint, fstype, options = fields[4], tail[0], tail[2]
        if fstype == "cgroup2":
            found.setdefault("cgroup2", mountpoint)
        elif fstype == "cgroup":
            for option in options.split(","):
                found.setdefault(option, mountpoint)
    return found


def _v1_dir(own: dict[str, str], mounts: dict[str, str], controller: str) -> Path | None:
    if controller not in own or controller not in mounts:
        return None
    path = Path(mounts[controller]) / own[controller].lstrip("/")
    return path if path.is_dir() else None


def _can_mkdir(parent: Path) -> bool:
    probe = parent / f"{PREFIX}-probe-{os.getpid()}"
    try:
        probe.mkdir()
    except OSError:
        return False
    with contextlib.suppress(OSError):
        probe.rmdir()
    return True


def _v2_usable(path: Path) -> bool:
    controllers = _read(path / "cgroup.subtree_control").split()
    return "memory" in controllers and "pids" in controllers and _can_mkdir(path)


_MANAGER: CgroupManager | None = None


def cgroup_manager() -> CgroupManager:
    """The process-wide manager (probing the cgroup filesystem once)."""
    global _MANAGER
    if _MANAGER is None:
        _MANAGER = CgroupManager()
    return _MANAGER
