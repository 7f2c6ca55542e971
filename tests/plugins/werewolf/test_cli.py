"""The command line on Werewolf: check, eval with seats and env options, bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from turnrl.cli import main


def test_turnrl_check_werewolf_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "werewolf", "--max-tasks", "4", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"]
    names = {c["name"] for c in report["checks"]}
    assert {"werewolf rules", "multi-agent seats", "expert solves"} <= names


def test_eval_plays_the_village_against_a_panel(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["eval", "werewolf", "--policy", "scripted:basic", "--learner", "team=village",
                 "--opponent", "scripted:bus", "--opponent", "scripted:random", "--limit", "12",
                 "--seeds", "2", "--template", "plain", "--env-option", "rules=textarena",
                 "--no-progress", "--out", str(tmp_path)])
    assert code == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["invalid_rate"] == 0.0  # the bot's replies are formatted for `plain`
    assert 0.0 < metrics["success"]["mean"] < 1.0
    episodes = [json.loads(line) for line in (tmp_path / "episodes.jsonl").read_text()
                .splitlines()]
    assert {e["metrics"]["seat_tags"]["team"] for e in episodes} == {"village"}
    assert {e["metrics"]["lineup"] for e in episodes} == {"scripted:bus", "scripted:random"}
    games = {e["metrics"]["base_id"] for e in episodes}
    assert len(games) == 24  # 12 tasks x 2 seeds, each game counted once
    texts = [s["observation"]["text"] for e in episodes for s in e["steps"]]
    assert any("day 1 discussion" in t for t in texts)


@pytest.mark.parametrize(("args", "message"), [
    (["--env-option", "rules=chess"], "--env-option: werewolf rules: unknown preset 'chess'"),
    (["--env-option", "players"], "--env-option must look like KEY=VALUE"),
    (["--opponent", "robot:x"], "--opponent: unknown policy 'robot'"),
])
def test_bad_eval_input_is_one_line_and_exit_2(args: list[str], message: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "werewolf", "--policy", "scripted:basic", "--limit", "1",
                 "--no-progress", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
