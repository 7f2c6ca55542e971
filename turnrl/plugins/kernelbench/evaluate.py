"""``evaluate_kernel``: one answer against one problem, the way KernelBench and KernelGYM judge it.

1. Extract the last fenced Python block (none: a clear message, ``valid_action=False``).
2. Static checks on the AST (``static.py``): syntax errors and a missing ``ModelNew`` stop here,
   named hack findings are kept for the reward and the feedback.
3. Run ``harness.py`` in the sandbox (``bwrap`` by default) under a time limit: ``Model`` and
   ``ModelNew`` from the same seed, ``trials`` fresh seeded input sets, per-dtype ``allclose``,
   inputs compared before/after, Triton launches counted around every forward (none: decoy).
4. On CUDA: CUDA-event timing with warm-up and L2 flushes, a profiler pass for coverage.
5. The reward (``rewards.py``) and the feedback text (``feedback.py``).

A failure of the machinery rather than the answer (the sandbox could not start, the reference
problem itself crashed) raises ``KernelEvalError``: the environment turns that into an errored
episode instead of punishing the model for it.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from turnrl.plugins.kernelbench.extract import extract_code, missing_code_message
from turnrl.plugins.kernelbench.feedback import (
    findings_text,
    launches_text,
    speed_text,
    status_line,
    trials_text,
)
from turnrl.plugins.kernelbench.rewards import RewardFacts, reward_function
from turnrl.plugins.kernelbench.runner import (
    harness_command,
    harness_env,
    harness_files,
    new_nonce,
    parse_reports,
)
from turnrl.plugins.kernelbench.static import Finding, StaticReport, analyze

TOLERANCES: dict[str, dict[str, tuple[float, float]]] = {
    # KernelBench: 1e-4 for fp32, 1e-2 for half types; KernelGYM: 1e-2 everywhere
    "kernelbench": {"default": (1e-4, 1e-4), "float16": (1e-2, 1e-2),
                    "bfloat16": (1e-2, 1e-2)},
    "kernelgym": {"default": (1e-2, 1e-2)},
}
STAGE_ORDER = ("imported", "reference", "compiled", "trial", "trials")


class KernelEvalError(RuntimeError):
    """The evaluation could not judge the answer (sandbox failure, broken reference)."""


class EvalOptions(BaseModel):
    """How one answer is judged; every field has the value KernelBench/KernelGYM use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device: Literal["cpu", "cuda"] = "cpu"
    """``cpu``: Triton interpreter, correctness only; ``cuda``: also timing and profiling."""
    trials: int = Field(5, ge=1, le=100)
    """Seeded input sets (KernelBench ``num_correct_trials``)."""
    seed: int = 42
    tolerance: Literal["kernelbench", "kernelgym"] = "kernelbench"
    """Per-dtype tolerance table: KernelBench's 1e-4 fp32 / 1e-2 half, or KernelGYM's 1e-2."""
    atol: float | None = Field(None, ge=0)
    """Override the table's absolute tolerance for every dtype."""
    rtol: float | None = Field(None, ge=0)
    timeout_s: float = Field(60.0, gt=0)
    """Wall-clock limit of the whole sandboxed run (imports, trials, timing)."""
    reward: str = "like_kernel"
    reward_params: dict[str, Any] = Field(default_factory=dict)
    warmup: int = Field(3, ge=0)
    reps: int = Field(20, ge=1)
    """Timed runs per model on CUDA (median reported)."""
    timing: bool = True
    """Time and profile correct kernels on CUDA."""
    memory_mb: int | None = Field(None, ge=256)
    """Memory limit of the sandboxed run; None: 4096 on CPU, no cap on CUDA (where the limit
    may be an address-space rlimit, which the CUDA driver's reservations break)."""
    threads: int = Field(1, ge=1)
    python: str | None = None
    """Interpreter inside the sandbox (default: this one)."""

    def tolerances(self) -> dict[str, tuple[float, float]]:
        table = dict(TOLERANCES[self.tolerance])
        if self.atol is not None or self.rtol is not None:
            for key, (a, r) in list(table.items()):
                table[key] = (self.atol if self.atol is not None else a,
                              self.rtol if self.rtol is not None else r)
        return table


@dataclass(frozen=True, slots=True)
class KernelResult:
    """The verdict on one answer (fields exactly as the kernel issue names them)."""

    compiled: bool
    correct: bool
    decoy: bool
    hacks: list[str]
    speedup: float | None
    runtime_ms: float | None
    ref_runtime_ms: float | None
    coverage: float | None
    reward: float
    feedback: str


@dataclass(slots=True)
class KernelEvaluation:
    """``KernelResult`` plus everything behind it (the environment's info, the benchmark)."""

    result: KernelResult
    valid_action: bool
    stage: str
    """Where it ended: no_code, syntax, no_model_new, compile, timeout, memory, output_limit,
    crash, decoy, hack, incorrect, correct."""
    findings: list[Finding] = field(default_factory=list)
    harness: dict[str, Any] | None = None
    times: dict[str, float] = field(default_factory=dict)
    reward_basis: str = "correctness_only"

    def info(self) -> dict[str, Any]:
        """JSON-safe summary for ``Transition.info``."""
        r = self.result
        return {"compiled": r.compiled, "correct": r.correct, "decoy": r.decoy,
                "hacks": list(r.hacks), "speedup": r.speedup, "runtime_ms": r.runtime_ms,
                "ref_runtime_ms": r.ref_runtime_ms, "coverage": r.coverage,
                "kernel_reward": r.reward, "reward_basis": self.reward_basis,
                "stage": self.stage, "findings": [f.to_dict() for f in self.findings],
                "times": dict(self.times)}


# ------------------------------------------------------------------ concurrency
_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = \
    weakref.WeakKeyDictionary()


def default_gate() -> asyncio.Semaphore:
    """One semaphore per event loop: at most one sandboxed evaluation per CPU core at once
    (each holds a torch process; more only queue on the cores and multiply the memory)."""
    loop = asyncio.get_running_loop()
    gate = _GATES.get(loop)
    if gate is None:
        gate = _GATES[loop] = asyncio.Semaphore(max(1, os.cpu_count() or 1))
    return gate


def resolve_sandbox(sandbox: Any, *, trusted: bool = False,
                    sandbox_options: dict[str, Any] | None = None) -> Any:
    """A sandbox object from a backend name (``make_sandbox``), a zero-argument factory, or
    the object itself."""
    if callable(sandbox) and not hasattr(sandbox, "run"):
        sandbox = sandbox()
    if sandbox is None or isinstance(sandbox, str):
        from turnrl.sandboxes import make_sandbox

        if sandbox == "local" and not trusted:
            raise ValueError("the 'local' sandbox has no isolation; model answers need bwrap "
                             "or docker (pass trusted=True only for code you wrote)")
        return make_sandbox(sandbox or "bwrap", **(sandbox_options or {}))
    if getattr(sandbox, "trusted_only", False) and not trusted:
        raise ValueError(f"{type(sandbox).__name__} runs code without isolation; pass "
                         "trusted=True only for code you wrote (model answers need a sandbox)")
    return sandbox


# ------------------------------------------------------------------ the pipeline
async def aevaluate(problem_source: str, answer_text: str, *, sandbox: Any = None,
                    trusted: bool = False, sandbox_options: dict[str, Any] | None = None,
                    gate: asyncio.Semaphore | None = None, **options: Any) -> KernelEvaluation:
    """Judge ``answer_text`` (a model's whole reply) on ``problem_source``; see the module doc.
    ``options`` are ``EvalOptions`` fields."""
    opts = EvalOptions(**options)
    rewarder = reward_function(opts.reward, opts.reward_params)
    start = time.perf_counter()
    code = extract_code(answer_text)
    if code is None:
        return _early(opts, rewarder, "no_code", missing_code_message(answer_text),
                      valid=False, start=start)
    static = analyze(code)
    if static.syntax_error:
        return _early(opts, rewarder, "syntax", f"Compilation failed: {static.syntax_error}.",
                      start=start)
    if not static.has_model_new:
        return _early(opts, rewarder, "no_model_new",
                      "Compilation failed: the code defines no class ModelNew (the optimised "
                      "model must be named ModelNew).", start=start, static=static)
    runner = resolve_sandbox(sandbox, trusted=trusted, sandbox_options=sandbox_options)
    nonce = new_nonce()
    config = {"nonce": nonce, "device": opts.device, "trials": opts.trials, "seed": opts.seed,
              "tolerances": opts.tolerances(), "warmup": opts.warmup, "reps": opts.reps,
              "timing": opts.timing, "threads": opts.threads}
    static_s = time.perf_counter() - start
    async with gate or default_gate():
        t_run = time.perf_counter()
        out = await runner.run(
            command=harness_command(opts.python), files=harness_files(problem_source, code),
            stdin=json.dumps(config), timeout=opts.timeout_s, limits=_limits(opts),
            env=harness_env(opts.device, opts.threads))
        run_s = time.perf_counter() - t_run
    report = parse_reports(out.stdout, nonce)
    return _judge(opts, rewarder, static, out, report, static_s, run_s, start)


def _limits(opts: EvalOptions) -> dict[str, Any]:
    """``turnrl.sandboxes`` limits sized for a torch/triton process (``TORCH_LIMITS``: address
    space when memory is an rlimit, threads, shared objects), with this evaluation's memory."""
    from turnrl.sandboxes.api import TORCH_LIMITS

    memory = opts.memory_mb or (4096 if opts.device == "cpu" else 1 << 30)
    return {**TORCH_LIMITS.model_dump(), "memory_mb": memory,
            "output_bytes": 4 * 1024 * 1024, "cpu_seconds": None}


def _early(opts: EvalOptions, rewarder: Any, stage: str, message: str, *, start: float,
           valid: bool = True, static: StaticReport | None = None) -> KernelEvaluation:
    """A verdict reached without running anything: no code, a syntax error, no ModelNew."""
    findings = list(static.findings) if static else []
    hacks = static.hacks if static else []
    reward = rewarder(RewardFacts(compiled=False, correct=False, decoy=False,
                                  hacks=tuple(hacks)))
    text = "\n".join(filter(None, [message, findings_text(findings), _reward_line(reward,
                                                                                   opts)]))
    result = KernelResult(False, False, False, hacks, None, None, None, None, reward, text)
    return KernelEvaluation(result, valid, stage, findings,
                            times={"static_s": time.perf_counter() - start,
                                   "total_s": time.perf_counter() - start})


def _judge(opts: EvalOptions, rewarder: Any, static: StaticReport, out: Any,
           report: Any, static_s: float, run_s: float, start: float) -> KernelEvaluation:
    harness = report.result
    status = out.status
    if status == "sandbox_error":
        raise KernelEvalError(f"the sandbox failed to run the evaluation: "
                              f"{(out.stderr or '').strip()[-300:]}")
    if harness is not None and harness.get("error_stage") in ("reference", "harness") \
            and not harness.get("compiled"):
        lines = (harness.get("error") or "").strip().splitlines()
        raise KernelEvalError(f"the problem's reference Model failed: "
                              f"{lines[-1] if lines else 'no error text'}")
    last = report.last_stage
    reached = STAGE_ORDER.index(last) if last in STAGE_ORDER else -1
    if harness is None and reached < STAGE_ORDER.index("reference"):
        # the answer's code had not run yet: the machine, not the model, is to blame
        raise KernelEvalError(f"the evaluation ended ({status}) before the answer was loaded "
                              f"(slow start? raise timeout_s/memory_mb); stderr: "
                              f"{(out.stderr or '').strip()[-300:]}")
    if harness is not None:
        compiled = bool(harness.get("compiled"))
        correct = bool(harness.get("correct")) and status == "ok"
        decoy = bool(harness.get("decoy"))
    else:
        compiled = reached >= STAGE_ORDER.index("compiled")
        correct = decoy = False
    dynamic = [Finding(f["name"], f["detail"]) for f in (harness or {}).get("findings", [])]
    findings = list(static.findings) + dynamic
    hacks = list(dict.fromkeys(f.name for f in findings if f.severity == "hack"))
    timed = opts.device != "cpu" and harness is not None and harness.get("speedup") is not None
    speedup = float(harness["speedup"]) if timed else None
    runtime = float(harness["runtime_ms"]) if timed else None
    ref_runtime = float(harness["ref_runtime_ms"]) if timed else None
    coverage = (harness.get("coverage") if timed else None)
    # on CUDA a correct kernel whose timing failed earns no speed credit (not CPU's basis)
    timing_failed = opts.device != "cpu" and opts.timing and correct and not timed
    reward = rewarder(RewardFacts(compiled, correct, decoy, tuple(hacks),
                                  0.0 if timing_failed else speedup, coverage))
    stage = _stage(status, harness, compiled, correct, decoy, hacks)
    parts = [_status_text(status, harness, last, opts, out)]
    if timing_failed:
        parts.append("Timing failed (no speed credit):\n" + "\n".join(
            "    " + ln for ln in ((harness or {}).get("error") or "").splitlines()[-8:]))
    if harness is not None and compiled:
        parts.append(trials_text(harness, opts.trials))
        parts.append(launches_text(harness, decoy))
    parts += [findings_text(findings), speed_text(harness if timed else None, opts.device),
              _reward_line(reward, opts)]
    result = KernelResult(compiled, correct, decoy, hacks, speedup, runtime, ref_runtime,
                          coverage, reward, "\n".join(p for p in parts if p))
    times = {"static_s": static_s, "sandbox_run_s": run_s}
    for key, value in ((harness or {}).get("times") or {}).items():
        times[f"harness_{key}"] = float(value)
    if "harness_total_s" in times:
        times["sandbox_overhead_s"] = max(0.0, run_s - times["harness_total_s"])
    times["total_s"] = time.perf_counter() - start
    return KernelEvaluation(result, True, stage, findings, harness, times,
                            "timed" if timed else "correctness_only")


def _stage(status: str, harness: dict[str, Any] | None, compiled: bool, correct: bool,
           decoy: bool, hacks: list[str]) -> str:
    if status in ("timeout", "memory", "output_limit"):
        return status
    if harness is None:
        return "crash"
    if not compiled:
        return "compile"
    if decoy:
        return "decoy"
    if hacks:
        return "hack"
    return "correct" if correct else "incorrect"


def _status_text(status: str, harness: dict[str, Any] | None, last: str | None,
                 opts: EvalOptions, out: Any) -> str:
    if status == "memory":
        return f"Ran out of memory (limit {_limits(opts)['memory_mb']} MB)."
    if status == "output_limit":
        return "Printed more output than allowed; the run was stopped."
    if harness is None and status in ("ok", "error"):
        return (f"The process ended (exit code {out.exit_code}) before the evaluation could "
                "report: does the code exit or kill the process?")
    stage = "compile" if harness is not None and not harness.get("compiled") else ""
    return status_line(stage, harness, status, last, opts.timeout_s)


def _reward_line(reward: float, opts: EvalOptions) -> str:
    basis = "; correctness only: no timing on CPU" if opts.device == "cpu" else ""
    return f"Reward: {reward:+.3g} ({opts.reward}{basis})."


# ------------------------------------------------------------------ public entry points
def evaluate_kernel_details(problem_source: str, answer_text: str, **kwargs: Any
                            ) -> KernelEvaluation:
    """Synchronous ``aevaluate`` (also callable from inside a running event loop)."""
    return _run_sync(aevaluate(problem_source, answer_text, **kwargs))


def evaluate_kernel(problem_source: str, answer_text: str, *, device: str = "cpu",
                    sandbox: Any = None, trials: int = 5, atol: float | None = None,
                    rtol: float | None = None, **kwargs: Any) -> KernelResult:
    """Judge one answer; see the module docstring. ``sandbox`` is a backend name (default
    ``bwrap``) or a sandbox object; other keywords are ``EvalOptions`` fields."""
    return evaluate_kernel_details(problem_source, answer_text, device=device, sandbox=sandbox,
                                   trials=trials, atol=atol, rtol=rtol, **kwargs).result


def _run_sync(coro: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
