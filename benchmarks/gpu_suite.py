"""Every check that needs a GPU, in one command with a time budget: run it whenever one is lent.

    python3 benchmarks/gpu_suite.py --out $OUT --wheels .whl       # on the GPU machine
    python benchmarks/gpu_suite.py --dry-run --out runs/gpu-dry    # CPU, tiny shapes (CI)
    python benchmarks/gpu_suite.py --fetch-wheels .whl              # here, before a device run

A lent GPU comes with about 15 minutes of device time, start-up included, so the suite is one
prepared script that cannot waste the first minute on a typo (``--dry-run`` runs the very same
stages on the CPU with tiny shapes, and CI runs it) and that stops cleanly when its budget is
spent, saying what it skipped. Stages, in order, each a subprocess with its own time limit (a
hang costs one stage, not the report):

1. ``gpu_tests``  the ``gpu``-marked tests (bf16 kernel, HF on CUDA, environment GPU tests);
2. ``kernels``    ``benchmarks/kernels.py`` at the spec's shapes (Qwen2.5-1.5B/7B heads, N 4K-32K,
                  bf16): naive, chunked reference, fused Triton, Liger, bare GEMM; TFLOP/s,
                  fraction of peak, peak memory, ours/bare and ours/naive;
3. ``trainer``    ``benchmarks/trainer_gpu.py``: one PPO update of a random Qwen2.5-1.5B-shape
                  model, fused vs full logits, activation checkpointing off/on: tokens/s, MFU,
                  peak memory;
4. ``kernel_env`` ``python -m turnrl.plugins.kernelbench.gpu_checks``: every expert correct at
                  ``gpu`` scale, real speedups over eager PyTorch, a decoy only the profiler
                  catches, coverage numbers.

Writes ``report.json`` and ``report.md`` (plus one log per stage) under ``--out``. The GPU image
has torch, Triton and transformers but not all of turnrl's dependencies and no network:
``--fetch-wheels DIR`` downloads the missing ones here (CPython 3.12, manylinux x86-64), and
``--wheels DIR`` installs whichever are missing there before the first stage. Exit status: 0
when no stage that ran failed, 1 otherwise, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = {"pydantic": "pydantic", "pluggy": "pluggy", "yaml": "pyyaml", "aiohttp": "aiohttp",
            "rich": "rich", "rapidfuzz": "rapidfuzz", "tenacity": "tenacity"}
"""import name -> distribution: what turnrl and its tests import that a GPU image may lack."""
OPTIONAL = {"liger_kernel": "liger-kernel"}
"""Compared against when present (Liger's fused linear cross-entropy); skipped otherwise."""
WHEEL_PYTHON = "3.12"  # the GPU image's python3 (device tool's KINDS.md)
MIN_STAGE_S = 20.0  # a stage with less time than this left is skipped, not started


@dataclass
class Stage:
    name: str
    budget_s: float
    what: str

    def command(self, args: argparse.Namespace, limit_s: float) -> list[str] | str:
        """The command line, or a string saying why this stage cannot run here; ``limit_s``: the
        seconds the stage will get (a stage that can stop early is told to stop before it)."""
        py, out = sys.executable, str(args.out)
        if self.name == "gpu_tests":
            return [py, str(Path(__file__).resolve()), "--gpu-tests-into", out]
        if self.name == "kernels":
            cmd = [py, "benchmarks/kernels.py", "--json", f"{out}/kernels.json"]
            return cmd + (["--dry-run"] if args.dry_run else ["--budget-ms", "300"])
        if self.name == "trainer":
            cmd = [py, "benchmarks/trainer_gpu.py", "--json", f"{out}/trainer.json"]
            return cmd + (["--dry-run"] if args.dry_run else [])
        if self.name == "kernel_env":
            cmd = [py, "-m", "turnrl.plugins.kernelbench.gpu_checks", "--out",
                   f"{out}/kernel_env.json"]
            if args.dry_run:  # the same path at cpu scale, two problems, no timing
                return [*cmd, "--device", "cpu", "--problems", "l1-relu", "l2-linear_relu"]
            # start no problem in the last 25 s: the report lists what was left
            return [*cmd, "--reps", "10", "--budget-s", f"{max(limit_s - 25.0, 1.0):.0f}"]
        raise ValueError(self.name)


def gpu_test_files() -> list[str]:
    """The test files that mark tests ``gpu``: collecting only these keeps test modules that
    import what the GPU image lacks (docker, playwright, ...) from failing the collection."""
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("test_*.py")
                  if "mark.gpu" in p.read_text(encoding="utf-8"))


def run_gpu_tests(out: Path) -> int:
    """Each gpu test file in its own pytest process. One process would share one
    ``TRITON_INTERPRET``: the kernel environment's conftest turns the interpreter on for its CPU
    tests, and Triton reads it when a kernel module is imported, so the fused kernel's bf16 tests
    ran interpreted on CUDA tensors and failed (first lent GPU, stop 24)."""
    rc = 0
    for i, path in enumerate(gpu_test_files()):
        print(f"$ pytest -m gpu {path}", flush=True)
        rc |= subprocess.call([sys.executable, "-m", "pytest", "-m", "gpu", "--run-gpu", "-q",
                               "-p", "no:cacheprovider", f"--junitxml={out}/gpu_tests-{i}.xml",
                               path], cwd=ROOT)
    return rc


STAGES = (
    # seconds each took on an H200 (stop 24): 107, 63, 30, and ~9.5 s per kernel-env problem
    # (a sandboxed process each), so the default budget checks about 25 of the 50 experts
    # (fusion first); `--stages kernel_env --budget-s 540` alone checks all of them
    Stage("gpu_tests", 150, "gpu-marked tests"),
    Stage("kernels", 120, "fused log-prob/entropy vs naive, reference, Liger, bare GEMM"),
    Stage("trainer", 90, "PPO update, Qwen2.5-1.5B shape: tokens/s, MFU, peak memory"),
    Stage("kernel_env", 540, "kernel environment on CUDA: experts, speedups, decoys, coverage"),
)


@dataclass
class Result:
    name: str
    what: str
    status: str  # ok | failed | timeout | skipped
    reason: str = ""
    seconds: float = 0.0
    returncode: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


def fetch_wheels(dest: Path) -> int:
    """Download wheels of every REQUIRED/OPTIONAL distribution for the GPU image's Python."""
    dest.mkdir(parents=True, exist_ok=True)
    base = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--python-version",
            WHEEL_PYTHON, "--platform", "manylinux2014_x86_64", "--platform",
            "manylinux_2_17_x86_64", "--platform", "manylinux_2_28_x86_64", "-d", str(dest)]
    # with their dependencies (pydantic -> pydantic-core, ...), but not Liger's torch/triton
    rc = subprocess.call(base + sorted(REQUIRED.values()))
    rc |= subprocess.call([*base, "--no-deps", *sorted(OPTIONAL.values())])
    print(f"wheels in {dest}: {len(list(dest.glob('*.whl')))}")
    return rc


def ensure_packages(wheels: Path | None) -> dict[str, str]:
    """Install whichever required/optional packages are missing from ``wheels``; what happened
    to each missing one (installed, or why not)."""
    missing = {mod: dist for mod, dist in (REQUIRED | OPTIONAL).items()
               if importlib.util.find_spec(mod) is None}
    done: dict[str, str] = {}
    for mod, dist in missing.items():
        if wheels is None or not wheels.is_dir():
            done[dist] = "missing (no --wheels folder)"
            continue
        rc = subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", "--no-index",
                              "--find-links", str(wheels), dist])
        importlib.invalidate_caches()
        ok = rc == 0 and importlib.util.find_spec(mod) is not None
        done[dist] = "installed from wheels" if ok else f"install failed (pip exit {rc})"
    return done


def run_stage(stage: Stage, args: argparse.Namespace, left_s: float) -> Result:
    res = Result(stage.name, stage.what, "skipped")
    limit = min(stage.budget_s * args.budget_scale, left_s)
    cmd = stage.command(args, limit)
    if isinstance(cmd, str):
        res.reason = cmd
        return res
    if limit < MIN_STAGE_S:
        res.reason = f"budget: {left_s:.0f} s left of --budget-s, stage needs >= {MIN_STAGE_S:.0f}"
        return res
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p), "PYTHONUNBUFFERED": "1"}
    log_path = args.out / f"{stage.name}.log"
    t0 = time.monotonic()
    with log_path.open("w") as log:
        log.write(f"$ {' '.join(cmd)}\n")
        log.flush()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            res.returncode = proc.wait(timeout=limit)
            res.status = "ok" if res.returncode == 0 else "failed"
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)  # the whole stage, children included
            proc.wait()
            res.status, res.reason = "timeout", f"stopped at its limit of {limit:.0f} s"
    res.seconds = time.monotonic() - t0
    res.data = stage_data(stage.name, args.out)
    if res.status == "failed":
        res.reason = f"exit {res.returncode}; last lines: " + " | ".join(
            log_path.read_text().strip().splitlines()[-3:])
    return res


def stage_data(name: str, out: Path) -> dict[str, Any]:
    if name == "gpu_tests":
        counts = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
        failed: list[str] = []
        xmls = sorted(out.glob("gpu_tests-*.xml"))
        for xml in xmls:
            suite = ET.parse(xml).getroot()
            suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
            if suite is None:
                continue
            for k in counts:
                counts[k] += int(suite.get(k, 0))
            failed += [f"{c.get('classname')}::{c.get('name')}" for c in suite.iter("testcase")
                       if c.find("failure") is not None or c.find("error") is not None]
        if not xmls:
            return {}
        counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - \
            counts["skipped"]
        return counts | {"failed_tests": failed}
    path = out / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# GPU suite report ({'DRY RUN on CPU' if report['dry_run'] else 'GPU'})", "",
             f"- machine: {report['machine']}", f"- budget: {report['budget_s']:.0f} s, used "
             f"{report['seconds']:.0f} s", f"- packages: {report['packages'] or 'all present'}",
             "", "| stage | status | seconds | note |", "|---|---|---|---|"]
    for r in report["stages"]:
        lines.append(f"| {r['name']} | {r['status']} | {r['seconds']:.0f} | {r['reason']} |")
    by = {r["name"]: r["data"] for r in report["stages"]}
    if by.get("gpu_tests"):
        t = by["gpu_tests"]
        lines += ["", f"**gpu tests**: {t['passed']} passed, {t['failures'] + t['errors']} "
                      f"failed, {t['skipped']} skipped", *[f"- FAILED {n}" for n in
                                                          t["failed_tests"]]]
    if by.get("kernels", {}).get("cells"):
        k = by["kernels"]
        lines += ["", f"**kernels** ({k['device']}, self-check {k['self_check']})", "",
                  "| model | N | method | ms | TFLOP/s | of peak | peak GiB |",
                  "|---|---|---|---|---|---|---|"]
        for c in k["cells"]:
            if c["status"] != "ok":
                lines.append(f"| {c['model']} | {c['n']} | {c['method']} | {c['status']} "
                             "| | | |")
                continue
            frac = f"{c['peak_fraction']:.1%}" if c["peak_fraction"] is not None else "n/a"
            gib = f"{c['peak_gib']:.2f}" if c["peak_gib"] is not None else "n/a"
            lines.append(f"| {c['model']} | {c['n']} | {c['method']} | {c['ms']:.2f} | "
                         f"{c['tflops']:.1f} | {frac} | {gib} |")
        lines += ["", *[f"- {r['model']} N={r['n']}: {r['ratio']} = {r['value']:.2f}x"
                        for r in k["ratios"]]]
    if by.get("trainer", {}).get("cells"):
        t = by["trainer"]
        lines += ["", f"**trainer** ({t['device']}, {t['shape']}, {t['rows']} rows x "
                      f"{t['prompt']}+{t['response']} tokens)", "",
                  "| path | act. ckpt | ms/step | tokens/s | MFU | peak GiB |",
                  "|---|---|---|---|---|---|"]
        for c in t["cells"]:
            if c["status"] != "ok":
                lines.append(f"| {c['path']} | {c['checkpointing']} | {c['status']} | | | |")
                continue
            mfu = f"{c['mfu']:.1%}" if c["mfu"] is not None else "n/a"
            gib = f"{c['peak_gib']:.2f}" if c["peak_gib"] is not None else "n/a"
            lines.append(f"| {c['path']} | {c['checkpointing']} | {c['step_s'] * 1e3:.1f} | "
                         f"{c['tokens_per_s']:.0f} | {mfu} | {gib} |")
    if by.get("kernel_env"):
        lines += kernel_env_markdown(by["kernel_env"])
    return "\n".join(lines) + "\n"


def kernel_env_markdown(k: dict[str, Any]) -> list[str]:
    decoy = k.get("profiler_decoy") or {}
    lines = ["", f"**kernel environment** ({k['device']}): {len(k['experts'])} of "
             f"{k.get('problems_total', '?')} experts checked, skipped for budget: "
             f"{len(k.get('skipped_for_budget', []))}; passed: {k.get('passed')}",
             f"profiler decoy: decoy={decoy.get('decoy')} hacks={decoy.get('hacks')}" if decoy
             else "profiler decoy: not run", "",
             "| problem | category | correct | speedup | coverage |", "|---|---|---|---|---|"]
    for e in k["experts"]:
        speed = f"{e['speedup']:.2f}x" if e.get("speedup") else "-"
        cover = f"{e['coverage']:.0%}" if e.get("coverage") is not None else "-"
        lines.append(f"| {e['id']} | {e['category']} | {e['correct']} | {speed} | {cover} |")
    return lines


def machine() -> str:
    try:
        import torch

        if torch.cuda.is_available():
            return f"{torch.cuda.get_device_name()}, torch {torch.__version__}"
        return f"CPU only, torch {torch.__version__}"
    except ImportError:
        return "torch not importable"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("runs/gpu-suite"))
    ap.add_argument("--budget-s", type=float, default=480.0,
                    help="total seconds for all stages; the rest are skipped and reported")
    ap.add_argument("--stages", default=",".join(s.name for s in STAGES),
                    help=f"comma-separated subset of {[s.name for s in STAGES]}")
    ap.add_argument("--dry-run", action="store_true",
                    help="CPU, tiny shapes: the same stages, to prove the script works")
    ap.add_argument("--wheels", type=Path, help="install missing packages from this folder")
    ap.add_argument("--fetch-wheels", type=Path, metavar="DIR",
                    help="download the wheels a GPU image may lack into DIR, then exit")
    ap.add_argument("--gpu-tests-into", type=Path, help=argparse.SUPPRESS)  # the stage's own
    args = ap.parse_args(argv)
    if args.gpu_tests_into:
        return run_gpu_tests(args.gpu_tests_into)
    if args.fetch_wheels:
        return fetch_wheels(args.fetch_wheels)
    names = [s for s in args.stages.split(",") if s]
    unknown = sorted(set(names) - {s.name for s in STAGES})
    if unknown:
        print(f"gpu_suite: unknown stage(s) {unknown}; known: {[s.name for s in STAGES]}",
              file=sys.stderr)
        return 2
    if args.budget_s <= 0:
        print(f"gpu_suite: --budget-s must be > 0, got {args.budget_s}", file=sys.stderr)
        return 2
    # stage budgets are shares of the default total; a larger or smaller total scales them
    args.budget_scale = args.budget_s / 480.0 if args.budget_s > 480.0 else 1.0
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    packages = ensure_packages(args.wheels)
    results = []
    for stage in (s for s in STAGES if s.name in names):
        left = args.budget_s - (time.monotonic() - t0)
        res = run_stage(stage, args, left)
        results.append(res)
        print(f"[gpu_suite] {res.name:10s} {res.status:8s} {res.seconds:6.0f} s  {res.reason}",
              flush=True)
    report = {"dry_run": args.dry_run, "machine": machine(), "budget_s": args.budget_s,
              "seconds": time.monotonic() - t0, "packages": packages,
              "stages": [asdict(r) for r in results]}
    (args.out / "report.json").write_text(json.dumps(report, indent=2))
    (args.out / "report.md").write_text(markdown(report))
    print(f"[gpu_suite] report: {args.out / 'report.md'}")
    return 1 if any(r.status in ("failed", "timeout") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
