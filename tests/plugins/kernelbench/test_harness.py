"""The in-sandbox harness, driven in-process on trusted answers (fast), and its comparisons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.plugins.kernelbench.answers import CASES, GOOD
from tests.plugins.kernelbench.conftest import INTERPRETER_WARNING, run_harness_in_process
from turnrl.plugins.kernelbench import harness
from turnrl.plugins.kernelbench.extract import extract_code
from turnrl.plugins.kernelbench.feedback import trials_text
from turnrl.plugins.kernelbench.problems import expert_source, shipped_problem, shipped_problems

pytestmark = pytest.mark.filterwarnings(INTERPRETER_WARNING)

QUICK = ["l1-relu", "l1-argmax_dim", "l1-frobenius_normalize", "l1-matmul", "l1-cumsum",
         "l2-linear_relu", "l2-attention"]
TOL = {"tolerances": {"default": [1e-4, 1e-4]}}


def _expert_verdict(tmp_path: Path, problem_id: str, trials: int = 3) -> dict:
    problem = shipped_problem(problem_id)
    return run_harness_in_process(tmp_path, problem.source, expert_source(problem_id),
                                  trials=trials)


@pytest.mark.parametrize("problem_id", QUICK)
def test_quick_experts_are_correct_and_launch(tmp_path: Path, problem_id: str) -> None:
    result = _expert_verdict(tmp_path, problem_id)
    assert result["error"] is None, result["error"]
    assert result["compiled"]
    assert result["correct"]
    assert not result["decoy"]
    assert result["findings"] == []
    assert all(t["launches"] >= 1 and t["other_launches"] == 0 for t in result["trials"])


@pytest.mark.slow
def test_every_expert_is_correct_at_cpu_scale(tmp_path: Path) -> None:
    """All shipped experts, 5 trials each; at cpu scale one forward stays well under 2 s."""
    slow = []
    for problem in shipped_problems("cpu"):
        result = _expert_verdict(tmp_path / problem.id, problem.id, trials=5)
        verdict = (result["correct"], result["decoy"], result["findings"])
        assert verdict == (True, False, []), (problem.id, result["error"], result["trials"][-1:])
        per_forward = result["times"]["trials_s"] / 5
        if per_forward > 0.5:
            slow.append((problem.id, per_forward))
    assert not slow, slow


BENIGN_DYNAMIC = ["kernel_never_launched", "cached_output", "input_mutation", "numerics_off",
                  "wrong_shape", "runtime_error", "constructor_error", "tensor_subclass",
                  "uninitialised_output", "pytorch_fallback"]


@pytest.mark.parametrize("name", BENIGN_DYNAMIC)
def test_harness_verdicts_on_bad_answers(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    assert case.benign
    result = run_harness_in_process(tmp_path, shipped_problem("l1-relu").source,
                                    extract_code(case.answer) or "")
    assert result["compiled"] == case.compiled, result["error"]
    assert result["correct"] == case.correct
    assert result["decoy"] == case.decoy
    dynamic = {f["name"] for f in result["findings"]}
    assert {"cached_output", "input_mutation", "lazy_tensor"} & set(case.hacks) <= dynamic


def test_trials_use_fresh_seeded_inputs(tmp_path: Path) -> None:
    """Three trials, three different input sets: a cached answer fails from trial 2 on."""
    result = run_harness_in_process(tmp_path, shipped_problem("l1-relu").source,
                                    extract_code(CASES["cached_output"].answer) or "",
                                    trials=3)
    assert [t["ok"] for t in result["trials"]] == [True, False]
    assert result["findings"][0]["detail"] == "trial 2 returned trial 1's result"


def test_same_seed_builds_same_weights(tmp_path: Path) -> None:
    """nn.Linear inside Model and ModelNew get identical weights from the shared seed."""
    result = _expert_verdict(tmp_path, "l2-linear_relu")
    assert result["correct"]
    assert result["trials"][0]["max_abs"] < 1e-4


def test_reference_failure_is_reported_as_such(tmp_path: Path) -> None:
    broken = shipped_problem("l1-relu").source.replace("torch.relu(x)", "torch.relu(x, 3)")
    with pytest.raises(TypeError):
        run_harness_in_process(tmp_path, broken, extract_code(GOOD) or "")


def _snap(values: list, dtype: str = "float32") -> harness.Snapshot:
    return harness.Snapshot(np.asarray(values, dtype=np.float32 if dtype != "int64"
                                       else np.int64), dtype)


def test_compare_semantics() -> None:
    cfg = {"tolerances": {"default": [1e-4, 1e-4], "float16": [1e-2, 1e-2]}}
    ref = _snap([1.0, -2.0, np.inf])
    near = harness.compare(np, ref, _snap([1.00005, -2.0, np.inf]), cfg)
    assert near["ok"]
    assert near["max_abs"] == pytest.approx(5e-5, rel=0.05)
    off = harness.compare(np, ref, _snap([1.001, -2.0, np.inf]), cfg)
    assert not off["ok"]
    assert off["mismatched"] == 1
    assert off["first_index"] == [0]
    assert not harness.compare(np, ref, _snap([1.0, np.nan, np.inf]), cfg)["ok"]
    assert not harness.compare(np, _snap([np.nan]), _snap([np.nan]), cfg)["ok"]
    assert harness.compare(np, ref, _snap([1.0, -2.0]), cfg)["why"] == "shape"
    assert harness.compare(np, _snap([1.0]), _snap([1.0], "float64"), cfg)["why"] == "dtype"
    # half types use their own (looser) tolerance
    assert harness.compare(np, _snap([1.0], "float16"), _snap([1.005], "float16"), cfg)["ok"]


def test_compare_treats_signalling_nan_as_mismatch_without_a_warning() -> None:
    """torch.empty can hand an answer memory holding a signalling NaN (bit pattern
    0x7f800001); widening it to float64 sets numpy's "invalid" flag. The verdict must be a plain
    mismatch, not a RuntimeWarning (an error under this suite's filterwarnings)."""
    cfg = {"tolerances": {"default": [1e-4, 1e-4]}}
    garbage = np.array([0x7F800001, 0x3F800000], dtype=np.uint32).view(np.float32)
    verdict = harness.compare(np, _snap([1.0, 1.0]), harness.Snapshot(garbage, "float32"), cfg)
    assert not verdict["ok"]
    assert verdict["mismatched"] == 1
    assert verdict["first_index"] == [0]
    assert verdict["got"] == "nan"


def test_complex_outputs_compare_both_parts(tmp_path: Path) -> None:
    """A complex output is compared as complex, as torch.allclose does. Widening it to float64
    kept only the real part, so an FFT answer with a wrong imaginary part was judged correct."""
    problem = shipped_problem("l1-relu").source.replace("torch.relu(x)", "torch.fft.fft(x)")
    answer = (
        "import torch\nimport torch.nn as nn\n\n\nclass ModelNew(nn.Module):\n"
        "    def forward(self, x):\n        return {}\n")
    real_only = run_harness_in_process(
        tmp_path / "real_only", problem, answer.format("torch.fft.fft(x).real.to(torch.complex64)"))
    assert not real_only["correct"]
    assert real_only["trials"][0]["why"] == "values"
    first = real_only["trials"][0]
    assert first["got"][1] == 0.0  # [real, imag] pairs: the answer's imaginary part is gone
    assert first["expected"][1] != 0.0
    text = trials_text(real_only, 3)
    assert "Output mismatch in trial 1 of 3" in text
    assert text.endswith("+0j.")  # the model reads the value it returned as a complex number
    right = run_harness_in_process(tmp_path / "right", problem, answer.format("torch.fft.fft(x)"))
    assert right["correct"], right["trials"]
    near = harness.compare(np, _snap_complex([1 + 1j]), _snap_complex([1 + 1.00005j]),
                           {"tolerances": {"default": [1e-4, 1e-4]}})
    assert near["ok"]


def _snap_complex(values: list) -> harness.Snapshot:
    return harness.Snapshot(np.asarray(values, dtype=np.complex64), "complex64")


def test_snapshot_keeps_bfloat16_name() -> None:
    import torch

    captured = {"detach": torch.Tensor.detach, "to": torch.Tensor.to,
                "numpy": torch.Tensor.numpy, "clone": torch.Tensor.clone,
                "from_numpy": torch.from_numpy}
    snap = harness.snapshot(torch, torch.ones(3, dtype=torch.bfloat16), captured)
    assert snap.dtype == "bfloat16"
    assert snap.array.dtype == np.float32
    back = harness.fresh_tensor(torch, snap, captured)
    assert back.dtype == torch.bfloat16
    assert bool((back == 1).all())


def test_cuda_helpers_without_a_gpu() -> None:
    """Median/stats and coverage matching of ``harness_cuda`` on hand-made numbers."""
    from turnrl.plugins.kernelbench import harness_cuda

    stats = harness_cuda.summarize([3.0, 1.0, 2.0, 10.0])
    assert stats["median"] == 2.5
    assert (stats["min"], stats["max"], stats["n"]) == (1.0, 10.0, 4)
    events = [("relu_kernel", 30.0), ("relu_kernel_0d1d2", 10.0), ("at::native::elementwise", 60.0)]
    cov = harness_cuda.coverage_of(events, {"relu_kernel"})
    assert cov["coverage"] == pytest.approx(0.4)
    assert cov["number_coverage"] == pytest.approx(2 / 3)
    assert cov["custom_kernels"] == 2
    none = harness_cuda.coverage_of([("at::native::add", 5.0)], {"relu_kernel"})
    assert none["coverage"] == 0.0
    assert none["custom_kernels"] == 0
    assert harness_cuda.coverage_of([], set())["coverage"] is None
