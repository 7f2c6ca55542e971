"""Dispatch between the Triton kernel and the PyTorch reference, with a start-up self-check.

Why a self-check: peers have shipped fused kernels that silently returned log-probs > 0 on
some device/dtype/compiler combination. Before the first Triton call on a (device, dtype) we
run both paths on that first call's own problem (its shapes and values: the trained model's
vocabulary and hidden size, the first micro-batch's tokens) *on that device* and compare
forward values and both gradients; on any log-prob > 0, non-finite value, error or relative
error above tolerance we log a warning and use the reference from then on (result cached per
device and dtype).
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, replace
from typing import Any, Literal

import torch

from turnrl.kernels.reference import check_inputs, reference_logprob_entropy, upstream_grads

log = logging.getLogger("turnrl.kernels")

Backend = Literal["auto", "triton", "torch"]
_BACKENDS = ("auto", "triton", "torch")
# Relative tolerance of the self-check, per input dtype (bf16 grads are rounded to bf16).
SELF_CHECK_RTOL = {torch.float32: 1e-4, torch.float16: 1e-2, torch.bfloat16: 3e-2}
_self_check_cache: dict[tuple[str, torch.dtype], bool] = {}


@dataclass(frozen=True)
class KernelConfig:
    """Tile sizes and launch settings. GPU defaults; interpreter tests pass large blocks.

    ``num_splits=0`` picks enough V splits in the forward to give every SM about two programs.
    ``bwd_slab_bytes`` bounds the backward's ``[N, V_slab]`` logit-gradient buffer; 0 means a
    tenth of the fused minimum ``(N*H + V*H) * itemsize`` (at least 32 MiB). Larger slabs mean
    fewer dX accumulations; smaller ones lower peak memory.
    """

    block_n: int = 128
    block_v: int = 128
    block_h: int = 64
    group_n: int = 8
    num_splits: int = 0
    num_warps: int = 8
    num_stages: int = 3
    bwd_slab_bytes: int = 0


def _splits(cfg: KernelConfig, n: int, device: torch.device) -> int:
    if cfg.num_splits > 0:
        return cfg.num_splits
    if device.type != "cuda":
        return 1
    sms = torch.cuda.get_device_properties(device).multi_processor_count
    row_blocks = max(1, -(-n // cfg.block_n))
    return max(1, -(-2 * sms // row_blocks))


def _slab_cols(cfg: KernelConfig, n: int, h: int, v: int, itemsize: int) -> int:
    budget = cfg.bwd_slab_bytes or max(32 << 20, (n * h + v * h) * itemsize // 10)
    cols = budget // max(1, n * itemsize) // cfg.block_v * cfg.block_v
    return min(v, max(cfg.block_v, cols))


# Whether torch.addmm(..., out_dtype=fp32) works, probed once per device type.
_fp32_out_mm: dict[str, bool] = {}


def _accumulate_mm(acc: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> None:
    """``acc += a @ b`` with fp32 ``acc`` and low-precision ``a``/``b``.

    Uses cuBLAS' fp32-output GEMM (``out_dtype``) where this torch build has it, so there is no
    ``[N, H]`` low-precision temporary and no extra pass; otherwise GEMM then an fp32 add.
    """
    if acc.dtype == a.dtype:
        acc.addmm_(a, b)
        return
    kind = acc.device.type
    if _fp32_out_mm.get(kind, True):
        try:
            torch.addmm(acc, a, b, out_dtype=acc.dtype, out=acc)
            _fp32_out_mm[kind] = True
            return
        except (TypeError, RuntimeError, NotImplementedError):
            _fp32_out_mm[kind] = False
    acc.add_(a @ b)


class _TritonFn(torch.autograd.Function):
    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        hidden: torch.Tensor,
        weight: torch.Tensor,
        targets: torch.Tensor,
        inv_t: torch.Tensor,
        cfg: KernelConfig,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        from turnrl.kernels import triton_kernels as tk

        logp, ent, lse = tk.forward_stats(
            hidden, weight, targets, inv_t, block_n=cfg.block_n, block_v=cfg.block_v,
            block_h=cfg.block_h, group_n=cfg.group_n,
            num_splits=_splits(cfg, hidden.shape[0], hidden.device),
            num_warps=cfg.num_warps, num_stages=cfg.num_stages,
        )
        ctx.save_for_backward(hidden, weight, targets, inv_t, lse, ent)
        ctx.cfg = cfg
        return logp, ent

    @staticmethod
    def backward(  # type: ignore[override]
        ctx: Any, g_lp: torch.Tensor | None, g_ent: torch.Tensor | None
    ) -> tuple[Any, ...]:
        from turnrl.kernels import triton_kernels as tk

        hidden, weight, targets, inv_t, lse, ent = ctx.saved_tensors
        cfg: KernelConfig = ctx.cfg
        (n, h), v = hidden.shape, weight.shape[0]
        g_lp, g_ent = upstream_grads(g_lp, g_ent, lse)
        cols = _slab_cols(cfg, n, h, v, hidden.element_size())
        ds_buf = torch.empty((n, cols), device=hidden.device, dtype=hidden.dtype)
        want_dx, want_dw = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        one_slab = cols >= v
        # Several slabs: accumulate dX in fp32 so bf16 rounding does not compound per slab.
        dx = None
        if want_dx and not one_slab:
            dx = torch.zeros(hidden.shape, device=hidden.device, dtype=torch.float32)
        dw = None
        if want_dw:
            dw = torch.empty(weight.shape, device=weight.device, dtype=weight.dtype)
        for v0 in range(0, v, cols):
            v1 = min(v, v0 + cols)
            ds = tk.backward_dlogits(
                hidden, weight[v0:v1], v0, targets, inv_t, lse, ent, g_lp, g_ent,
                ds_buf[:, : v1 - v0], block_n=cfg.block_n, block_v=cfg.block_v,
                block_h=cfg.block_h, group_n=cfg.group_n, num_warps=cfg.num_warps,
                num_stages=cfg.num_stages,
            )
            if dw is not None:
                torch.mm(ds.t(), hidden, out=dw[v0:v1])  # complete: reduction over all N
            if want_dx and one_slab:
                dx = ds @ weight
            elif dx is not None:
                _accumulate_mm(dx, ds, weight[v0:v1])
        if dx is not None:
            dx = dx.to(hidden.dtype)
        return dx, dw, None, None, None


def triton_available() -> bool:
    """True when triton is importable (it is never imported just to answer this)."""
    return importlib.util.find_spec("triton") is not None


def _triton_eligible(hidden: torch.Tensor, weight: torch.Tensor) -> bool:
    return hidden.is_cuda and weight.is_cuda and triton_available()


def reset_self_check() -> None:
    """Forget cached self-check verdicts (tests; or after changing the device's toolchain)."""
    _self_check_cache.clear()


def _rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1.0))


Problem = tuple[torch.Tensor, torch.Tensor, torch.Tensor, "float | torch.Tensor"]


def self_check(device: torch.device, dtype: torch.dtype, cfg: KernelConfig,
               problem: Problem | None = None) -> bool:
    """Compare Triton vs reference on ``device`` (cached per device and dtype).

    ``problem`` is ``(hidden, weight, targets, temperature)`` of the first real call: the check
    then runs on exactly that batch's shapes and values (the vocabulary and hidden size of the
    model being trained, the token count of its first micro-batch), where a tiling or
    precision bug would show; without it, a small random problem (37 x 64 x 300).
    """
    key = (str(device), dtype)
    if key in _self_check_cache:
        return _self_check_cache[key]
    try:
        # The first call may come from a no_grad/inference_mode forward (e.g. old log-probs);
        # the check needs autograd regardless, or it would cache a false "broken" verdict.
        with torch.inference_mode(False), torch.enable_grad():
            err, positive, finite = _compare(device, dtype, cfg, problem)
        ok = finite and not positive and err <= SELF_CHECK_RTOL.get(dtype, 3e-2)
        reason = f"max rel err {err:.2e}, logp>0: {positive}, finite: {finite}"
    except Exception as exc:  # a compile/launch failure must fall back, not kill training
        ok, reason = False, f"{type(exc).__name__}: {exc}"
    if not ok:
        log.warning("Triton log-prob/entropy kernel failed its self-check on %s/%s (%s); "
                    "using the PyTorch reference instead", device, dtype, reason)
    _self_check_cache[key] = ok
    return ok


def _compare(device: torch.device, dtype: torch.dtype, cfg: KernelConfig,
             problem: Problem | None = None) -> tuple[float, bool, bool]:
    """Run both paths forward and backward; (max rel err, any logp > 0, all finite)."""
    gen = torch.Generator().manual_seed(1234)

    def rnd(*shape: int, scale: float = 1.0) -> torch.Tensor:
        return (torch.randn(*shape, generator=gen) * scale).to(device=device, dtype=dtype)

    if problem is not None and problem[0].shape[0] > 0:
        hidden, weight, targets, temperature = problem
        x, w = hidden.detach().to(dtype), weight.detach().to(dtype)
        y, n = targets.detach(), hidden.shape[0]
        if isinstance(temperature, torch.Tensor):
            temperature = temperature.detach()
    else:
        n, h, v = 37, 64, 300  # n and v deliberately not multiples of any tile size
        x, w = rnd(n, h, scale=0.5), rnd(v, h, scale=0.5)
        y = torch.randint(0, v, (n,), generator=gen).to(device)
        temperature = 0.7
    g_lp, g_ent = rnd(n).float(), rnd(n).float()
    # Several slabs so the multi-slab dX accumulation path is checked too (a quarter of the
    # vocabulary each on a real problem, where one-block slabs would take too long).
    slab = 1 if problem is None else max(1, n * w.shape[0] * x.element_size() // 4)
    cfg = replace(cfg, bwd_slab_bytes=slab)
    xt, wt = x.clone().requires_grad_(), w.clone().requires_grad_()
    lp, ent = _TritonFn.apply(xt, wt, y, check_inputs(x, w, y, temperature), cfg)
    torch.autograd.backward((lp, ent), (g_lp, g_ent))
    xr, wr = x.float().requires_grad_(), w.float().requires_grad_()
    lp_r, ent_r = reference_logprob_entropy(xr, wr, y, temperature)
    torch.autograd.backward((lp_r, ent_r), (g_lp, g_ent))
    pairs = tuple((a.detach(), b.detach()) for a, b in (
        (lp, lp_r), (ent, ent_r), (xt.grad, xr.grad), (wt.grad, wr.grad)))
    finite = all(bool(torch.isfinite(a).all()) for a, _ in pairs)
    err = max(_rel_err(a, b) for a, b in pairs) if finite else float("inf")
    return err, bool((pairs[0][0] > 0).any()), finite


def fused_logprob_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    temperature: float | torch.Tensor = 1.0,
    backend: Backend = "auto",
    config: KernelConfig | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token ``(logp [N], entropy [N])`` (fp32) of ``targets`` under ``softmax(X W^T / T)``.

    ``hidden [N, H]``, ``weight [V, H]`` (the LM-head), ``targets [N]`` token ids,
    ``temperature`` a float or per-token ``[N]`` tensor. Differentiable w.r.t. ``hidden`` and
    ``weight``. ``backend="auto"`` uses Triton on CUDA after a passing self-check, else the
    chunked PyTorch reference; ``"triton"`` forces the kernel (no self-check), ``"torch"`` the
    reference.
    """
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
    cfg = config or KernelConfig()
    if backend == "auto":
        use_triton = _triton_eligible(hidden, weight) and self_check(
            hidden.device, hidden.dtype, cfg, problem=(hidden, weight, targets, temperature))
        backend = "triton" if use_triton else "torch"
    if backend == "torch":
        return reference_logprob_entropy(hidden, weight, targets, temperature)
    if not triton_available():
        raise RuntimeError("backend='triton' needs the triton package (pip install triton)")
    if hidden.dtype != weight.dtype:
        raise ValueError(f"hidden ({hidden.dtype}) and weight ({weight.dtype}) dtypes differ")
    inv_t = check_inputs(hidden, weight, targets, temperature)
    if hidden.shape[0] == 0:
        return reference_logprob_entropy(hidden, weight, targets, temperature)
    return _TritonFn.apply(hidden, weight, targets.contiguous(), inv_t, cfg)
