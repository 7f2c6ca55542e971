"""The estimator study: GRPO, RLOO, GiGPO, HGPO, SALT and TRLOO from the same SFT checkpoints.

    python benchmarks/estimators.py --env toy-env                 # 5 seeds x 12 settings
    python benchmarks/estimators.py --env alfworld                # 3 seeds x 12 settings
    python benchmarks/estimators.py --env webshop                 # 3 seeds x 12 settings
    python benchmarks/estimators.py --quick                       # a few minutes, tested in CI
    python benchmarks/estimators.py --env toy-env --report-only   # table + plots from OUT
    python benchmarks/estimators.py --env alfworld --write-claims # + the quickstart header

For every training seed the env's shipped quickstart config (``STUDIES``) is run once as an
SFT-only job (``trainer.iterations=0 checkpoint.every=1``); then every estimator setting
(``SETTINGS``) runs the same RL phase from that checkpoint (``checkpoint.init_from``), with
everything else identical and a held-out evaluation every ``eval_every`` iterations for the
learning curve. Each estimator runs twice: with the settings of its paper or reference code
(``reference``, sources below) and with one ``shared`` setting that puts all six on the same
footing (mean-centred, no std division, invalid-action penalty 0.1 where the estimator has one,
gamma 0.95 where it discounts, each trajectory counted once). The row that equals the shipped
quickstart's own estimator (HGPO ``mean_norm`` = HGPO shared) is marked ``*``: the quickstart's
recipe over several training seeds (``--write-claims`` writes them into the config's header).
A fork is not bit-identical to the uninterrupted quickstart over a whole run: toy seed 0 matched
it through RL iteration 33, then drifted at float level (0.823 vs 0.812 post-RL).

Jobs (``estimators_jobs.py``) are subprocesses (``turnrl train``), ``--jobs`` at a time (2: one
per core) with ``trainer.threads=1``, so results do not depend on how many run together;
progress shows with rich. A job whose run dir already holds a finished run of the same resolved
config is skipped, so an interrupted study continues where it stopped (long ALFWorld runs also
checkpoint and resume). Output: ``OUT/<env>/{sft,rl}/...`` run dirs, ``OUT/<env>/results.json``
and ``results.md`` (``--rl-iterations N`` other than the quickstart's: ``<setting>-itN`` run
dirs and ``results_itN.*``; a longer study extends the shorter one's runs); plots in ``--plots``
(default ``benchmarks/plots``; ``--quick`` keeps everything under ``OUT``). To add an
environment, add one ``StudyEnv`` line to ``STUDIES`` naming its quickstart config (``--env
webshop`` needs the ``webshop`` extra).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import estimators_report as report
from estimators_jobs import Job, run_jobs, shorter_run, start  # noqa: F401 (the study's API)

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class StudyEnv:
    """How one environment is studied: its quickstart config and the study's own knobs."""

    config: str
    """The env's shipped quickstart (relative to the repo root): model, SFT, RL loop, panel."""
    seeds: int
    """Training seeds 0 .. seeds-1 (each its own tiny model, SFT run and RL runs)."""
    eval_every: int
    """Held-out evaluation interval of the learning curve (RL iterations)."""
    checkpoint_every: int = 0
    """RL checkpoints, so a killed long run resumes (0: restart it)."""
    quick: tuple[str, ...] = ()
    """Overrides of ``--quick`` (fewer iterations, smaller panel)."""
    metric: str = "success"
    """The held-out measure the table, plots and claims use (``estimators_report.METRICS``)."""


STUDIES: dict[str, StudyEnv] = {
    "toy-env": StudyEnv("turnrl/tasks/quickstart.yaml", seeds=5, eval_every=10,
                        quick=("trainer.iterations=4", "trainer.eval_every=2",
                               "rollout.groups=4", "sft.steps=30", "eval.max_tasks=8",
                               "eval.seeds=[0,1]")),
    "alfworld": StudyEnv("turnrl/tasks/quickstart_alfworld.yaml", seeds=3, eval_every=25,
                         checkpoint_every=25,
                         quick=("trainer.iterations=2", "rollout.groups=2", "sft.steps=20",
                                "sft.episodes=16", "eval.max_tasks=6", "eval.seeds=[0]")),
    # success stays ~0 for a tiny model on WebShop: the study compares the task score
    "webshop": StudyEnv("turnrl/tasks/webshop_tiny.yaml", seeds=3, eval_every=5,
                        checkpoint_every=5, metric="return",
                        quick=("trainer.iterations=2", "rollout.groups=2", "sft.steps=20",
                               "sft.episodes=16", "eval.max_tasks=6", "eval.seeds=[0]")),
}


@dataclass(frozen=True)
class Setting:
    estimator: str
    kind: str  # "reference" or "shared"
    params: dict[str, Any]
    source: str


VERL_AGENT = "verl-agent ALFWorld scripts (invalid_action_penalty_coef 0.1)"
SETTINGS: tuple[Setting, ...] = (
    Setting("grpo", "reference", {"norm_by_std": True, "cross_steps": True,
                                  "invalid_penalty": 0.1},
            f"GRPO as verl-agent runs it: /std, every step row a sample (spec §1); {VERL_AGENT}"),
    Setting("rloo", "reference", {"cross_steps": False, "invalid_penalty": 0.1},
            f"RLOO (Ahmadian et al. 2024; verl compute_rloo_outcome_advantage); {VERL_AGENT}"),
    Setting("gigpo", "reference", {"gamma": 0.95, "mode": "mean_std_norm", "omega": 1.0,
                                   "invalid_penalty": 0.1},
            "verl-agent examples/gigpo_trainer/run_alfworld.sh: mode mean_std_norm, gamma "
            "0.95, step_advantage_w 1.0, penalty 0.1"),
    Setting("hgpo", "reference", {"gamma": 0.95, "history_length": 2, "mode": "mean_std_norm",
                                  "alpha": 1.0, "base_group": False, "invalid_penalty": 0.1},
            "verl-agent recipe/hgpo defaults (spec §4): K 2, mean_std_norm, alpha 1"),
    Setting("salt", "reference", {"base": "grpo", "merge_key": "prefix"},
            "spec §5 defaults (a reconstruction: SALT's paper and code were not reachable)"),
    Setting("trloo", "reference", {"gamma": 1.0, "leave_one_out": True},
            "Dr. Kernel compute_multi_turn_rloo_outcome_advantage: gamma 1, leave-one-out"),
    Setting("grpo", "shared", {"norm_by_std": False, "cross_steps": False,
                               "invalid_penalty": 0.1}, "shared (= Dr.GRPO)"),
    Setting("rloo", "shared", {"cross_steps": False, "invalid_penalty": 0.1}, "shared"),
    Setting("gigpo", "shared", {"gamma": 0.95, "mode": "mean_norm", "invalid_penalty": 0.1},
            "shared"),
    Setting("hgpo", "shared", {"mode": "mean_norm"}, "shared (the quickstarts' HGPO)"),
    Setting("salt", "shared", {"base": "rloo", "merge_key": "prefix"}, "shared (no std)"),
    Setting("trloo", "shared", {"gamma": 0.95, "leave_one_out": True}, "shared (gamma 0.95)"),
)
KINDS = ("reference", "shared")
PRIORITY = ("shared", "reference")  # the order the study runs them in
ESTIMATORS = tuple(dict.fromkeys(s.estimator for s in SETTINGS))



def plan(env: str, study: StudyEnv, out: Path, *, seeds: list[int], settings: list[Setting],
         quick: bool, first_seeds: int | None = None, rl_iterations: int | None = None
         ) -> tuple[list[Job], dict[tuple[str, str, int], Job]]:
    """SFT jobs (one per seed) and RL jobs (one per setting and seed), RL after its SFT.

    Order (the order jobs start in): every SFT job, then the RL jobs setting by setting --
    the shared settings first, each estimator over all its seeds -- so a study stopped early
    leaves whole rows (every seed of a setting), the quickstart's among the first. With
    ``first_seeds`` K, each kind's settings first run seeds 0..K-1, then their other seeds: a
    study stopped early then has every estimator at K seeds rather than some at all seeds and
    others at none."""
    from turnrl.core.config import load_config
    from turnrl.trainers.config import TrainConfig

    config = str(ROOT / study.config)
    common = ["trainer.threads=1", "logging.tensorboard=false"]
    last = list(study.quick) if quick else []  # after the study's own, so they can shrink it
    shorten = [] if quick or rl_iterations is None else [f"trainer.iterations={rl_iterations}"]
    iterations = load_config(config, [*common, *shorten, *last],
                             model=TrainConfig).trainer.iterations
    own = load_config(config, [*common, *last], model=TrainConfig).trainer.iterations
    length = "" if iterations == own else f"-it{iterations}"  # a shortened study's own dirs
    jobs: list[Job] = []
    rl: dict[tuple[str, str, int], Job] = {}
    for seed in seeds:
        sft_dir = out / env / "sft" / f"seed{seed}"
        sft = Job(f"sft seed {seed}", sft_dir,
                  [config, "--run-dir", str(sft_dir), f"seed={seed}", *common,
                   *last, "trainer.iterations=0", "checkpoint.every=1"], 0)
        jobs.append(sft)
        made: dict[Path, Job] = {}
        for s in settings:
            # a setting whose parameters equal an earlier kind's (RLOO: reference = shared)
            # shares that kind's runs: the same config twice would only measure the machine
            home = canonical(s)
            run_dir = out / env / "rl" / f"{s.estimator}-{home.kind}{length}" / f"seed{seed}"
            if run_dir in made:
                rl[(s.estimator, s.kind, seed)] = made[run_dir]
                continue
            job = made[run_dir] = Job(f"{s.estimator} {home.kind} seed {seed}", run_dir,
                      [config, "--run-dir", str(run_dir), f"seed={seed}", *common,
                       f"checkpoint.init_from={sft_dir}",
                       f"checkpoint.every={study.checkpoint_every}",
                       f"trainer.eval_every={study.eval_every}",
                       f"advantage.name={s.estimator}",
                       f"advantage.params={json.dumps(s.params, separators=(',', ':'))}",
                       *shorten, *last], iterations, after=sft)
            rl[(s.estimator, s.kind, seed)] = job
    first = {kind: i for i, kind in enumerate(PRIORITY)}
    late = first_seeds if first_seeds is not None else len(seeds)
    order = sorted(rl, key=lambda k: (first[k[1]], seeds.index(k[2]) >= late,
                                      ESTIMATORS.index(k[0]), k[2]))
    return jobs + list({id(rl[k]): rl[k] for k in order}.values()), rl


def canonical(setting: Setting) -> Setting:
    """The setting whose runs ``setting`` uses: the first in ``PRIORITY`` order with the same
    estimator and equal parameters (itself when no other kind's are equal)."""
    twins = [t for t in SETTINGS if t.estimator == setting.estimator
             and same_params(t, setting.params)]
    return min(twins, key=lambda t: PRIORITY.index(t.kind))



def collect(env: str, study: StudyEnv, out: Path, rl: dict[tuple[str, str, int], Job],
            settings: list[Setting], quickstart_length: bool = True) -> list[report.Row]:
    """The table's rows; ``quickstart_length``: the runs have the quickstart's RL length, so the
    row of its estimator setting is its recipe (marked ``*``, the claims' source)."""
    from turnrl.core.config import load_config
    from turnrl.trainers.config import TrainConfig

    shipped = load_config(str(ROOT / study.config), [], model=TrainConfig).advantage
    rows = []
    for s in settings:
        runs = []
        for (est, kind, seed), job in sorted(rl.items()):
            if (est, kind) == (s.estimator, s.kind) and (job.run_dir / "summary.json").exists():
                run = report.load_run(job.run_dir, seed, study.metric)
                stamp = json.loads((job.run_dir / "study_job.json").read_text())
                # an extended run's wall time includes the shorter run it continued
                runs.append(replace(run, wall_time_s=run.wall_time_s
                                    + stamp.get("prior_wall_s", 0.0)))
        sft_walls = [json.loads((out / env / "sft" / f"seed{r.seed}" / "summary.json")
                                .read_text())["wall_time_s"] for r in runs]
        home = canonical(s)
        source = s.source if home is s else \
            f"{s.source} [parameters equal {home.kind}'s: the same runs]"
        rows.append(report.Row(s.estimator, s.kind, s.params, source, runs,
                               quickstart=(quickstart_length and shipped.name == s.estimator
                                           and same_params(s, shipped.params)),
                               extra={"sft_wall_time_s": report.mean_std(sft_walls)[0]}))
    report.pair_with_grpo(rows)
    return rows


def same_params(setting: Setting, params: dict[str, Any]) -> bool:
    from turnrl.trainers.advantages.plugin import ESTIMATORS as REGISTERED

    model = {name: p for name, p, _ in REGISTERED}[setting.estimator]
    return model(**setting.params) == model(**params)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", choices=sorted(STUDIES), default="toy-env")
    p.add_argument("--seeds", type=int, help="training seeds 0..N-1 (default: the env's)")
    p.add_argument("--estimators", nargs="+", choices=ESTIMATORS, default=list(ESTIMATORS))
    p.add_argument("--settings", nargs="+", choices=KINDS, default=list(KINDS))
    p.add_argument("--jobs", type=int, default=2, help="runs at a time (one per core)")
    p.add_argument("--rl-iterations", type=int, metavar="N",
                   help="RL iterations per run (default or 0: the quickstart's own; another "
                   "length runs in <setting>-itN dirs, extending shorter runs)")
    p.add_argument("--first-seeds", type=int, metavar="K",
                   help="run every setting's first K seeds before any setting's others")
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "estimators")
    p.add_argument("--plots", type=Path, help="plot directory (default benchmarks/plots; "
                   "--quick: OUT)")
    p.add_argument("--quick", action="store_true", help="2 seeds, tiny runs: a few minutes")
    p.add_argument("--report-only", action="store_true", help="no training: report OUT")
    p.add_argument("--write-claims", action="store_true",
                   help="write the quickstart row's numbers into the env's config header")
    args = p.parse_args(argv)
    study = STUDIES[args.env]
    seeds = args.seeds if args.seeds is not None else (2 if args.quick else study.seeds)
    if seeds < 1 or args.jobs < 1 or (args.first_seeds is not None and args.first_seeds < 1):
        print("estimators: --seeds, --jobs and --first-seeds must be >= 1", file=sys.stderr)
        return 2
    rl_iterations = args.rl_iterations
    if rl_iterations is not None and rl_iterations < 0:
        print("estimators: --rl-iterations must be >= 0", file=sys.stderr)
        return 2
    rl_iterations = rl_iterations or None  # 0: the quickstart's own length
    if args.write_claims and rl_iterations is not None:
        print(f"estimators: --write-claims needs the quickstart's own RL length; add "
              f"--rl-iterations 0 (this study stops at {rl_iterations})", file=sys.stderr)
        return 2
    if args.quick and args.write_claims:
        print("estimators: --write-claims needs the full study, not --quick", file=sys.stderr)
        return 2
    settings = [s for s in SETTINGS if s.estimator in args.estimators and s.kind in args.settings]
    out = args.out.resolve()
    jobs, rl = plan(args.env, study, out, seeds=list(range(seeds)), settings=settings,
                    quick=args.quick, first_seeds=args.first_seeds,
                    rl_iterations=rl_iterations)
    t0 = time.perf_counter()
    if not args.report_only:
        run_jobs(jobs, args.jobs)
    # this invocation's training time; None for a report: the runs' own times are in the rows
    wall = None if args.report_only else time.perf_counter() - t0
    rows = collect(args.env, study, out, rl, settings, quickstart_length=rl_iterations is None)
    if args.report_only and not any(r.runs for r in rows):  # nothing to report: keep the plots
        print(f"estimators: no finished {args.env} runs under {out / args.env}; "
              "nothing to report", file=sys.stderr)
        return 2
    counts = sorted({len(r.runs) for r in rows if r.runs}) or [0]
    n_seeds = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    measure = report.METRICS[study.metric].label
    title = (f"{args.env}: {measure} by estimator, {n_seeds} training seeds"
             f"{' per row' if len(counts) > 1 else ''}{' (--quick)' if args.quick else ''}")
    report.print_table(rows, title, measure)
    plots = args.plots or (out / args.env if args.quick else ROOT / "benchmarks" / "plots")
    # a length other than the quickstart's has its own results and plots
    length = f"_it{rl_iterations}" if rl_iterations and not args.quick else ""
    stem = f"estimators_{args.env}{'_quick' if args.quick else ''}{length}"
    kinds = [k for k in KINDS if k in args.settings]
    for path in (report.plot_curves(rows, kinds, title, plots / f"{stem}_curves.png", measure),
                 report.plot_curves(rows, kinds, title, plots / f"{stem}_gains.png", measure,
                                    gain=True),
                 report.plot_final(rows, kinds, title, plots / f"{stem}_final.png", measure)):
        print(f"plot: {path}")
    from turnrl.core.provenance import software_versions

    versions = software_versions()  # the report's; each run records its own in summary.json
    machine = (f"{os.cpu_count()}-core CPU, no GPU, {args.jobs} runs at a time, "
               "trainer.threads 1")
    results = {"env": args.env, "config": study.config, "quick": args.quick, "seeds": seeds,
               "metric": study.metric,
               "rl_iterations": rl_iterations,
               "command": "python benchmarks/estimators.py " + " ".join(argv or sys.argv[1:]),
               "machine": machine, "versions": versions,
               "date": datetime.now(UTC).strftime("%Y-%m-%d"), "study_wall_s": wall,
               "rows": [r.as_dict() for r in rows]}
    (out / args.env).mkdir(parents=True, exist_ok=True)
    (out / args.env / f"results{length}.json").write_text(json.dumps(results, indent=1))
    (out / args.env / f"results{length}.md").write_text(report.markdown_table(rows) + "\n")
    print(f"results: {out / args.env / f'results{length}.json'}"
          f"{'' if wall is None else f' (study wall {wall:.0f} s)'}")
    if args.write_claims:
        write_claims(args.env, study, results)
    failed = [j.name for j in jobs if j.status == "failed"]
    if failed:
        print(f"{len(failed)} job(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def write_claims(env: str, study: StudyEnv, results: dict[str, Any]) -> None:
    """Put the quickstart row's numbers into the config header and keep a copy of the
    results next to it (``benchmarks/results/``), which the claims test compares against."""
    row = next((r for r in results["rows"] if r["quickstart"] and r["runs"]), None)
    if row is None:
        raise SystemExit(f"estimators: no finished row matches {study.config}'s estimator")
    lines = report.claim_lines(env, row, results["versions"], results["machine"],
                               results["date"],
                               report.METRICS[results.get("metric", "success")].label)
    config = ROOT / study.config
    config.write_text(report.replace_block(config.read_text(encoding="utf-8"), lines))
    kept = ROOT / "benchmarks" / "results" / f"estimators_{env}.json"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(json.dumps(results, indent=1) + "\n")
    print(f"claims: {config} header and {kept}")


if __name__ == "__main__":
    sys.exit(main())
