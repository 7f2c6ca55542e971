"""Which Python a sandbox runs, and the host directories it needs to see (read-only).

The default is the interpreter running turnrl, as ``sys.executable`` names it: for a virtual
environment that is ``<venv>/bin/python`` (a symlink to the real binary), so the venv's
``site-packages`` (torch, triton, numpy ...) are importable inside. Another interpreter can be
named by path or by a command on ``PATH``; it is asked once for its real executable, so a
pyenv *shim* (a shell script costing ~300 ms per start) is replaced by the binary it runs
(~80 ms, less with a venv). The directories bound are the interpreter's prefix, base prefix and
exec prefixes (nothing below ``/usr``, which every sandbox sees anyway) — never ``/``, a home
directory or ``/root`` as a whole: ``~/.pyenv/versions/3.11.7`` is bound, ``~`` is not.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from turnrl.sandboxes.api import SandboxUnavailable, SandboxUsageError

_QUERY = ("import json, os, sys; print(json.dumps([sys.executable, sys.prefix, sys.base_prefix, "
          "sys.exec_prefix, sys.base_exec_prefix, list(sys.version_info[:2])]))")
ALWAYS_VISIBLE = ("/usr",)
"""Host trees every isolating sandbox sees read-only anyway."""


@dataclass(frozen=True, slots=True)
class Interpreter:
    """``executable``: the path to run (keeps a venv's identity); ``binds``: host directories to
    expose read-only so it starts; ``version``: (major, minor)."""

    executable: str
    binds: tuple[str, ...]
    version: tuple[int, int]

    @property
    def bin_dir(self) -> str:
        return os.path.dirname(self.executable)


def current_interpreter() -> Interpreter:
    """The interpreter running this process."""
    return _build(sys.executable, (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                   sys.base_exec_prefix), tuple(sys.version_info[:2]))


@functools.lru_cache(maxsize=16)
def resolve_interpreter(python: str | None = None) -> Interpreter:
    """``python`` (a path or a command on PATH; None = this process's interpreter), resolved."""
    if python is None:
        return current_interpreter()
    path = python if os.sep in python else shutil.which(python)
    if not path or not os.path.exists(path):
        raise SandboxUsageError(f"python {python!r} was not found")
    try:
        out = subprocess.run([path, "-c", _QUERY], capture_output=True, text=True, timeout=60,
                             env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                  **{k: v for k, v in os.environ.items()
                                     if k.startswith("PYENV")}},
                             check=True).stdout
        executable, *prefixes, version = json.loads(out.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise SandboxUsageError(f"python {python!r} does not answer as a Python "
                                f"interpreter: {exc}") from None
    return _build(executable, tuple(prefixes), (int(version[0]), int(version[1])))


def _build(executable: str, prefixes: tuple[str, ...], version: tuple[int, ...]) -> Interpreter:
    if not executable or not os.path.isfile(executable):
        raise SandboxUnavailable(f"the Python executable {executable!r} does not exist")
    real = os.path.realpath(executable)
    candidates = [*prefixes, str(Path(real).parent.parent)]
    binds: list[str] = []
    for directory in dict.fromkeys(os.path.realpath(p) for p in candidates if p):
        if any(_within(directory, root) for root in ALWAYS_VISIBLE):
            continue
        check_bindable(directory)
        binds.append(directory)
    # drop directories already inside another bound one
    binds = [d for d in binds if not any(d != o and _within(d, o) for o in binds)]
    # the venv path itself may be a symlink farm: bind the unresolved prefixes too
    for prefix in prefixes:
        if prefix and os.path.realpath(prefix) != prefix and prefix not in binds \
                and not any(_within(prefix, root) for root in ALWAYS_VISIBLE):
            check_bindable(prefix)
            binds.append(prefix)
    return Interpreter(executable=executable, binds=tuple(binds),
                       version=(int(version[0]), int(version[1])))


FORBIDDEN_EXACT = ("/", "/etc", "/proc", "/sys", "/dev", "/run", "/var", "/home", "/tmp")


def check_bindable(path: str) -> None:
    """Refuse to expose ``/``, system trees, a home directory or ``/root`` (or an ancestor)."""
    real = os.path.realpath(path)
    homes = {"/root", os.path.realpath(os.path.expanduser("~"))}
    if real in FORBIDDEN_EXACT or any(_within(home, real) for home in homes):
        raise SandboxUsageError(f"refusing to expose {path!r} inside a sandbox (it is, or "
                                "contains, a system tree or a home directory)")


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")
