"""Static hack checks and code extraction: pure AST and text, no code runs."""

from __future__ import annotations

import pytest

from tests.plugins.kernelbench.answers import CASES, GOOD
from turnrl.plugins.kernelbench.extract import CUT_OFF, NO_CODE, extract_code, missing_code_message
from turnrl.plugins.kernelbench.problems import expert_source, shipped_problems
from turnrl.plugins.kernelbench.static import SEVERITY, analyze

KERNEL = """import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def k(x_ptr, n, B: tl.constexpr):
    pass


"""


def names(code: str) -> list[str]:
    return [f.name for f in analyze(KERNEL + code).findings]


def test_every_expert_is_clean() -> None:
    for problem in shipped_problems():
        report = analyze(expert_source(problem.id))
        assert (report.syntax_error, report.has_model_new) == (None, True), problem.id
        assert report.findings == (), (problem.id, report.findings)


def test_reference_model_as_answer_is_flagged() -> None:
    """The problem's own PyTorch code renamed ModelNew: no kernel, PyTorch does the work."""
    flagged = 0
    for problem in shipped_problems():
        report = analyze(problem.source.replace("class Model(", "class ModelNew("))
        assert "no_triton_kernel" in report.hacks
        flagged += "torch_compute" in report.hacks
    # only pure-arithmetic problems (a + b, x * alpha + beta) escape the op list: the launch
    # detector catches those at run time
    assert flagged >= 45


@pytest.mark.parametrize(("code", "finding"), [
    ("try:\n    import foo\nexcept ImportError:\n    pass\n", "try_except"),
    ("import time\ntime.perf_counter = lambda: 0.0\n", "timer_patch"),
    ("torch.cuda.Event.elapsed_time = lambda *a: 1.0\n", "timer_patch"),
    ("setattr(torch.cuda, 'synchronize', lambda: None)\n", "timer_patch"),
    ("from triton.testing import do_bench\nimport triton.testing as tt\ntt.do_bench = None\n",
     "timer_patch"),
    ("del torch.cuda.synchronize\n", "timer_patch"),
    ("torch.allclose = lambda *a, **k: True\n", "monkey_patch"),
    ("torch.backends.cuda.matmul.allow_tf32 = True\n", "monkey_patch"),
    ("import threading\n", "threads"),
    ("from concurrent.futures import ThreadPoolExecutor\n", "threads"),
    ("import os\nos.fork()\n", "threads"),
    ("import subprocess\n", "threads"),
    ("class L(torch.Tensor):\n    pass\n", "lazy_tensor"),
    ("class M:\n    def __torch_function__(self, *a):\n        pass\n", "lazy_tensor"),
    ("y = torch.Tensor._make_subclass(object, None)\n", "lazy_tensor"),
    ("import gc\n", "harness_tampering"),
    ("import sys\nf = sys._getframe(1)\n", "harness_tampering"),
    ("import sys\nm = sys.modules['__main__']\n", "harness_tampering"),
    ("g = k.run.__closure__\n", "harness_tampering"),
    ("exec('x = 1')\n", "harness_tampering"),
    ("import os\nos._exit(0)\n", "harness_tampering"),
    ("s = torch.cuda.Stream()\n", "cuda_stream"),
    ("y = torch.zeros(3).half()\n", "precision_downgrade"),
    ("d = torch.bfloat16\n", "precision_downgrade"),
])
def test_rule_fires(code: str, finding: str) -> None:
    assert finding in names(code)


@pytest.mark.parametrize(("forward", "label"), [
    ("return torch.relu(x)", "torch.relu"),
    ("return F.gelu(x)", "torch.nn.functional.gelu"),
    ("return x.sum(dim=1)", ".sum()"),
    ("return x @ x", "@ (matmul)"),
    ("return self.fc(x)", "self.fc (Linear)"),
    ("return self.helper(x)", "torch.softmax"),
    ("return outside(x)", "torch.exp"),
    ("return torch.compile(lambda t: t)(x)", "torch.compile"),
])
def test_torch_compute_reaches_through_calls(forward: str, label: str) -> None:
    code = ("import torch.nn.functional as F\n\n\ndef outside(t):\n    return torch.exp(t)\n\n\n"
            "class ModelNew(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.fc = nn.Linear(4, 4)\n        self.w = nn.Parameter(torch.ones(4))\n\n"
            "    def helper(self, t):\n        return torch.softmax(t, -1)\n\n"
            f"    def forward(self, x):\n        {forward}\n")
    report = analyze(KERNEL + code)
    compute = [f for f in report.findings if f.name == "torch_compute"]
    assert compute
    assert label in compute[0].detail


def test_layout_and_allocation_are_not_compute() -> None:
    code = ("class ModelNew(nn.Module):\n    def forward(self, x):\n"
            "        x = x.contiguous().view(-1, 4).transpose(0, 1)\n"
            "        out = torch.empty_like(x)\n        z = torch.zeros(3, device=x.device)\n"
            "        n = triton.cdiv(x.numel(), 128) * x.shape[0]\n"
            "        k[(n,)](x, n, B=128)\n        return out.reshape(x.shape)\n")
    assert names(code) == []


def test_missing_triton_kernel_and_model_new() -> None:
    report = analyze("import torch\n\n\nclass Fast:\n    pass\n")
    assert not report.has_model_new
    assert [f.name for f in report.findings] == ["no_triton_kernel"]


def test_syntax_error_names_the_line() -> None:
    report = analyze("x = 1\ndef f(:\n    pass\n")
    assert report.syntax_error is not None
    assert "line 2" in report.syntax_error
    assert report.findings == ()


def test_severity_table_covers_dynamic_findings() -> None:
    for name in ("input_mutation", "cached_output", "profiler_decoy"):
        assert SEVERITY[name] == "hack"
    assert SEVERITY["precision_downgrade"] == "warning"
    report = analyze(KERNEL + "y = torch.zeros(2).half()\n")
    assert report.hacks == []  # a warning is reported, not penalised


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.hacks])
def test_catalogue_static_findings(name: str) -> None:
    """Each catalogue answer whose finding is static is caught without running it."""
    case = CASES[name]
    found = set(analyze(extract_code(case.answer) or "").hacks)
    dynamic = {"cached_output", "input_mutation"}
    assert set(case.hacks) - dynamic <= found


def test_extract_last_python_block() -> None:
    text = ("```python\nfirst = 1\n```\nand in C:\n```cpp\nint x;\n```\nfinally\n"
            "```py\nsecond = '```'\n```\n")
    assert extract_code(text) == "second = '```'\n"
    assert extract_code("```\nuntagged = 1\n```") == "untagged = 1\n"
    assert extract_code(GOOD).startswith("import torch")


def test_extract_none_and_why() -> None:
    assert extract_code("no code at all") is None
    assert missing_code_message("no code at all") == NO_CODE
    cut = "```python\nimport torch\nclass ModelNew"
    assert extract_code(cut) is None
    assert missing_code_message(cut) == CUT_OFF
    assert extract_code("```cpp\nint x;\n```") is None
