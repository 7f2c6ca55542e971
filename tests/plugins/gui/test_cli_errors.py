"""User mistakes with gui are one line and exit 2: no Chromium, an unknown task type."""

from __future__ import annotations

import io

import pytest


def test_missing_chromium_is_one_line_exit_2(monkeypatch, capsys) -> None:
    from turnrl.cli import main

    monkeypatch.setenv("TURNRL_CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setattr("sys.stdin", io.StringIO("done()\n"))
    assert main(["play", "gui", "--task", "gui-train-click-button-000"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("turnrl play: error: ")
    assert "/nonexistent/chromium" in err or "pip install 'turnrl[gui]'" in err


@pytest.mark.parametrize(("args", "says"), [
    (["play", "gui", "--task", "gui-train-nope-000"], "no task 'gui-train-nope-000'"),
    (["check", "gui", "--split", "dev"], "has no split 'dev'"),
])
def test_bad_names(args: list[str], says: str, capsys) -> None:
    from turnrl.cli import main

    assert main(args) == 2
    assert says in capsys.readouterr().err
