"""benchmarks/estimators.py: the study's statistics against hand computations, its plan (one SFT
checkpoint per seed, every estimator forked from it), and -- slow tier -- ``--quick`` end to
end: every run finishes, all estimators of a seed start from the same post-SFT numbers, a rerun
skips finished runs, plots and results are written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks.script_loader import load_script

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks"


@pytest.fixture(scope="module")
def rep():  # type: ignore[no-untyped-def]
    return load_script("estimators_report")


@pytest.fixture(scope="module")
def study():  # type: ignore[no-untyped-def]
    return load_script("estimators")


def _fake_run(run_dir: Path, sft: float, evals: dict[int, float], final: float,
              iterations: int) -> None:
    run_dir.mkdir(parents=True)
    summary = {"success": {"pre_sft": {"mean": 0.0, "std": 0.0},
                           "post_sft": {"mean": sft, "std": 0.01},
                           "post_rl": {"mean": final, "std": 0.02}},
               "wall_time_s": 12.0, "iterations": iterations}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    lines = [json.dumps({"phase": "sft", "step": 1, "loss": 1.0})]
    for it in range(1, iterations + 1):
        rec = {"phase": "rl", "step": it, "success": 0.5}
        if it in evals:
            rec["eval/success"] = evals[it]
        lines.append(json.dumps(rec))
    lines.append('{"phase": "rl", "ste')  # a torn line from a killed attempt
    (run_dir / "metrics.jsonl").write_text("\n".join(lines))


def test_curve_and_auc_by_hand(rep, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _fake_run(tmp_path / "r", sft=0.2, evals={5: 0.4, 10: 0.6}, final=0.6, iterations=10)
    run = rep.load_run(tmp_path / "r", seed=3)
    assert run.curve == [(0, 0.2), (5, 0.4), (10, 0.6)]
    # trapezoids: 5 * (0.2 + 0.4) / 2 + 5 * (0.4 + 0.6) / 2 = 1.5 + 2.5 = 4.0; / 10 iterations
    assert run.auc == pytest.approx(0.4)
    assert run.rl_beats_sft  # 0.6 - 0.2 > 0.01 + 0.02
    # the final evaluation is appended when the last eval was not at the last iteration
    _fake_run(tmp_path / "s", sft=0.2, evals={4: 0.3}, final=0.5, iterations=6)
    assert rep.load_run(tmp_path / "s", seed=0).curve == [(0, 0.2), (4, 0.3), (6, 0.5)]


def test_return_metric_reads_the_task_score(rep, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """WebShop's study measures the held-out mean return (task score): post-SFT/post-RL from the
    summary's ``score_*`` fields and the curve from ``eval/return``, not success."""
    run_dir = tmp_path / "w"
    _fake_run(run_dir, sft=0.0, evals={5: 0.0}, final=0.0, iterations=10)
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["success"]["post_sft"] |= {"score_mean": 0.3, "score_std": 0.04}
    summary["success"]["post_rl"] |= {"score_mean": 0.5, "score_std": 0.01}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    lines = (run_dir / "metrics.jsonl").read_text().replace(
        '"eval/success": 0.0', '"eval/success": 0.0, "eval/return": 0.4')
    (run_dir / "metrics.jsonl").write_text(lines)
    run = rep.load_run(run_dir, seed=0, metric="return")
    assert run.curve == [(0, 0.3), (5, 0.4), (10, 0.5)]
    assert (run.post_sft_std, run.post_rl_std) == (0.04, 0.01)
    assert run.auc == pytest.approx((5 * 0.35 + 5 * 0.45) / 10)
    assert rep.load_run(run_dir, seed=0).curve == [(0, 0.0), (5, 0.0), (10, 0.0)]


def test_rows_pair_with_grpo_by_seed(rep) -> None:  # type: ignore[no-untyped-def]
    def run(seed: int, sft: float, rl: float):  # type: ignore[no-untyped-def]
        return rep.RunResult(seed, sft, 0.0, rl, 0.0, [(0, sft), (10, rl)], [], 1.0, 10)

    grpo = rep.Row("grpo", "shared", {}, "", [run(0, 0.3, 0.5), run(1, 0.6, 0.6)])
    hgpo = rep.Row("hgpo", "shared", {}, "", [run(0, 0.3, 0.7), run(1, 0.6, 0.9)])
    other = rep.Row("hgpo", "reference", {}, "", [run(0, 0.3, 0.4)])
    rep.pair_with_grpo([grpo, hgpo, other])
    assert hgpo.vs_grpo == pytest.approx((0.25, 0.0707107), abs=1e-6)  # diffs 0.2, 0.3
    assert other.vs_grpo is None  # no GRPO row with the reference setting
    assert hgpo.stat("post_rl") == pytest.approx((0.8, 0.1414214), abs=1e-6)  # ddof=1
    assert hgpo.wins == 2
    assert grpo.wins == 1  # seed 1 did not move


def test_claim_block_round_trip(rep) -> None:  # type: ignore[no-untyped-def]
    row = {"runs": [{"seed": 0, "post_sft": 0.1, "post_rl": 0.3},
                    {"seed": 1, "post_sft": 0.2, "post_rl": 0.3}],
           "post_sft": {"mean": 0.15, "std": 0.0707}, "post_rl": {"mean": 0.3, "std": 0.0},
           "rl_beats_sft": 2, "wall_time_s": {"mean": 100.0, "std": 1.0},
           "sft_wall_time_s": 20.0}
    lines = rep.claim_lines("toy-env", row, {"torch": "2.13.0"}, "2-core CPU", "2026-01-01")
    assert "post-SFT 0.150 ± 0.071 -> post-RL 0.300 ± 0.000, gain +0.150 ± 0.071" in lines[2]
    assert "0: 0.100 -> 0.300, 1: 0.200 -> 0.300" in lines[3]
    assert "120 s" in lines[4]
    text = "# turnrl train X\n#\n# notes\nenv:\n  name: toy-env\n"
    once = rep.replace_block(text, lines)
    assert rep.read_block(once) == lines
    assert once.startswith("# turnrl train X\n")
    assert once.endswith("env:\n  name: toy-env\n")
    twice = rep.replace_block(once, [lines[0], "# changed", lines[-1]])
    assert rep.read_block(twice) == [lines[0], "# changed", lines[-1]]
    assert twice.count(rep.CLAIM_BEGIN) == 1


def test_plan_forks_every_estimator_from_its_seeds_sft(study, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    jobs, rl = study.plan("toy-env", study.STUDIES["toy-env"], tmp_path, seeds=[0, 1],
                          settings=list(study.SETTINGS), quick=False)
    # RLOO's reference parameters equal its shared ones: one run per seed serves both rows
    assert len(jobs) == 2 + 2 * (len(study.SETTINGS) - 1)
    for seed in (0, 1):
        assert rl[("rloo", "reference", seed)] is rl[("rloo", "shared", seed)]
        assert rl[("rloo", "reference", seed)].run_dir.parent.name == "rloo-shared"
        assert rl[("grpo", "reference", seed)] is not rl[("grpo", "shared", seed)]
    assert {s.estimator for s in study.SETTINGS} == {"grpo", "rloo", "gigpo", "hgpo", "salt",
                                                     "trloo"}
    for (_, _, seed), job in rl.items():
        assert job.after is not None
        assert job.after.name == f"sft seed {seed}"
        assert f"checkpoint.init_from={job.after.run_dir}" in job.args
        assert "trainer.threads=1" in job.args
    sft = [j for j in jobs if j.after is None]
    assert all("trainer.iterations=0" in j.args for j in sft)
    # start order: SFT first, then whole rows (all seeds of a setting), shared settings first
    assert [j.name for j in jobs[:4]] == ["sft seed 0", "sft seed 1", "grpo shared seed 0",
                                          "grpo shared seed 1"]
    assert jobs[-1].name == "trloo reference seed 1"
    # --first-seeds 1: every shared setting's seed 0, then their seed 1, then the reference ones
    jobs, _ = study.plan("toy-env", study.STUDIES["toy-env"], tmp_path, seeds=[0, 1],
                         settings=list(study.SETTINGS), quick=False, first_seeds=1)
    names = [j.name for j in jobs[2:]]
    shared = [s.estimator for s in study.SETTINGS if s.kind == "shared"]
    assert names[:6] == [f"{e} shared seed 0" for e in shared]
    assert names[6:12] == [f"{e} shared seed 1" for e in shared]
    assert names[12] == "grpo reference seed 0"
    assert names[13] == "gigpo reference seed 0"  # RLOO reference: the shared runs
    assert len(names) == len(set(names)) == 2 * (len(study.SETTINGS) - 1)
    # the reference settings alone still run RLOO, in the shared setting's dirs
    _, rl = study.plan("toy-env", study.STUDIES["toy-env"], tmp_path, seeds=[0],
                       settings=[s for s in study.SETTINGS if s.kind == "reference"],
                       quick=False)
    assert rl[("rloo", "reference", 0)].run_dir == tmp_path / "toy-env/rl/rloo-shared/seed0"


def test_every_setting_validates_and_one_is_the_quickstart(study) -> None:  # type: ignore[no-untyped-def]
    from turnrl.core.config import load_config
    from turnrl.trainers.advantages.plugin import ESTIMATORS
    from turnrl.trainers.config import TrainConfig

    models = {name: params for name, params, _ in ESTIMATORS}
    for s in study.SETTINGS:
        models[s.estimator](**s.params)  # raises on a wrong name or value
    for env, spec in study.STUDIES.items():
        shipped = load_config(str(ROOT / spec.config), [], model=TrainConfig).advantage
        same = [s for s in study.SETTINGS if s.estimator == shipped.name
                and study.same_params(s, shipped.params)]
        # each env's quickstart claims come from its row (WebShop's GiGPO = GiGPO shared)
        assert len(same) == 1, env
    assert set(study.STUDIES) == {"toy-env", "alfworld", "webshop"}


def test_bad_arguments_exit_2_with_one_line() -> None:
    out = subprocess.run([sys.executable, str(BENCH / "estimators.py"), "--seeds", "0"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1
    assert "--seeds" in out.stderr


@pytest.mark.slow
def test_quick_study_end_to_end(tmp_path: Path) -> None:
    # two of the six estimators (GRPO, the baseline every row is paired with, and HGPO, the
    # quickstart's): 10 short jobs, about a minute on two cores; the plain --quick runs all 26
    # (benchmarks/RESULTS.md gives its wall time)
    cmd = [sys.executable, str(BENCH / "estimators.py"), "--quick", "--estimators", "grpo",
           "hgpo", "--out", str(tmp_path)]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    results = json.loads((tmp_path / "toy-env" / "results.json").read_text())
    rows = results["rows"]
    assert len(rows) == 4
    assert {r["setting"] for r in rows} == {"reference", "shared"}
    assert sum(r["quickstart"] for r in rows) == 1
    post_sft: dict[int, set[float]] = {}
    for row in rows:
        assert [r["seed"] for r in row["runs"]] == [0, 1]
        for run in row["runs"]:
            post_sft.setdefault(run["seed"], set()).add(run["post_sft"])
            assert run["curve"][0][0] == 0
            assert run["curve"][-1][0] == run["iterations"] == 4
            assert 0.0 <= run["auc"] <= 1.0
    assert all(len(v) == 1 for v in post_sft.values())  # one SFT checkpoint per seed
    assert "transformers" in results["versions"]
    for kind in ("curves", "gains", "final"):
        assert (tmp_path / "toy-env" / f"estimators_toy-env_quick_{kind}.png").stat().st_size
    assert "vs GRPO" in first.stdout

    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "10 already done" in again.stdout
    assert json.loads((tmp_path / "toy-env" / "results.json").read_text())["rows"] == rows


def test_a_finished_run_is_redone_when_its_config_changes(study, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "quickstart.yaml"
    text = (ROOT / "turnrl" / "tasks" / "quickstart.yaml").read_text()
    config.write_text(text)
    run_dir = tmp_path / "run"
    job = study.Job("x", run_dir, [str(config), "--run-dir", str(run_dir), "seed=1"], 60)
    run_dir.mkdir()
    (run_dir / "summary.json").write_text("{}")
    (run_dir / "study_job.json").write_text(json.dumps(job.stamp))
    assert job.finished_before()
    config.write_text("# a new comment changes nothing\n" + text)
    assert job.finished_before()
    config.write_text(text.replace("iterations: 60", "iterations: 61"))
    assert not job.finished_before()
    other = study.Job("x", run_dir, [str(config), "--run-dir", str(run_dir), "seed=2"], 60)
    assert not other.finished_before()
    # an override that later moved into the file resolves to the same run: not redone
    config.write_text(text)
    (run_dir / "study_job.json").write_text(json.dumps(study.Job(
        "x", run_dir, [str(config), "--run-dir", str(run_dir), "seed=1",
                       "trainer.iterations=61"], 61).stamp))
    config.write_text(text.replace("iterations: 60", "iterations: 61"))
    assert job.finished_before()


def test_a_shortened_study_cuts_rl_only_and_claims_nothing(study, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = study.STUDIES["alfworld"]
    jobs, rl = study.plan("alfworld", spec, tmp_path, seeds=[0], quick=False,
                          settings=[s for s in study.SETTINGS if s.kind == "shared"],
                          rl_iterations=7)
    assert [j.iterations for j in jobs] == [0] + [7] * 6
    assert all("trainer.iterations=7" in j.args for j in rl.values())
    assert "trainer.iterations=0" in jobs[0].args
    assert "trainer.iterations=7" not in jobs[0].args
    full, _ = study.plan("alfworld", spec, tmp_path, seeds=[0], quick=False,
                         settings=[study.SETTINGS[0]])
    assert full[1].iterations == 50  # the quickstart's own length
    assert full[1].run_dir.parent.name == "grpo-reference"  # no length suffix
    out = subprocess.run([sys.executable, str(BENCH / "estimators.py"), "--env", "alfworld",
                          "--rl-iterations", "7", "--write-claims", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1
    assert "--rl-iterations 0" in out.stderr


def test_quickstart_claims_are_the_kept_study_results(study, rep) -> None:  # type: ignore[no-untyped-def]
    """A config's measured block is exactly what --write-claims makes of the results it kept
    (benchmarks/results/): nobody edited the numbers by hand."""
    checked = 0
    for env, spec in study.STUDIES.items():
        kept = ROOT / "benchmarks" / "results" / f"estimators_{env}.json"
        if not kept.exists():
            continue
        results = json.loads(kept.read_text())
        row = next(r for r in results["rows"] if r["quickstart"] and r["runs"])
        expected = rep.claim_lines(env, row, results["versions"], results["machine"],
                                   results["date"],
                                   rep.METRICS[results.get("metric", "success")].label)
        assert rep.read_block((ROOT / spec.config).read_text(encoding="utf-8")) == expected
        checked += 1
    assert checked >= 1  # the toy study's claims are kept


def test_a_longer_study_extends_the_shorter_runs(study, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The quickstart-length run of a setting continues the shortened study's run of the same
    setting and seed from its last checkpoint (same config but the RL length), not from SFT."""
    spec = study.STUDIES["alfworld"]
    grpo = [s for s in study.SETTINGS if s.estimator == "grpo" and s.kind == "shared"]
    _, short = study.plan("alfworld", spec, tmp_path, seeds=[0], quick=False, settings=grpo,
                          rl_iterations=None)  # the quickstart's 50
    _, full = study.plan("alfworld", spec, tmp_path, seeds=[0], quick=False, settings=grpo,
                         rl_iterations=150)
    s_job, f_job = short[("grpo", "shared", 0)], full[("grpo", "shared", 0)]
    assert s_job.run_dir.parent.name == "grpo-shared"
    assert f_job.run_dir.parent.name == "grpo-shared-it150"
    assert study.shorter_run(f_job) is None  # nothing to extend yet
    (s_job.run_dir / "checkpoints" / "step_000050").mkdir(parents=True)
    (s_job.run_dir / "checkpoints" / "latest").write_text("step_000050")
    (s_job.run_dir / "metrics.jsonl").write_text('{"phase": "rl", "step": 50}\n')
    (s_job.run_dir / "summary.json").write_text('{"wall_time_s": 300.0}')
    (s_job.run_dir / "study_job.json").write_text(json.dumps(s_job.stamp))
    assert study.shorter_run(f_job) == s_job.run_dir
    assert study.shorter_run(s_job) is None  # never from a longer (or its own) run
    # another estimator's or seed's run is not this job's beginning
    other = json.loads(json.dumps(s_job.stamp))
    other["config"]["advantage"]["name"] = "rloo"
    (s_job.run_dir / "study_job.json").write_text(json.dumps(other))
    assert study.shorter_run(f_job) is None
    (s_job.run_dir / "study_job.json").write_text(json.dumps(s_job.stamp))

    launched: list[list[str]] = []
    monkeypatch.setattr(subprocess, "Popen",
                        lambda cmd, **_: launched.append(cmd) or object())
    study.start(f_job)
    assert launched
    assert (f_job.run_dir / "checkpoints" / "latest").read_text() == "step_000050"
    assert (f_job.run_dir / "metrics.jsonl").exists()
    assert not (f_job.run_dir / "summary.json").exists()  # the extended run writes its own
    stamp = json.loads((f_job.run_dir / "study_job.json").read_text())
    assert stamp["extends"] == str(s_job.run_dir)
    assert stamp["prior_wall_s"] == 300.0
    assert f_job.same_as_before()  # a restart resumes the extension rather than redoing it


def test_an_sft_run_survives_a_change_of_estimator(study, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """SFT-only jobs do not read ``advantage``: a quickstart that switches estimator keeps its
    SFT checkpoints, while its RL runs (which read it) are compared in full."""
    config = tmp_path / "quickstart.yaml"
    text = (ROOT / "turnrl" / "tasks" / "quickstart.yaml").read_text()
    config.write_text(text)
    jobs, rl = study.plan("toy-env", study.StudyEnv(str(config), seeds=1, eval_every=10),
                          tmp_path, seeds=[0], settings=list(study.SETTINGS[:1]), quick=False)
    sft, grpo = jobs[0], rl[("grpo", "reference", 0)]
    for job in (sft, grpo):
        job.run_dir.mkdir(parents=True)
        (job.run_dir / "summary.json").write_text("{}")
        (job.run_dir / "study_job.json").write_text(json.dumps(job.stamp))
    config.write_text(text.replace("name: hgpo", "name: gigpo"))
    assert sft.finished_before()
    assert grpo.finished_before()  # its advantage comes from the arguments, not the file
    config.write_text(text.replace("lr: 0.003", "lr: 0.002"))
    assert not sft.finished_before()


def test_claims_quote_the_versions_the_runs_trained_with(rep) -> None:  # type: ignore[no-untyped-def]
    """Not the report's: a report written after an upgrade must not stamp the new versions on
    old numbers. Runs from before version records say so instead of passing for measured."""
    sft = {"python": "3.11.7", "torch": "2.13.0+cpu", "turnrl_commit": "aaaaaaa"}
    runs = [{"versions": [sft]}, {"versions": [sft, sft | {"turnrl_commit": "bbbbbbb"}]}]
    report_time = {"python": "3.12.0", "torch": "2.99.0", "turnrl_commit": "ccccccc"}
    assert rep.measured_versions(runs, report_time) == \
        "python 3.11.7, torch 2.13.0+cpu, turnrl_commit aaaaaaa / bbbbbbb"
    legacy = rep.measured_versions([*runs, {"seed": 2}], report_time)
    assert legacy.startswith("python 3.12.0, torch 2.99.0, turnrl_commit ccccccc")
    assert "at report time: 1 of 3 runs predate" in legacy


def test_a_report_of_no_runs_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    plots = tmp_path / "plots"
    out = subprocess.run([sys.executable, str(BENCH / "estimators.py"), "--env", "webshop",
                          "--report-only", "--out", str(tmp_path / "empty"), "--plots",
                          str(plots)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1
    assert "no finished webshop runs" in out.stderr
    assert not plots.exists()
