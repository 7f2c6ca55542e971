"""``turnrl sandbox ...``: run a file, user mistakes as one line with exit code 2."""

from __future__ import annotations

import json

from turnrl.cli import main

from .conftest import bwrap_or_skip


def test_sandbox_run_prints_the_result(tmp_path, capsys) -> None:
    bwrap_or_skip()
    program = tmp_path / "p.py"
    program.write_text("print(input().upper())")
    assert main(["sandbox", "run", str(program), "--stdin", "hi\n"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["status"], result["stdout"], result["exit_code"]) == ("ok", "HI\n", 0)


def test_user_mistakes_exit_2_with_one_line(tmp_path, capsys, monkeypatch) -> None:
    assert main(["sandbox", "run", str(tmp_path / "missing.py")]) == 2
    assert capsys.readouterr().err.strip().endswith("missing.py is not a file")
    program = tmp_path / "p.py"
    program.write_text("print(1)")
    assert main(["sandbox", "run", str(program), "--backend", "firejail"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown sandbox 'firejail'" in err
    assert len(err.splitlines()) == 1
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    assert main(["sandbox", "build"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no Docker engine is reachable" in err
    assert "--bridge=none" in err
    assert len(err.splitlines()) == 1
