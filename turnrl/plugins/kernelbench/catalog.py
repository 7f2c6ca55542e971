"""The shipped problem set: 50 problems written for turnrl in KernelBench's two first levels.

Each problem is a KernelBench-format file (``problems/levelN/<name>.py``: ``Model``,
``get_inputs``, ``get_init_inputs``) whose module-level size constants are the ``gpu`` scale
(KernelBench-like sizes). The ``cpu`` scale rewrites those constants with the values below so
the reference and the expert run under ``TRITON_INTERPRET=1`` in well under two seconds. Every
problem has a reference Triton solution (``experts/levelN/<name>.py``, a ``ModelNew``), correct
at both scales.

Splits are fixed here, one or two problems of most categories held out for ``valid`` and
``test``; everything else is ``train``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CATEGORIES: tuple[str, ...] = ("elementwise", "activation", "reduction", "softmax", "norm",
                               "matmul", "cumulative", "fusion")


@dataclass(frozen=True, slots=True)
class Entry:
    """One shipped problem: where its files are, what it exercises, its CPU sizes."""

    name: str
    level: int
    category: str
    cpu: dict[str, Any] = field(default_factory=dict)
    """Module-level constants replaced for the ``cpu`` scale."""
    split: str = "train"

    @property
    def id(self) -> str:
        return f"l{self.level}-{self.name}"

    @property
    def path(self) -> str:
        """Path of the problem file inside the package (``problems/level1/relu.py``)."""
        return f"problems/level{self.level}/{self.name}.py"

    @property
    def expert_path(self) -> str:
        return f"experts/level{self.level}/{self.name}.py"


_VEC = {"batch_size": 4, "dim": 1024}  # 4096 elements: four 1024-wide programs
_ROWS = {"batch_size": 16, "dim": 256}
_NORM = {"batch_size": 16, "features": 256}
_REDUCE3D = {"batch_size": 4, "dim1": 64, "dim2": 32}
_SCAN = {"batch_size": 8, "length": 512}
_LINEAR = {"batch_size": 32, "in_features": 64, "out_features": 96}

SHIPPED: tuple[Entry, ...] = (
    # level 1: elementwise and activations
    Entry("relu", 1, "activation", _VEC),
    Entry("leaky_relu", 1, "activation", _VEC),
    Entry("sigmoid", 1, "activation", _VEC),
    Entry("tanh", 1, "activation", _VEC, split="valid"),
    Entry("gelu", 1, "activation", _VEC),
    Entry("silu", 1, "activation", _VEC),
    Entry("elu", 1, "activation", _VEC),
    Entry("softplus", 1, "activation", _VEC, split="test"),
    Entry("hardtanh", 1, "activation", _VEC),
    Entry("hardsigmoid", 1, "activation", _VEC),
    Entry("mish", 1, "activation", _VEC),
    Entry("add", 1, "elementwise", _VEC),
    Entry("scale_shift", 1, "elementwise", _VEC),
    Entry("clamp", 1, "elementwise", _VEC, split="valid"),
    Entry("diag_matmul", 1, "elementwise", {"n": 128, "m": 256}, split="test"),
    # level 1: reductions
    Entry("sum_dim", 1, "reduction", _REDUCE3D),
    Entry("min_dim", 1, "reduction", _REDUCE3D, split="valid"),
    Entry("mean_dim", 1, "reduction", _ROWS),
    Entry("max_dim", 1, "reduction", _ROWS),
    Entry("argmax_dim", 1, "reduction", _ROWS, split="test"),
    Entry("l2_normalize", 1, "reduction", _ROWS),
    Entry("frobenius_normalize", 1, "reduction", _ROWS),
    # level 1: softmax family
    Entry("softmax", 1, "softmax", _ROWS),
    Entry("log_softmax", 1, "softmax", _ROWS, split="valid"),
    Entry("logsumexp", 1, "softmax", _ROWS, split="test"),
    # level 1: norms
    Entry("layernorm", 1, "norm", _NORM),
    Entry("rmsnorm", 1, "norm", _NORM),
    # level 1: matmul
    Entry("matmul", 1, "matmul", {"n": 128}),
    Entry("matmul_rect", 1, "matmul", {"m": 64, "k": 128, "n": 96}),
    Entry("bmm", 1, "matmul", {"batch_size": 4, "m": 32, "k": 64, "n": 48}),
    Entry("matvec", 1, "matmul", {"m": 256, "k": 512}),
    Entry("matmul_transposed_b", 1, "matmul", {"m": 64, "k": 128, "n": 96}, split="valid"),
    # level 1: cumulative
    Entry("cumsum", 1, "cumulative", _SCAN),
    Entry("cumprod", 1, "cumulative", _SCAN),
    Entry("reverse_cumsum", 1, "cumulative", _SCAN, split="valid"),
    Entry("exclusive_cumsum", 1, "cumulative", _SCAN, split="test"),
    # level 2: fusion chains
    Entry("linear_relu", 2, "fusion", _LINEAR),
    Entry("linear_gelu", 2, "fusion", _LINEAR, split="valid"),
    Entry("linear_sigmoid_scale", 2, "fusion", _LINEAR),
    Entry("linear_clamp_scale", 2, "fusion", _LINEAR, split="test"),
    Entry("linear_residual", 2, "fusion", {"batch_size": 32, "in_features": 64,
                                           "out_features": 64}),
    Entry("linear_sum", 2, "fusion", _LINEAR),
    Entry("add_layernorm", 2, "fusion", _NORM),
    Entry("add_rmsnorm", 2, "fusion", _NORM, split="valid"),
    Entry("layernorm_relu", 2, "fusion", _NORM),
    Entry("scale_softmax", 2, "fusion", _ROWS),
    Entry("mul_add_tanh", 2, "fusion", _VEC),
    Entry("swish_bias_scale", 2, "fusion", {"batch_size": 4, "features": 1024}),
    Entry("gelu_residual_scale", 2, "fusion", _VEC, split="test"),
    Entry("attention", 2, "fusion", {"batch_size": 2, "seq_len": 64, "head_dim": 32}),
)
"""Every shipped problem, in panel order."""

BY_ID: dict[str, Entry] = {e.id: e for e in SHIPPED}
