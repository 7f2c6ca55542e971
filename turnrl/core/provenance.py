"""What software produced a run: package versions and turnrl's git commit.

A number is only reproducible with the versions it was measured with, and those must be the
versions of the process that *trained*, not of whoever reads the run dir later (a report
written after a ``git pull`` would otherwise stamp today's commit on yesterday's numbers). The
trainer appends this record to ``summary.json`` (``versions``: one entry per process that
contributed -- the SFT run a fork started from, each resumed part -- when it differs from the
last), and the benchmarks quote it from there.
"""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import turnrl

# packages whose versions move a run's numbers (kernels, tokenizer, RNG consumers, the
# inference engine, the one environment engine that is a package); those not installed are left out
PACKAGES = ("torch", "transformers", "tokenizers", "numpy", "triton", "vllm", "alfworld")


def software_versions(extra: Iterable[str] = ()) -> dict[str, str]:
    """Python, ``PACKAGES`` + ``extra`` (those installed), turnrl's version and -- when turnrl
    runs from a git checkout -- its commit, ``+dirty`` when tracked files differ from it."""
    out = {"python": platform.python_version()}
    for name in (*PACKAGES, *extra):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    out["turnrl"] = turnrl.__version__
    commit = git_commit(Path(turnrl.__file__).resolve().parent.parent)
    if commit:
        out["turnrl_commit"] = commit
    return out


def git_commit(root: Path) -> str | None:
    """``root``'s short HEAD commit (``+dirty`` with uncommitted tracked changes), or None
    outside a git checkout (an installed wheel) or without git."""
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True, check=False, timeout=10)
        if head.returncode != 0 or not head.stdout.strip():
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, check=False,
                               timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def record_versions(summary: dict[str, Any], versions: dict[str, str] | None = None
                    ) -> list[str]:
    """Append this process's versions to ``summary["versions"]`` unless the last entry is
    the same (a resumed run on unchanged software adds nothing). Returns what changed since
    the last entry (``"torch 2.13.0 -> 2.14.0"``, ...), empty for a first entry or none, so a
    resumed or forked run can say that its numbers now span two software versions."""
    versions = versions if versions is not None else software_versions()
    history = summary.setdefault("versions", [])
    if history and history[-1] == versions:
        return []
    last = history[-1] if history else None
    history.append(versions)
    if last is None:
        return []
    return [f"{k} {last.get(k, '-')} -> {versions.get(k, '-')}"
            for k in dict.fromkeys([*last, *versions]) if last.get(k) != versions.get(k)]
