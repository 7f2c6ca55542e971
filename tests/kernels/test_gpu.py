"""The compiled kernel on a real CUDA device (skipped without one).

Tolerances, bf16 inputs against the fp32 reference run on the *same* bf16-rounded inputs:
- logp, entropy: absolute 2e-3. Both paths form exact bf16 products with fp32 accumulation, so
  only summation order differs (~1e-5); the margin covers logits of magnitude ~30.
- dX, dW: max error / max |reference| <= 2e-2. The kernel rounds the logit gradient to bf16
  before the GEMMs (2^-9 relative) and returns bf16 gradients (another 2^-9), like any bf16
  training step; 2e-2 is ~10x that.
- fp32 inputs: 1e-5 as in the interpreter tests (the kernel forces IEEE fp32 dots, no TF32).
"""

from __future__ import annotations

import logging

import pytest
import torch

from tests.kernels.helpers import fwd_bwd
from turnrl.kernels import fused_logprob_entropy, reference_logprob_entropy, reset_self_check

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def _problem(n: int, h: int, v: int, dtype: torch.dtype, logit_scale: float = 3.0):  # type: ignore[no-untyped-def]
    g = torch.Generator(device="cuda").manual_seed(0)
    x = torch.randn(n, h, device="cuda", generator=g)
    w = torch.randn(v, h, device="cuda", generator=g) * (logit_scale / h)
    y = torch.randint(0, v, (n,), device="cuda", generator=g)
    y[-1] = v - 1
    gl = torch.randn(n, device="cuda", generator=g)
    ge = torch.randn(n, device="cuda", generator=g)
    return x.to(dtype), w.to(dtype), y, gl, ge


def _triton(x, w, y, t):  # type: ignore[no-untyped-def]
    return fused_logprob_entropy(x, w, y, t, backend="triton")


def _norm_err(a: torch.Tensor, b: torch.Tensor) -> float:
    # detached: torch 2.11 warns when a tensor that requires grad becomes a Python float, and
    # the warning is an error here (the H200 run of stop 24 failed on it, values agreeing to 2e-7)
    a, b = a.detach().float(), b.detach().float()
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize(("n", "h", "v"), [(777, 256, 5003), (300, 1536, 151936)])
def test_bf16_matches_fp32_reference(n: int, h: int, v: int) -> None:
    x, w, y, gl, ge = _problem(n, h, v, torch.bfloat16)
    temp = torch.linspace(0.5, 1.5, n, device="cuda")
    got = fwd_bwd(_triton, x, w, y, temp, gl, ge)
    ref = fwd_bwd(reference_logprob_entropy, x.float(), w.float(), y, temp, gl, ge)
    assert bool((got[0] <= 0).all())
    torch.testing.assert_close(got[0], ref[0], atol=2e-3, rtol=0)
    torch.testing.assert_close(got[1], ref[1], atol=2e-3, rtol=0)
    assert _norm_err(got[2], ref[2]) <= 2e-2
    assert _norm_err(got[3], ref[3]) <= 2e-2


def test_bf16_extreme_logits_finite() -> None:
    x, w, y, gl, ge = _problem(64, 256, 5003, torch.bfloat16, logit_scale=1e4)
    got = fwd_bwd(_triton, x, w, y, 1.0, gl, ge)
    assert all(bool(torch.isfinite(t).all()) for t in got)
    ref = fwd_bwd(reference_logprob_entropy, x.float(), w.float(), y, 1.0, gl, ge)
    assert _norm_err(got[0], ref[0]) <= 1e-3


def test_fp32_on_device_matches_reference_tightly() -> None:
    x, w, y, gl, ge = _problem(200, 128, 3001, torch.float32)
    got = fwd_bwd(_triton, x, w, y, 0.7, gl, ge)
    ref = fwd_bwd(reference_logprob_entropy, x, w, y, 0.7, gl, ge)
    for a, b in zip(got, ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_auto_picks_triton_after_a_passing_self_check(caplog) -> None:
    reset_self_check()
    x, w, y, _, _ = _problem(64, 256, 5003, torch.bfloat16)
    with caplog.at_level(logging.WARNING, logger="turnrl.kernels"):
        fused_logprob_entropy(x, w, y)
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    from turnrl.kernels import fused

    assert fused._self_check_cache[(str(x.device), torch.bfloat16)] is True


def test_peak_memory_near_fused_minimum() -> None:
    # Qwen2.5-1.5B head at N=4096: the naive path needs several GiB of logits; ours should need
    # the gradients (= the fused minimum) plus a tenth of it for the slab buffer, plus dX fp32.
    n, h, v = 4096, 1536, 151936
    x, w, y, gl, ge = _problem(n, h, v, torch.bfloat16)
    x.requires_grad_()
    w.requires_grad_()
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    logp, ent = _triton(x, w, y, 1.0)
    torch.autograd.backward((logp, ent), (gl, ge))
    torch.cuda.synchronize()
    extra = torch.cuda.max_memory_allocated() - base
    fused_min = (n * h + v * h) * 2
    assert extra <= 1.3 * fused_min, f"{extra / fused_min:.2f}x the fused minimum"
