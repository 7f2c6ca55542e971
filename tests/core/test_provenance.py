"""Run provenance: the versions recorded are the installed ones, the commit is git's own, a
resumed run on the same software adds no entry and on other software adds one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from turnrl.core.provenance import git_commit, record_versions, software_versions


def test_versions_are_the_installed_packages() -> None:
    import numpy
    import torch
    import transformers

    import turnrl

    got = software_versions(extra=("no-such-package-xyz",))
    assert got["torch"] == str(torch.__version__)
    assert got["transformers"] == transformers.__version__
    assert got["numpy"] == numpy.__version__
    assert got["turnrl"] == turnrl.__version__
    assert "no-such-package-xyz" not in got  # not installed: left out, not an error


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_commit_is_gits_and_marks_uncommitted_changes(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                              cwd=tmp_path, check=True, capture_output=True,
                              text=True).stdout.strip()

    assert git_commit(tmp_path) is None  # not a checkout (an installed wheel)
    git("init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    git("add", "a.txt")
    git("commit", "-q", "-m", "one")
    head = git("rev-parse", "--short", "HEAD")
    assert git_commit(tmp_path) == head
    (tmp_path / "untracked.txt").write_text("not part of the code\n")
    assert git_commit(tmp_path) == head  # untracked files do not make it dirty
    (tmp_path / "a.txt").write_text("two\n")
    assert git_commit(tmp_path) == head + "+dirty"


def test_record_versions_appends_only_a_change() -> None:
    summary: dict[str, object] = {"success": {}}
    first = {"python": "3.11.7", "torch": "2.13.0+cpu"}
    assert record_versions(summary, first) == []  # a first entry changes nothing
    assert record_versions(summary, dict(first)) == []  # resumed on the same software
    assert summary["versions"] == [first]
    upgraded = first | {"torch": "2.14.0+cpu", "turnrl_commit": "abc1234"}
    # resumed after an upgrade: both parts on record, and what changed is said
    assert record_versions(summary, upgraded) == ["torch 2.13.0+cpu -> 2.14.0+cpu",
                                                  "turnrl_commit - -> abc1234"]
    assert summary["versions"] == [first, upgraded]
