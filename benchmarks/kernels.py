"""Fused log-prob + entropy vs the alternatives: time, TFLOP/s and peak memory (needs CUDA).

    python benchmarks/kernels.py                      # the full grid from the spec
    python benchmarks/kernels.py --n 4096 --models 1.5b --methods ours,bare
    python benchmarks/kernels.py --cpu                # no GPU: naive vs reference, fp32
    python benchmarks/kernels.py --dry-run --json OUT # CPU, tiny fp32, Triton interpreter

For each N and (H, V) of Qwen2.5-1.5B / 7B, bf16, forward + backward with random upstream
gradients for both log-prob and entropy, in one process on the same inputs:

  naive  materialised bf16 logits -> fp32 -> log_softmax, gather, entropy (plain autograd)
  ref    the chunked PyTorch reference (turnrl.kernels.reference; fp32 math)
  ours   the Triton kernel (backend="triton")
  bare   the lm_head GEMMs alone: X W^T, dS W, dS^T X (torch.matmul) -- the practical roof
  liger  Liger-Kernel's fused linear cross-entropy (log-prob only), when importable

Time: median of CUDA-event timed runs after warm-up (wall clock in ``--dry-run``). Memory:
peak ``max_memory_allocated`` above what the inputs already hold. TFLOP/s counts 6*N*H*V for
every method, so recomputation shows as lost efficiency; ``fused min`` is (N*H + V*H) * 2 bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PEAK_TFLOPS = 989.0  # dense bf16, H100 SXM / H200
MODELS = {"1.5b": (1536, 151936), "7b": (3584, 152064)}
METHODS = ("naive", "ref", "ours", "bare", "liger")


def _time_ms(fn: Callable[[], object], budget_ms: float, cuda: bool = True) -> float:
    import torch

    fn()  # warm-up (compiles the Triton kernel on first use)
    if not cuda:  # --dry-run: wall clock, a few runs
        times_cpu = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            times_cpu.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(times_cpu)
    torch.cuda.synchronize()
    times: list[float] = []
    while not times or (sum(times) < budget_ms and len(times) < 50):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
        if len(times) >= 3 and sum(times) >= budget_ms:
            break
    return statistics.median(times)


def _runner(method: str, x, w, y, g_lp, g_ent):  # type: ignore[no-untyped-def]
    import torch

    from turnrl.kernels import fused_logprob_entropy, reference_logprob_entropy

    def grads(logp, ent):  # type: ignore[no-untyped-def]
        return torch.autograd.grad((logp, ent), (x, w), (g_lp, g_ent))

    if method == "naive":
        def naive():  # type: ignore[no-untyped-def]
            logp_nv = torch.log_softmax((x @ w.t()).float(), dim=-1)
            logp = logp_nv.gather(1, y[:, None]).squeeze(1)
            return grads(logp, -(logp_nv.exp() * logp_nv).sum(-1))
        return naive
    if method == "ref":
        return lambda: grads(*reference_logprob_entropy(x, w, y))
    if method == "ours":
        return lambda: grads(*fused_logprob_entropy(x, w, y, backend="triton"))
    if method == "bare":
        ds = torch.randn(x.shape[0], w.shape[0], device=x.device, dtype=x.dtype)
        xd, wd = x.detach(), w.detach()
        return lambda: (xd @ wd.t(), ds @ wd, ds.t() @ xd)
    if method == "liger":
        from liger_kernel.transformers.fused_linear_cross_entropy import (
            LigerFusedLinearCrossEntropyLoss,
        )
        loss_fn = LigerFusedLinearCrossEntropyLoss()
        return lambda: torch.autograd.grad(loss_fn(w, x, y), (x, w))
    raise ValueError(method)


def _cell(method: str, n: int, h: int, v: int, budget_ms: float, device: str = "cuda",
          dtype: Any = None) -> dict[str, Any]:
    """Time and peak memory of one method at one shape; a dict for the JSON report."""
    import torch

    dtype = dtype or torch.bfloat16
    cuda = device == "cuda"
    cell: dict[str, Any] = {"method": method, "n": n, "h": h, "v": v, "dtype": str(dtype)}
    gen = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(n, h, device=device, generator=gen, dtype=dtype).requires_grad_()
    w = (torch.randn(v, h, device=device, generator=gen, dtype=dtype) * h**-0.5
         ).requires_grad_()
    y = torch.randint(0, v, (n,), device=device, generator=gen)
    g_lp = torch.randn(n, device=device, generator=gen)
    g_ent = torch.randn(n, device=device, generator=gen)
    try:
        fn = _runner(method, x, w, y, g_lp, g_ent)
    except ImportError as exc:
        return cell | {"status": "skipped", "reason": f"not installed: {exc}"}
    peak = None
    try:
        if cuda:
            torch.cuda.synchronize()
            base = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
        fn()
        if cuda:
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() - base
        ms = _time_ms(fn, budget_ms, cuda)
    except torch.cuda.OutOfMemoryError:
        return cell | {"status": "OOM"}
    finally:
        if cuda:
            torch.cuda.empty_cache()
    tflops = 6 * n * h * v / (ms * 1e-3) / 1e12
    fused_min = (n * h + v * h) * 2
    return cell | {"status": "ok", "ms": ms, "tflops": tflops,
                   "peak_fraction": tflops / PEAK_TFLOPS if cuda else None,
                   "peak_gib": peak / 2**30 if peak is not None else None,
                   "x_fused_min": peak / fused_min if peak is not None else None}


def _describe(cell: dict[str, Any]) -> str:
    if cell["status"] != "ok":
        return cell["status"] + (f" ({cell['reason']})" if cell.get("reason") else "")
    line = f"{cell['ms']:9.2f} ms {cell['tflops']:7.1f} TFLOP/s"
    if cell["peak_fraction"] is not None:
        line += f" ({cell['peak_fraction']:5.1%} of 989)"
    if cell["peak_gib"] is not None:
        line += f" peak {cell['peak_gib']:6.2f} GiB = {cell['x_fused_min']:5.2f}x fused min"
    return line


def cpu_comparison(n: int, h: int, v: int) -> None:
    """The CPU training path (the reference) against naive autograd, fp32, wall-clock."""
    import time

    import torch

    from turnrl.kernels.reference import DEFAULT_CHUNK_TOKENS

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n, h, generator=gen).requires_grad_()
    w = (torch.randn(v, h, generator=gen) * h**-0.5).requires_grad_()
    y = torch.randint(0, v, (n,), generator=gen)
    g_lp, g_ent = torch.randn(n, generator=gen), torch.randn(n, generator=gen)
    print(f"CPU ({torch.get_num_threads()} threads), fp32, N={n} H={h} V={v}, fwd+bwd")
    results = {}
    for method in ("naive", "ref"):
        fn = _runner(method, x, w, y, g_lp, g_ent)
        fn()
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        results[method] = statistics.median(times)
    # Logit-sized temporaries, from the shapes (CPU has no peak-memory counter like CUDA's):
    # naive keeps logits, log-softmax and its exp ([N, V] fp32 each) alive for backward.
    naive_mib = 3 * n * v * 4 / 2**20
    ref_mib = 3 * min(n, DEFAULT_CHUNK_TOKENS) * v * 4 / 2**20
    print(f"  naive {results['naive'] * 1e3:9.1f} ms   logit temporaries ~{naive_mib:8.1f} MiB")
    print(f"  ref   {results['ref'] * 1e3:9.1f} ms   logit temporaries ~{ref_mib:8.1f} MiB")
    print(f"  ref / naive time = {results['ref'] / results['naive']:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", default="4096,8192,16384,32768", help="token counts")
    parser.add_argument("--models", default="1.5b,7b", help=f"of {sorted(MODELS)}")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"of {METHODS}")
    parser.add_argument("--budget-ms", type=float, default=500.0, help="timing per cell")
    parser.add_argument("--cpu", action="store_true",
                        help="no GPU: time the CPU reference against naive autograd instead")
    parser.add_argument("--dry-run", action="store_true",
                        help="CPU, fp32, tiny shapes, Triton interpreter: proves the script and "
                             "its report, measures nothing worth reading")
    parser.add_argument("--json", type=Path, help="write every cell here")
    args = parser.parse_args(argv)

    if args.dry_run:  # must precede the import of the module defining the Triton kernels
        os.environ["TRITON_INTERPRET"] = "1"
    import torch

    if args.cpu:
        cpu_comparison(n=2048, h=256, v=32768)
        return 0
    if args.dry_run:
        device, dtype, shapes = "cpu", torch.float32, {"tiny": (32, 320)}
        ns = [64]
    elif not torch.cuda.is_available():
        print("benchmarks/kernels.py needs a CUDA device (none found); nothing measured. "
              "Use --cpu for the CPU reference-vs-naive comparison.")
        return 0
    else:
        device, dtype = "cuda", torch.bfloat16
        shapes = {m: MODELS[m] for m in args.models.split(",")}
        ns = [int(s) for s in args.n.split(",")]
    from turnrl.kernels import reset_self_check, self_check
    from turnrl.kernels.fused import KernelConfig

    reset_self_check()
    ok = self_check(torch.device(device), dtype, KernelConfig())
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu (dry run)"
    print(f"device: {name}, torch {torch.__version__}, self-check {dtype}: "
          f"{'pass' if ok else 'FAIL'}")
    methods = [m for m in args.methods.split(",") if m]
    report: dict[str, Any] = {"device": name, "torch": torch.__version__, "self_check": ok,
                              "dry_run": args.dry_run, "cells": [], "ratios": []}
    for model, (h, v) in shapes.items():
        for n in ns:
            print(f"\nN={n} H={h} V={v} ({model}) {dtype} fwd+bwd; "
                  f"fused min {(n * h + v * h) * 2 / 2**30:.2f} GiB")
            times: dict[str, float] = {}
            for method in methods:
                cell = _cell(method, n, h, v, args.budget_ms, device, dtype) | {"model": model}
                report["cells"].append(cell)
                print(f"  {method:6s} {_describe(cell)}", flush=True)
                if cell["status"] == "ok":
                    times[method] = cell["ms"]
            for a, b in (("ours", "bare"), ("ours", "naive")):
                if a in times and b in times:
                    ratio = times[a] / times[b]
                    report["ratios"].append({"model": model, "n": n, "ratio": f"{a}/{b}",
                                             "value": ratio})
                    print(f"  {a} / {b} time = {ratio:.2f}x")
            _save(report, args.json)  # after every shape: a run stopped at its limit keeps these
    _save(report, args.json)
    return 0


def _save(report: dict[str, Any], path: Path | None) -> None:
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    sys.exit(main())
