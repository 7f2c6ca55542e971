"""benchmarks/reproducibility.py: its comparison tells bit-identical runs, a float-level drift
and another trajectory apart (hand-made records); bad input is one line and exit 2; -- slow
tier -- two runs of a short quickstart and its SFT fork are bit-identical, another seed is not
(the quickstart with default settings, 2-4 runs at a time, under load: benchmarks/RESULTS.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.benchmarks.script_loader import load_script

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "reproducibility.py"


@pytest.fixture(scope="module")
def repro():  # type: ignore[no-untyped-def]
    return load_script("reproducibility")


def _rows(losses: list[float], rewards: list[float]) -> dict[int, dict[str, Any]]:
    return {i + 1: {"loss": loss, "reward": r, "tokens": 100, "success": 0.5}
            for i, (loss, r) in enumerate(zip(losses, rewards, strict=True))}


def _variant(repro, rows: dict[int, dict[str, Any]], post: list[float]):  # type: ignore[no-untyped-def]
    v = repro.Variant("v", [], Path("/nonexistent"))
    v.rows, v.summary = rows, {"success": {"post_rl": {"per_seed": post}}}
    return v


def test_compare_tells_identity_drift_and_split_apart(repro) -> None:  # type: ignore[no-untyped-def]
    ref = _variant(repro, _rows([0.5, -0.25, 0.125, 0.1], [1.0, 0.5, 0.5, 0.0]), [0.8])
    same = _variant(repro, _rows([0.5, -0.25, 0.125, 0.1], [1.0, 0.5, 0.5, 0.0]), [0.8])
    got = repro.compare(ref, same)
    assert got["identical"]
    assert got["same_post_rl"]
    assert (got["first_loss_diff"], got["first_split"]) == (None, None)

    # loss differs at iteration 2 by 1e-6 relative, rewards equal until iteration 4
    drift = _variant(repro, _rows([0.5, -0.25 * (1 + 1e-6), 0.125 * (1 + 4e-6), 0.3],
                                  [1.0, 0.5, 0.5, 1.0]), [0.7])
    got = repro.compare(ref, drift)
    assert not got["identical"]
    assert not got["same_post_rl"]
    assert (got["first_loss_diff"], got["first_split"]) == (2, 4)
    assert got["max_rel_loss_diff_before_split"] == pytest.approx(4e-6, rel=1e-6)

    # equal training but other held-out numbers (an evaluation that differs) is not identical
    other_eval = _variant(repro, _rows([0.5, -0.25, 0.125, 0.1], [1.0, 0.5, 0.5, 0.0]), [0.75])
    assert not repro.compare(ref, other_eval)["identical"]

    # a run that stopped early is not identical even if what it has agrees
    short = _variant(repro, _rows([0.5, -0.25], [1.0, 0.5]), [0.8])
    assert not repro.compare(ref, short)["identical"]


@pytest.mark.parametrize(("argv", "needle"), [
    (["no/such.yaml", "--out", "x"], "no such config"),
    (["turnrl/tasks/quickstart.yaml", "--out", "x", "--variant", ":seed=1"], "has no name"),
    (["turnrl/tasks/quickstart.yaml", "--out", "x", "--variant", "a: seed"], "KEY=VALUE"),
    (["turnrl/tasks/quickstart.yaml", "--out", "x", "--variant", "a: 'open"], "quotation"),
    (["turnrl/tasks/quickstart.yaml", "--out", "x", "--jobs", "0"], "--jobs"),
    (["turnrl/tasks/quickstart.yaml", "--out", "x", "--set", "seed"], "--set"),
])
def test_bad_input_is_one_line_and_exit_2(argv: list[str], needle: str, tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(SCRIPT), *argv], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert needle in out.stderr


@pytest.mark.slow
def test_runs_twice_and_forked_are_bit_identical_another_seed_is_not(tmp_path: Path) -> None:
    small = ["rollout.groups=2", "rollout.group_size=4", "eval.max_tasks=4", "eval.seeds=[0]",
             "sft.episodes=4", "sft.steps=10", "trainer.iterations=3"]
    cmd = [sys.executable, str(SCRIPT), "turnrl/tasks/quickstart.yaml", "--out", str(tmp_path),
           *(a for o in small for a in ("--set", o)), "--variant", "base", "--variant", "base",
           "--variant", "fork: checkpoint.init_from=@sft", "--variant", "seed1: seed=1"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())
    verdicts = {r["variant"]: r["verdict"] for r in results["runs"] if r["run"] > 0}
    # the fork skips SFT and starts RL from the SFT run's checkpoint: the same run
    assert verdicts == {"base": "bit-identical", "fork": "bit-identical",
                        "seed1": "another trajectory"}
    seed1 = results["runs"][3]
    assert seed1["first_split"] == 1  # another seed samples other actions from the start
    assert results["runs"][0]["versions"][0]["torch"]  # each run's own software, recorded
