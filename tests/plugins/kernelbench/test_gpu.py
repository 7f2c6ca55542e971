"""GPU checks of the kernel environment (``gpu`` tier: run on the lent GPU machine).

They call ``turnrl.plugins.kernelbench.gpu_checks.run_gpu_checks`` (the same function the GPU
suite and ``python -m turnrl.plugins.kernelbench.gpu_checks`` use): experts correct at ``gpu``
scale with real CUDA-event timing, a fusion expert faster than eager PyTorch, a decoy that only
the profiler catches, and coverage numbers for every expert.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gpu
SAMPLE = ["l1-relu", "l1-softmax", "l2-linear_relu", "l2-add_layernorm", "l2-scale_softmax"]


@pytest.fixture(scope="module")
def report() -> dict:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    from turnrl.plugins.kernelbench.gpu_checks import run_gpu_checks

    # a few problems, fusion ones included: the machinery on CUDA. All 50 experts are the GPU
    # suite's own stage (benchmarks/gpu_suite.py "kernel_env"), so this tier stays short.
    return run_gpu_checks(sandbox="local", problems=SAMPLE, reps=10)


def test_experts_correct_at_gpu_scale(report: dict) -> None:
    assert report["complete"]
    assert [e["id"] for e in report["experts"]] == [
        "l2-linear_relu", "l2-add_layernorm", "l2-scale_softmax", "l1-relu", "l1-softmax"]
    bad = [(e["id"], e["feedback"]) for e in report["experts"] if not e["correct"]]
    assert not bad
    assert report["passed"]["experts_correct_at_gpu_scale"]


def test_a_fusion_expert_beats_eager(report: dict) -> None:
    assert report["passed"]["fusion_expert_beats_eager"], [
        (e["id"], e["speedup"]) for e in report["experts"] if e["category"] == "fusion"]


def test_profiler_catches_the_empty_grid_decoy(report: dict) -> None:
    assert report["passed"]["profiler_catches_decoy"], report["profiler_decoy"]


def test_coverage_is_measured(report: dict) -> None:
    assert report["passed"]["coverage_measured"]
    covered = [e["coverage"] for e in report["experts"] if e["correct"]]
    assert min(covered) > 0.5  # experts spend their GPU time in their own kernels
