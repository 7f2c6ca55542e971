"""`turnrl eval` and `turnrl rollout` end to end on toy-env with scripted policies."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

import turnrl
from turnrl.cli import main
from turnrl.commands.evaluate import summarize
from turnrl.core.store import EpisodeStore
from turnrl.core.types import Episode, Observation, Step, Task
from turnrl.plugins.toy.expert import shortest_path

KEYS = {"success", "by_type", "avg_steps", "invalid_rate", "episodes", "errors", "versions"}


def _eval(tmp: Path, policy: str, *extra: str) -> dict:
    rc = main(["eval", "toy-env", "--policy", policy, "--panel", "valid", "--seeds", "3",
               "--out", str(tmp), "--no-progress", *extra])
    assert rc == 0
    return json.loads((tmp / "metrics.json").read_text())


def test_eval_gold_is_perfect_and_takes_shortest_paths(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    m = _eval(tmp_path, "scripted:gold")
    assert set(m) == KEYS
    assert m["success"] == {"mean": 1.0, "std": 0.0}
    assert m["by_type"] == {"all": {"mean": 1.0, "std": 0.0}}
    panel = turnrl.tasks("toy-env", "valid")
    lengths = [len(shortest_path(t.data["size"], tuple(t.data["start"]), tuple(t.data["goal"]),
                                 {tuple(w) for w in t.data["walls"]})) for t in panel]
    assert m["avg_steps"] == pytest.approx(sum(lengths) / len(lengths))
    assert m["invalid_rate"] == 0.0
    assert m["episodes"] == 3 * len(panel)
    assert m["errors"] == 0
    assert len(EpisodeStore(tmp_path / "episodes.jsonl").ids()) == 3 * len(panel)
    out = capsys.readouterr().out
    assert "success       1.000 ± 0.000" in out


def test_eval_random_is_deterministic_and_consistent_with_its_episodes(tmp_path: Path) -> None:
    a = _eval(tmp_path / "a", "scripted:random", "--concurrency", "1")
    b = _eval(tmp_path / "b", "scripted:random", "--concurrency", "64")
    assert a == b
    assert 0.0 < a["success"]["mean"] < 1.0
    # recompute from the stored episodes, independently of summarize()
    eps = EpisodeStore(tmp_path / "a" / "episodes.jsonl").read()
    per_seed = [statistics.fmean(e.won for e in eps if e.id.startswith(f"seed{s}/"))
                for s in range(3)]
    assert a["success"]["mean"] == pytest.approx(statistics.fmean(per_seed))
    assert a["success"]["std"] == pytest.approx(statistics.pstdev(per_seed))
    assert a["success"]["std"] > 0  # the seeds really differ
    assert a["avg_steps"] == pytest.approx(statistics.fmean(len(e.steps) for e in eps))


def test_eval_refuses_to_mix_runs_and_resumes(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    first = _eval(tmp_path, "scripted:random")
    assert main(["eval", "toy-env", "--policy", "scripted:random", "--panel", "valid",
                 "--seeds", "3", "--out", str(tmp_path), "--no-progress"]) == 2
    assert "pass --resume" in capsys.readouterr().err
    # interrupted run: drop half of the store, resume, same numbers
    store = tmp_path / "episodes.jsonl"
    lines = store.read_text().splitlines(keepends=True)
    store.write_text("".join(lines[: len(lines) // 2]))
    assert _eval(tmp_path, "scripted:random", "--resume") == first
    assert len(EpisodeStore(store).ids()) == len(lines)
    # resuming with other settings is refused
    assert main(["eval", "toy-env", "--policy", "scripted:gold", "--panel", "valid",
                 "--seeds", "3", "--out", str(tmp_path), "--no-progress", "--resume"]) == 2
    assert "different settings (policy)" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["--policy", "gold"], "must look like BACKEND:SPEC"),
    (["--policy", "nope:x"], "unknown"),
    (["--policy", "scripted:smart"], "unknown scripted policy 'smart'"),
    (["--policy", "scripted:gold", "--panel", "nope"], "no split 'nope'"),
    (["--policy", "scripted:gold", "--seeds", "0"], "--seeds must be >= 1"),
    (["--policy", "scripted:gold", "--env-timeout", "0"], "env_timeout_s must be > 0"),
])
def test_eval_user_errors_exit_2_with_one_line(argv: list[str], message: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "toy-env", "--no-progress", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1


def _ep(i: int, kind: str, won: bool, status: str = "ok", invalid: int = 0) -> Episode:
    task = Task(env="x", id=f"t{i}", data={"type": kind})
    steps = [Step(Observation("o"), "a", valid=k >= invalid) for k in range(3)]
    steps[-1].info["won"] = won
    return Episode(id=f"e{i}", group_id=f"g{i}", task=task, steps=steps, status=status)  # type: ignore[arg-type]


def test_summarize_by_type_by_hand() -> None:
    runs = {
        0: [_ep(0, "pick", True), _ep(1, "pick", False), _ep(2, "heat", True, invalid=1)],
        1: [_ep(0, "pick", True), _ep(1, "pick", True), _ep(2, "heat", True, "timeout")],
    }
    m = summarize(runs)
    # seed 0: 2/3 won, seed 1: 2/3 (a timed-out episode is a failure even if "won" was set)
    assert m["success"] == {"mean": pytest.approx(2 / 3), "std": 0.0}
    assert m["by_type"]["pick"] == {"mean": 0.75, "std": 0.25}
    assert m["by_type"]["heat"] == {"mean": 0.5, "std": 0.5}
    assert m["avg_steps"] == 3.0
    assert m["invalid_rate"] == pytest.approx(1 / 18)
    assert (m["episodes"], m["errors"]) == (6, 1)


def test_rollout_command_stores_and_resumes(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ro.jsonl"
    argv = ["rollout", "toy-env", "--policy", "scripted:random", "--tasks", "4",
            "--group-size", "3", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    eps = EpisodeStore(out).read()
    assert len(eps) == 12
    assert len({e.group_id for e in eps}) == 4
    first = capsys.readouterr().out
    assert main(argv) == 0
    again = capsys.readouterr().out
    assert "resumed: 12 episodes" in again
    assert len(EpisodeStore(out).read()) == 12
    assert first.splitlines()[0] == again.splitlines()[1]


@pytest.fixture
def flaky_env():  # type: ignore[no-untyped-def]
    from tests.flaky_env import registered

    yield from registered()


def test_resume_replays_failed_episodes_and_reports_the_newest(
        tmp_path: Path, flaky_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.flaky_env import NAME, OUTAGE, fails

    panel = turnrl.tasks("toy-env", "valid")[:9]
    argv = ["eval", NAME, "--policy", "scripted:gold", "--panel", "valid", "--limit", "9",
            "--out", str(tmp_path), "--no-progress"]
    assert main(argv) == 0
    during = json.loads((tmp_path / "metrics.json").read_text())
    n_fail = sum(fails(t) for t in panel)
    assert n_fail == 3
    assert during["errors"] == n_fail
    assert during["success"]["mean"] == pytest.approx(6 / 9)
    OUTAGE["on"] = False  # the outage is over: --resume must play the 3 failures again
    assert main([*argv, "--resume"]) == 0
    after = json.loads((tmp_path / "metrics.json").read_text())
    assert (after["errors"], after["success"]["mean"], after["episodes"]) == (0, 1.0, 9)
    import torch

    assert after["versions"]["torch"] == str(torch.__version__)  # what produced the numbers
    records = [json.loads(line) for line in
               (tmp_path / "episodes.jsonl").read_text().splitlines()]
    assert len(records) == 9 + n_fail  # the old records stay; the newest wins
    assert sorted(r["status"] for r in records).count("env_error") == n_fail


def test_rollout_refuses_to_append_with_other_settings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ro.jsonl"
    base = ["rollout", "toy-env", "--tasks", "2", "--group-size", "2", "--out", str(out),
            "--no-progress"]
    assert main([*base, "--policy", "scripted:random"]) == 0
    capsys.readouterr()
    for other in (["--policy", "scripted:gold"], ["--policy", "scripted:random", "--seed", "1"],
                  ["--policy", "scripted:random", "--temperature", "0.5"]):
        assert main([*base, *other]) == 2
        err = capsys.readouterr().err.strip()
        assert "written with different settings" in err
        assert len(err.splitlines()) == 1
    assert len(EpisodeStore(out).read()) == 4  # nothing was appended
    # more tasks with the same settings extend the file
    assert main([*base[:3], "4", *base[4:], "--policy", "scripted:random"]) == 0
    assert len(EpisodeStore(out).read()) == 8
    # a store with episodes but no record of its settings is refused too
    (tmp_path / "ro.jsonl.run.json").unlink()
    assert main([*base, "--policy", "scripted:random"]) == 2
    assert "no record of the settings" in capsys.readouterr().err
