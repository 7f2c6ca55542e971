"""Backend selection and the start-up self-check, including the fall-back on a broken kernel."""

from __future__ import annotations

import logging

import pytest
import torch

from tests.kernels.helpers import INTERPRETER_WARNING, oracle
from turnrl.kernels import KernelConfig, fused, fused_logprob_entropy, reset_self_check

CFG = KernelConfig(block_n=16, block_v=64, block_h=32, num_splits=2)


@pytest.fixture(autouse=True)
def _fresh_self_check():  # type: ignore[no-untyped-def]
    reset_self_check()
    yield
    reset_self_check()


def _problem():  # type: ignore[no-untyped-def]
    g = torch.Generator().manual_seed(3)
    return (torch.randn(4, 32, generator=g) * 0.3, torch.randn(90, 32, generator=g) * 0.3,
            torch.tensor([0, 5, 88, 89]))


def test_auto_on_cpu_uses_reference_without_touching_triton(monkeypatch) -> None:
    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the Triton path must not run for CPU tensors under auto")

    monkeypatch.setattr(fused._TritonFn, "apply", boom)
    x, w, y = _problem()
    logp, ent = fused_logprob_entropy(x, w, y)
    want = oracle(x, w, y, 1.0)
    torch.testing.assert_close(logp.double(), want[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ent.double(), want[1], atol=1e-5, rtol=1e-5)


def test_unknown_backend_is_rejected() -> None:
    x, w, y = _problem()
    with pytest.raises(ValueError, match="backend must be one of"):
        fused_logprob_entropy(x, w, y, backend="cuda")  # type: ignore[arg-type]


@pytest.mark.filterwarnings(INTERPRETER_WARNING)
def test_healthy_kernel_passes_self_check_and_is_used(interpreted_kernels, monkeypatch,
                                                      caplog) -> None:
    monkeypatch.setattr(fused, "_triton_eligible", lambda hidden, weight: True)
    calls = []
    real = interpreted_kernels.forward_stats
    monkeypatch.setattr(interpreted_kernels, "forward_stats",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    x, w, y = _problem()
    with caplog.at_level(logging.WARNING, logger="turnrl.kernels"):
        logp, _ = fused_logprob_entropy(x, w, y, config=CFG)
    assert not caplog.records
    assert len(calls) == 2  # one self-check run, one real run
    torch.testing.assert_close(logp.double(), oracle(x, w, y, 1.0)[0], atol=1e-5, rtol=1e-5)
    fused_logprob_entropy(x, w, y, config=CFG)
    assert len(calls) == 3  # the verdict is cached: no second self-check


@pytest.mark.filterwarnings(INTERPRETER_WARNING)
@pytest.mark.parametrize("breakage", ["positive_logp", "small_error", "nan", "raises"])
def test_broken_kernel_falls_back_loudly(interpreted_kernels, monkeypatch, caplog,
                                         breakage: str) -> None:
    monkeypatch.setattr(fused, "_triton_eligible", lambda hidden, weight: True)
    real = interpreted_kernels.forward_stats

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        logp, ent, lse = real(*args, **kwargs)
        if breakage == "positive_logp":  # the bug peers shipped: lse off by a constant
            return logp + 10.0, ent, lse - 10.0
        if breakage == "small_error":  # plausible-looking values, 1% off
            return logp * 1.01, ent, lse
        if breakage == "nan":
            return logp, ent * float("nan"), lse
        raise RuntimeError("simulated launch failure")

    monkeypatch.setattr(interpreted_kernels, "forward_stats", broken)
    x, w, y = _problem()
    with caplog.at_level(logging.WARNING, logger="turnrl.kernels"):
        logp, ent = fused_logprob_entropy(x, w, y, config=CFG)
    assert any("failed its self-check" in r.getMessage() for r in caplog.records)
    want = oracle(x, w, y, 1.0)  # the reference answered, so the result is still right
    torch.testing.assert_close(logp.double(), want[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ent.double(), want[1], atol=1e-5, rtol=1e-5)
    assert fused._self_check_cache == {("cpu", torch.float32): False}


def test_fp32_accumulation_of_low_precision_gemm() -> None:
    # dX accumulates bf16 slab GEMMs in fp32: 64 slabs of 1 + 2^-7 stay exact in fp32, whereas a
    # bf16 accumulator would round every partial sum back to 8 mantissa bits.
    acc = torch.zeros(2, 3)
    a = torch.ones(2, 1, dtype=torch.bfloat16)
    b = torch.full((1, 3), 1.0 + 2.0**-7, dtype=torch.bfloat16)
    for _ in range(64):
        fused._accumulate_mm(acc, a, b)
    assert acc.dtype == torch.float32
    torch.testing.assert_close(acc, torch.full((2, 3), 64 * (1.0 + 2.0**-7)), rtol=0, atol=0)


@pytest.mark.filterwarnings(INTERPRETER_WARNING)
@pytest.mark.parametrize("mode", ["no_grad", "inference_mode"])
def test_self_check_is_valid_when_first_called_without_autograd(interpreted_kernels, monkeypatch,
                                                                 caplog, mode: str) -> None:
    # Old-policy log-probs are computed without autograd; the self-check must still pass
    # rather than cache a spurious failure.
    monkeypatch.setattr(fused, "_triton_eligible", lambda hidden, weight: True)
    x, w, y = _problem()
    ctx = torch.no_grad() if mode == "no_grad" else torch.inference_mode()
    with ctx, caplog.at_level(logging.WARNING, logger="turnrl.kernels"):
        logp, _ = fused_logprob_entropy(x, w, y, config=CFG)
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    assert fused._self_check_cache == {("cpu", torch.float32): True}
    torch.testing.assert_close(logp.double(), oracle(x, w, y, 1.0)[0], atol=1e-5, rtol=1e-5)


def test_importing_the_package_does_not_import_triton() -> None:
    # Triton is heavy and optional: only the Triton code path may import it.
    import subprocess
    import sys

    code = ("import sys, turnrl.kernels as k; k.fused_logprob_entropy; "
            "assert 'triton' not in sys.modules, 'triton imported eagerly'")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr


@pytest.mark.filterwarnings(INTERPRETER_WARNING)
def test_self_check_runs_on_the_first_real_batch(interpreted_kernels, monkeypatch) -> None:
    # Issue 11 item 12: the start-up check compares the paths on the first call's own shapes
    # (the trained model's V and H, the micro-batch's N), not only on the 37 x 64 x 300 toy.
    monkeypatch.setattr(fused, "_triton_eligible", lambda hidden, weight: True)
    seen: list[tuple[int, ...]] = []
    real = fused._compare

    def spy(device, dtype, cfg, problem=None):  # type: ignore[no-untyped-def]
        x, w = problem[:2] if problem is not None else (None, None)
        seen.append((x.shape[0], x.shape[1], w.shape[0]) if x is not None else ())
        return real(device, dtype, cfg, problem)

    monkeypatch.setattr(fused, "_compare", spy)
    x, w, y = _problem()  # N=4, H=32, V=90
    fused_logprob_entropy(x, w, y, temperature=0.9, config=CFG)
    fused_logprob_entropy(x[:2], w, y[:2], config=CFG)  # cached: no second check
    assert seen == [(4, 32, 90)]
    assert fused._self_check_cache == {("cpu", torch.float32): True}


def test_trainer_goes_through_the_documented_entry_point(monkeypatch) -> None:
    from tests.trainers import helpers as sys_path_helpers
    from turnrl.kernels import integration
    from turnrl.trainers.fsdp import LogProbModel
    calls: list[tuple] = []
    real = integration.logprob_entropy_from_hidden

    def spy(head, hidden, targets, temperature=1.0, backend="auto", config=None):  # type: ignore[no-untyped-def]
        calls.append((head, tuple(hidden.shape), backend))
        return real(head, hidden, targets, temperature, backend=backend, config=config)

    monkeypatch.setattr(integration, "logprob_entropy_from_hidden", spy)
    lm = sys_path_helpers.tiny_lm()
    model = LogProbModel(lm, temperature=0.8, kernel_backend="torch")
    ids = torch.randint(4, 48, (2, 6))
    mask = torch.tensor([[0, 0, 1, 1, 1, 0], [0, 1, 1, 1, 1, 1]])
    logp, _ = model(ids, torch.ones_like(ids), ids, mask)
    assert len(calls) == 1
    head, shape, backend = calls[0]
    assert head is lm  # the LM itself: the entry point finds its head
    assert shape == (8, 32)  # only the masked rows reach the vocabulary projection
    assert backend == "torch"
    assert bool((logp[mask.bool()] < 0).all())
    assert bool((logp[~mask.bool()] == 0).all())
