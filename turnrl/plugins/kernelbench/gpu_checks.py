"""The kernel environment's GPU checks, as one function a GPU machine (or suite) can call.

    python -m turnrl.plugins.kernelbench.gpu_checks --out kernel_gpu.json [--sandbox local]
    python -m turnrl.plugins.kernelbench.gpu_checks --device cpu --problems l1-relu   # dry run

1. Every shipped expert at ``gpu`` scale on CUDA: correct, not a decoy, no finding; its timed
   speedup over eager PyTorch and its profiler time coverage.
2. At least one fusion problem whose expert beats eager PyTorch with real CUDA-event timing.
3. A decoy the launch hook cannot see but the profiler can: it "launches" its own Triton kernel
   on an empty grid (Triton skips the CUDA launch), and PyTorch does the work.
4. The coverage numbers (own-kernel share of GPU kernel time) for every expert.

Only code written here runs (the experts and the decoy), so ``sandbox="local"`` (no isolation)
is allowed; a bwrap sandbox needs the GPU device nodes bound into it. ``--device cpu`` runs the
same code path at ``cpu`` scale under the Triton interpreter (``benchmarks/gpu_suite.py
--dry-run``): correctness only, no timing, coverage or profiler decoy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from turnrl.plugins.kernelbench.evaluate import aevaluate, resolve_sandbox
from turnrl.plugins.kernelbench.problems import expert_source, shipped_problem, shipped_problems

PROFILER_DECOY = '''```python
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def relu_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n)
    tl.store(out_ptr + offs, tl.maximum(x, 0.0), mask=offs < n)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        out = torch.empty_like(x)
        relu_kernel[(0,)](x, out, 0, BLOCK=1024)  # an empty grid: nothing reaches the GPU
        return x.clamp_min(0.0)
```'''


def _expert_row(problem: Any, r: Any) -> dict[str, Any]:
    return {"id": problem.id, "category": problem.category, "correct": r.correct,
            "decoy": r.decoy, "hacks": r.hacks, "speedup": r.speedup,
            "runtime_ms": r.runtime_ms, "ref_runtime_ms": r.ref_runtime_ms,
            "coverage": r.coverage, "feedback": r.feedback if not r.correct else ""}


def _order(problems: list[Any]) -> list[Any]:
    """Fusion problems first: a budget cut short still answers "does a fusion expert beat eager
    PyTorch?"; catalogue order otherwise."""
    return sorted(problems, key=lambda p: p.category != "fusion")


def _fusion_wins(experts: list[dict[str, Any]]) -> list[str]:
    return [e["id"] for e in experts if e["category"] == "fusion" and e["correct"]
            and (e["speedup"] or 0) > 1.0]


def _passed(report: dict[str, Any]) -> dict[str, bool]:
    experts = report["experts"]
    clean = bool(experts) and all(e["correct"] and not e["decoy"] and not e["hacks"]
                                  for e in experts)
    if report["device"] != "cuda":
        return {"experts_correct_at_cpu_scale": clean}
    decoy = report.get("profiler_decoy") or {}
    return {
        "experts_correct_at_gpu_scale": clean,
        "fusion_expert_beats_eager": bool(report["fusion_wins"]),
        "profiler_catches_decoy": bool(decoy.get("decoy"))
        and "profiler_decoy" in decoy.get("hacks", []),
        "coverage_measured": all(e["coverage"] is not None for e in experts if e["correct"]),
    }


async def _run(box: Any, chosen: list[Any], *, reps: int, device: str, budget_s: float | None,
               out: str | None) -> dict[str, Any]:
    gate = asyncio.Semaphore(1)  # one GPU: timings must not overlap
    t0 = time.monotonic()
    report: dict[str, Any] = {"device": device, "experts": [], "fusion_wins": [],
                              "problems_total": len(chosen), "skipped_for_budget": []}

    def save() -> None:
        if device == "cuda":  # speedups are timings: none on the CPU
            report["fusion_wins"] = _fusion_wins(report["experts"])
        report["passed"] = _passed(report)
        report["complete"] = len(report["experts"]) == len(chosen) and (
            device != "cuda" or "profiler_decoy" in report)
        report["seconds"] = round(time.monotonic() - t0, 1)
        if out:  # after every problem, so a stage killed at its limit still leaves its rows
            with open(out, "w", encoding="utf-8") as f:
                json.dump(report, f, indent=2)

    if device == "cuda":  # short, and the one check no expert answers: first
        decoy = (await aevaluate(shipped_problem("l1-relu", "gpu").source, PROFILER_DECOY,
                                 sandbox=box, trusted=True, device="cuda", reps=reps,
                                 timeout_s=900, gate=gate)).result
        report["profiler_decoy"] = {"decoy": decoy.decoy, "hacks": decoy.hacks,
                                    "feedback": decoy.feedback}
        save()
    ordered = _order(chosen)
    for i, problem in enumerate(ordered):
        if budget_s is not None and time.monotonic() - t0 >= budget_s:
            report["skipped_for_budget"] = [p.id for p in ordered[i:]]
            break
        answer = f"```python\n{expert_source(problem.id)}```"
        ev = await aevaluate(problem.source, answer, sandbox=box, trusted=True, device=device,
                             reps=reps, timeout_s=900, gate=gate)
        row = _expert_row(problem, ev.result)
        report["experts"].append(row)
        print(_line(row), flush=True)
        save()
    save()
    return report


def _line(e: dict[str, Any]) -> str:
    speed = f"{e['speedup']:.2f}x" if e["speedup"] else "-"
    cover = f"{100 * e['coverage']:.0f}%" if e["coverage"] is not None else "-"
    return (f"{e['id']:26s} {'ok ' if e['correct'] else 'BAD'} speedup {speed:>7s} "
            f"coverage {cover:>5s}")


def run_gpu_checks(*, sandbox: str | Any = "local", problems: list[str] | None = None,
                   reps: int = 20, device: str = "cuda", budget_s: float | None = None,
                   out: str | None = None) -> dict[str, Any]:
    """Run the checks above; returns a JSON-safe report with ``passed`` per check (over the
    problems checked; ``complete`` says whether that was all of them). ``device="cpu"``: the
    experts' correctness at ``cpu`` scale only (a dry run). ``budget_s``: start no problem after
    this many seconds (the rest are listed in ``skipped_for_budget``); ``out``: rewritten after
    every problem."""
    box = resolve_sandbox(sandbox, trusted=True)
    scale = "gpu" if device == "cuda" else "cpu"
    chosen = [p for p in shipped_problems(scale) if problems is None or p.id in problems]
    return asyncio.run(_run(box, chosen, reps=reps, device=device, budget_s=budget_s, out=out))


def main() -> None:
    parser = argparse.ArgumentParser(description="kernel environment GPU checks")
    parser.add_argument("--sandbox", default="local")
    parser.add_argument("--problems", nargs="*", help="problem ids (default: all 50)")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--out", default="kernel_gpu.json")
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"),
                        help="cpu: a dry run of the same path (correctness at cpu scale)")
    parser.add_argument("--budget-s", type=float, default=None,
                        help="start no problem after this many seconds (the rest are listed)")
    args = parser.parse_args()
    report = run_gpu_checks(sandbox=args.sandbox, problems=args.problems, reps=args.reps,
                            device=args.device, budget_s=args.budget_s, out=args.out)
    print(f"{len(report['experts'])} of {report['problems_total']} problems checked in "
          f"{report['seconds']} s; skipped for budget: {len(report['skipped_for_budget'])}")
    print(json.dumps(report["passed"], indent=2))
    raise SystemExit(0 if all(report["passed"].values()) else 1)


if __name__ == "__main__":
    main()
