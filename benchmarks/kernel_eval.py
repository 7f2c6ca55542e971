"""Benchmark: kernel evaluations per second on CPU (Triton interpreter), per problem class.

    python benchmarks/kernel_eval.py [--per-class 2] [--trials 5] [--concurrency N]

Every shipped expert of the chosen problems (``--per-class`` per category, catalogue order) is
judged by the real pipeline (``aevaluate``: extraction, static checks, harness, reward) three
ways, side by side in one run:

- ``bwrap``: the default sandbox (``make_sandbox("bwrap")``), one fresh process per answer;
- ``subprocess``: the same harness in a bare child process (``TrustedSubprocess``: what the
  sandbox costs on top of starting Python and importing torch);
- ``in-process``: the harness called inside this process (no start, no imports: the floor a
  warm worker could reach, and no isolation at all: experts only).

The three ways take turns class by class (so a change in machine load hits all of them alike).
Printed per class: evaluations/s at ``--concurrency`` for each way and the ratios, and the mean
time split of one bwrap evaluation: sandbox start (bwrap + interpreter start, the run's wall
time minus the harness's own), imports (torch + triton), reference (``Model`` on every trial's
inputs), compile (import the answer, build ``ModelNew``), trials (the answer's forwards, launch
counting, comparisons), static checks. Speed on CPU means nothing for the kernels themselves;
this measures the environment's throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TRITON_INTERPRET", "1")  # the in-process way runs kernels here

from turnrl.plugins.kernelbench.catalog import CATEGORIES  # noqa: E402
from turnrl.plugins.kernelbench.evaluate import KernelEvaluation, aevaluate  # noqa: E402
from turnrl.plugins.kernelbench.problems import (  # noqa: E402
    Problem,
    expert_source,
    shipped_problems,
)
from turnrl.plugins.kernelbench.runner import TrustedSubprocess  # noqa: E402

SPLIT = ("sandbox_overhead_s", "harness_import_s", "harness_reference_s", "harness_compile_s",
         "harness_trials_s", "static_s")
LABELS = ("start", "imports", "reference", "compile", "trials", "static")


def pick(per_class: int) -> list[Problem]:
    chosen: dict[str, list[Problem]] = defaultdict(list)
    for p in shipped_problems("cpu"):
        if len(chosen[p.category]) < per_class:
            chosen[p.category].append(p)
    return [p for c in CATEGORIES for p in chosen[c]]


async def judge_class(members: list[Problem], runner: Any, *, trusted: bool, trials: int,
                      concurrency: int, advance: Any) -> tuple[float, list[KernelEvaluation]]:
    """(wall seconds to judge ``members`` at ``concurrency``, the evaluations)."""
    gate = asyncio.Semaphore(concurrency)
    start = time.perf_counter()

    async def one(p: Problem) -> KernelEvaluation:
        answer = f"```python\n{expert_source(p.id)}```"
        ev = await aevaluate(p.source, answer, sandbox=runner, trusted=trusted, trials=trials,
                             timeout_s=600, gate=gate)
        if not ev.result.correct:
            raise SystemExit(f"{p.id}: the expert was judged wrong: {ev.result.feedback}")
        advance()
        return ev

    evaluations = await asyncio.gather(*(one(p) for p in members))
    return time.perf_counter() - start, list(evaluations)


def in_process_runner(root: Path, trials: int) -> Any:
    """The in-process harness, warmed up: torch and triton imported, one evaluation run."""
    sys.path.insert(0, str(ROOT / "tests"))
    from tests.plugins.kernelbench.conftest import InProcessRunner

    runner = InProcessRunner(root)
    relu = shipped_problems("cpu")[0]
    asyncio.run(aevaluate(relu.source, f"```python\n{expert_source(relu.id)}```",
                          sandbox=runner, trusted=True, trials=trials))
    return runner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=2, help="problems per category")
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sandbox", default="bwrap", help="sandbox backend to measure")
    args = parser.parse_args()
    if args.per_class < 1 or args.trials < 1 or args.concurrency < 1:
        raise SystemExit("--per-class, --trials and --concurrency must be >= 1")

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from turnrl.sandboxes import make_sandbox

    problems = pick(args.per_class)
    sandbox = make_sandbox(args.sandbox)
    ways = [(args.sandbox, sandbox, False), ("subprocess", TrustedSubprocess(), True)]
    console = Console(width=200)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    console.print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} "
                  f"CPU cores, no GPU; load average {load:.1f} at start; "
                  f"{len(problems)} problems x {args.trials} trials, concurrency "
                  f"{args.concurrency}")
    results: dict[str, dict[str, tuple[float, list[KernelEvaluation]]]] = {}
    with tempfile.TemporaryDirectory() as tmp, Progress(console=console) as progress:
        ways.append(("in-process", in_process_runner(Path(tmp), args.trials), True))
        task = progress.add_task("evaluations", total=len(problems) * len(ways))
        for category in CATEGORIES:  # the ways take turns per class: load drift hits all alike
            members = [p for p in problems if p.category == category]
            for name, runner, trusted in (ways if members else ()):
                conc = 1 if name == "in-process" else args.concurrency  # one process: serial
                results.setdefault(name, {})[category] = asyncio.run(judge_class(
                    members, runner, trusted=trusted, trials=args.trials, concurrency=conc,
                    advance=lambda: progress.advance(task)))

    table = Table(title="kernel evaluations/s on CPU (Triton interpreter), experts, "
                        f"{args.trials} trials", title_justify="left")
    for col in ("class", "n", f"{args.sandbox}/s", "subprocess/s", "in-process/s",
                f"{args.sandbox}/subprocess", *(f"{lab} s" for lab in LABELS),
                "subprocess start s", "subprocess imports s"):
        table.add_column(col, justify="right")
    totals = {name: [0.0, 0] for name, _, _ in ways}
    for category in CATEGORIES:
        if category not in results[args.sandbox]:
            continue
        rates = []
        for name, _, _ in ways:
            wall, evs = results[name][category]
            totals[name][0] += wall
            totals[name][1] += len(evs)
            rates.append(len(evs) / wall)
        evs = results[args.sandbox][category][1]
        split = [statistics.fmean(e.times.get(k, 0.0) for e in evs) for k in SPLIT]
        bare = [statistics.fmean(e.times.get(k, 0.0) for e in results["subprocess"][category][1])
                for k in SPLIT[:2]]
        table.add_row(category, str(len(evs)), *(f"{r:.2f}" for r in rates),
                      f"{rates[0] / rates[1]:.2f}", *(f"{s:.3f}" for s in split),
                      *(f"{s:.3f}" for s in bare))
    overall = [totals[name][1] / totals[name][0] for name, _, _ in ways]
    all_evs = [e for c in results[args.sandbox].values() for e in c[1]]
    split = [statistics.fmean(e.times.get(k, 0.0) for e in all_evs) for k in SPLIT]
    all_bare = [e for c in results["subprocess"].values() for e in c[1]]
    bare = [statistics.fmean(e.times.get(k, 0.0) for e in all_bare) for k in SPLIT[:2]]
    table.add_row("all", str(len(all_evs)), *(f"{r:.2f}" for r in overall),
                  f"{overall[0] / overall[1]:.2f}", *(f"{s:.3f}" for s in split),
                  *(f"{s:.3f}" for s in bare))
    console.print(table)
    per_eval = statistics.fmean(e.times["sandbox_run_s"] for e in all_evs)
    console.print(f"{args.sandbox}: {per_eval:.2f} s per evaluation (mean wall time in the "
                  f"sandbox); start + imports are {100 * (split[0] + split[1]) / per_eval:.0f}% "
                  f"of it, the answer's own trials {100 * split[4] / per_eval:.0f}%; "
                  f"in-process/{args.sandbox} throughput ratio "
                  f"{overall[2] / overall[0]:.1f}x")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    console.print(f"load average {load:.1f} at the end")


if __name__ == "__main__":
    main()
