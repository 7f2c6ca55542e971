"""Does a training config reproduce bit for bit, and if not, where does it first diverge?

    python benchmarks/reproducibility.py turnrl/tasks/quickstart.yaml --out /tmp/repro \\
        --variant base --variant base --variant "fork: checkpoint.init_from=@sft" \\
        --variant "eval10: trainer.eval_every=10 checkpoint.every=0"

Runs the config once per ``--variant "NAME[: KEY=VALUE ...]"`` (shell-quoted overrides; a name
may repeat: the same variant again is the plain "run it twice" check), ``--jobs`` at a time,
each a separate
``turnrl train`` process, and compares every run with the first one iteration by iteration:
the RL records of ``metrics.jsonl`` (reward, tokens, success and the loss), then the held-out
numbers of ``summary.json``. ``--set KEY=VALUE`` applies to every run. ``@sft`` in an override
is the run dir of an SFT-only run of the config with the ``--set`` overrides (trained first,
once), so ``checkpoint.init_from=@sft`` is the estimator study's
fork. Prints a table (first iteration that differs, the loss's largest relative difference
before the trajectories part, post-RL success, wall time) and writes ``results.json``.

Why a script: "two runs of the same file print the same digits" and "a fork is the same run"
are claims that depend on the machine, the load and the package versions (each run's
``summary.json`` records its versions); this makes them something anyone reruns, and tells
apart a float-level drift (loss differs at 1e-7, rewards equal) from another trajectory
(rewards differ: the runs sampled different actions).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXACT = ("reward", "tokens", "success")  # equal unless the runs sampled different actions


@dataclass
class Variant:
    name: str
    overrides: list[str]
    run_dir: Path
    wall_s: float = 0.0
    returncode: int | None = None
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def parse_variant(text: str, out: Path, index: int) -> Variant:
    name, _, rest = text.partition(":")
    if not name:
        raise SystemExit(f"reproducibility: --variant {text!r} has no name "
                         "('NAME[: KEY=VALUE ...]')")
    try:
        overrides = shlex.split(rest)
    except ValueError as exc:
        raise SystemExit(f"reproducibility: --variant {text!r}: {exc}") from None
    bad = [o for o in overrides if "=" not in o]
    if bad:
        raise SystemExit(f"reproducibility: --variant {text!r}: {bad[0]!r} is not KEY=VALUE")
    return Variant(name, overrides, out / f"{index:02d}-{name}")


def train(config: Path, run_dir: Path, overrides: list[str]) -> tuple[int, float]:
    """One ``turnrl train`` process; its output goes to ``run_dir/train.log``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "turnrl.cli", "train", str(config), "--run-dir", str(run_dir),
           "logging.tensorboard=false", *overrides]
    start = time.perf_counter()
    with (run_dir / "train.log").open("w") as log:
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": path}, check=False).returncode
    return rc, time.perf_counter() - start


def rl_rows(run_dir: Path) -> dict[int, dict[str, Any]]:
    """RL records by iteration (the last record of an iteration wins, as after a resume)."""
    rows: dict[int, dict[str, Any]] = {}
    path = run_dir / "metrics.jsonl"
    for line in path.read_text().splitlines() if path.exists() else []:
        rec = json.loads(line)
        if rec.get("phase") == "rl":
            rows[int(rec["step"])] = rec
    return rows


def compare(ref: Variant, run: Variant) -> dict[str, Any]:
    """Where ``run`` first leaves ``ref``: ``first_loss_diff`` (float-level), ``first_split``
    (a sampled quantity differs: another trajectory from there on), the loss's largest relative
    difference before the split, and whether the held-out summaries are equal."""
    first_loss = first_split = None
    max_rel = 0.0
    common = sorted(set(ref.rows) & set(run.rows))
    for it in common:
        a, b = ref.rows[it], run.rows[it]
        if any(a.get(k) != b.get(k) for k in EXACT):
            first_split = it
            break
        if a.get("loss") != b.get("loss"):
            first_loss = first_loss or it
            scale = max(abs(a["loss"]), 1e-12)
            max_rel = max(max_rel, abs(a["loss"] - b["loss"]) / scale)
    same_post_rl = held_out(ref) == held_out(run)
    return {"iterations_compared": len(common), "first_loss_diff": first_loss,
            "first_split": first_split, "max_rel_loss_diff_before_split": max_rel,
            "identical": first_loss is None and first_split is None and same_post_rl
            and len(common) == len(ref.rows) == len(run.rows),
            "same_post_rl": same_post_rl}


def held_out(v: Variant) -> list[float] | None:
    """Post-RL held-out success per eval seed, from ``summary.json``."""
    return ((v.summary.get("success") or {}).get("post_rl") or {}).get("per_seed")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("config", type=Path)
    p.add_argument("--variant", action="append", default=[],
                   help='"NAME[: KEY=VALUE ...]", repeatable; default: base twice')
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="an override for every run, the @sft run included (repeatable)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--jobs", type=int, default=2, help="runs at a time (one per core)")
    p.add_argument("--stress", type=int, default=0, metavar="N",
                   help="N busy-loop processes beside the runs: a loaded machine, where "
                        "timing-dependent behaviour (request batching) shows")
    args = p.parse_args(argv)
    if not args.config.is_file():
        print(f"reproducibility: no such config: {args.config}", file=sys.stderr)
        return 2
    if args.stress < 0:
        print(f"reproducibility: --stress must be >= 0, got {args.stress}", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print(f"reproducibility: --jobs must be >= 1, got {args.jobs}", file=sys.stderr)
        return 2
    try:
        variants = [parse_variant(v, args.out, i)
                    for i, v in enumerate(args.variant or ["base", "base"])]
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2
    bad = [o for o in args.set if "=" not in o]
    if bad:
        print(f"reproducibility: --set {bad[0]!r} is not KEY=VALUE", file=sys.stderr)
        return 2
    for v in variants:
        v.overrides = [*args.set, *v.overrides]
    config = args.config.resolve()

    from rich.console import Console
    from rich.table import Table

    console = Console() if sys.stdout.isatty() else Console(width=160)  # a log keeps the table
    if any("@sft" in o for v in variants for o in v.overrides):
        sft_dir = args.out / "sft"
        with console.status("SFT-only run for the @sft forks"):
            rc, _ = train(config, sft_dir,
                          [*args.set, "trainer.iterations=0", "checkpoint.every=1"])
        if rc != 0:
            print(f"reproducibility: the SFT run failed (exit {rc}); see {sft_dir}/train.log",
                  file=sys.stderr)
            return 1
        for v in variants:
            v.overrides = [o.replace("@sft", str(sft_dir)) for o in v.overrides]

    def run(v: Variant) -> Variant:
        v.returncode, v.wall_s = train(config, v.run_dir, v.overrides)
        v.rows = rl_rows(v.run_dir)
        summary = v.run_dir / "summary.json"
        v.summary = json.loads(summary.read_text()) if summary.exists() else {}
        return v

    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(args.stress)]
    try:
        with console.status(f"{len(variants)} runs, {args.jobs} at a time"
                            f"{f', {args.stress} busy loops beside them' if busy else ''}"), \
                ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(run, variants))
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()

    ref = variants[0]
    table = Table(title=f"{args.config}: each run against run 0 ({ref.name})")
    for col in ("run", "variant", "overrides", "wall s", "post-RL", "first loss diff",
                "first split", "max rel loss diff", "verdict"):
        table.add_column(col)
    results = []
    for i, v in enumerate(variants):
        post = ((v.summary.get("success") or {}).get("post_rl") or {}).get("mean")
        row = {"run": i, "variant": v.name, "overrides": v.overrides, "wall_s": v.wall_s,
               "returncode": v.returncode, "post_rl": post,
               "versions": v.summary.get("versions", [])}
        if v.returncode != 0:
            verdict = f"failed (exit {v.returncode}, {v.run_dir}/train.log)"
        elif i == 0:
            verdict = "reference"
        else:
            row |= compare(ref, v)
            verdict = ("bit-identical" if row["identical"] else
                       "float drift only" if row["first_split"] is None else
                       "another trajectory")
        row["verdict"] = verdict
        results.append(row)
        table.add_row(str(i), v.name, " ".join(v.overrides) or "-", f"{v.wall_s:.0f}",
                      "-" if post is None else f"{post:.3f}",
                      str(row.get("first_loss_diff") or "-"), str(row.get("first_split") or "-"),
                      f"{row['max_rel_loss_diff_before_split']:.1e}"
                      if "max_rel_loss_diff_before_split" in row else "-", verdict)
    console.print(table)
    console.print("first loss diff: first RL iteration whose loss differs (rewards equal); "
                  "first split: first iteration whose reward/tokens/success differ (the runs "
                  "sampled different actions from there on)")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(
        {"config": str(args.config), "jobs": args.jobs, "stress": args.stress,
         "load_average": os.getloadavg(), "runs": results}, indent=1) + "\n")
    print(f"results: {args.out / 'results.json'}")
    return 0 if all(v.returncode == 0 for v in variants) else 1


if __name__ == "__main__":
    raise SystemExit(main())
