"""The shipped problem set, scales, panels, and the KernelBench checkout loader."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

from turnrl.plugins.kernelbench.catalog import CATEGORIES, SHIPPED
from turnrl.plugins.kernelbench.problems import (
    ProblemError,
    expert_source,
    kernelbench_problems,
    render_scale,
    shipped_problem,
    shipped_problems,
)
from turnrl.plugins.kernelbench.tasks import make_tasks


def constants(source: str) -> dict[str, object]:
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


def test_shipped_set_size_and_coverage() -> None:
    assert len(SHIPPED) >= 40
    levels = Counter(e.level for e in SHIPPED)
    assert levels[1] >= 25
    assert levels[2] >= 10
    assert set(CATEGORIES) == {e.category for e in SHIPPED}
    assert len({e.id for e in SHIPPED}) == len(SHIPPED)


@pytest.mark.parametrize("scale", ["cpu", "gpu"])
def test_every_problem_is_kernelbench_format_at_both_scales(scale: str) -> None:
    for problem in shipped_problems(scale):
        tree = ast.parse(problem.source)
        defined = {n.name for n in tree.body if isinstance(n, ast.ClassDef | ast.FunctionDef)}
        assert {"Model", "get_inputs", "get_init_inputs"} <= defined, problem.id
        assert expert_source(problem.id) is not None


def test_cpu_scale_rewrites_only_the_size_constants() -> None:
    for entry in SHIPPED:
        cpu, gpu = shipped_problem(entry, "cpu"), shipped_problem(entry, "gpu")
        c, g = constants(cpu.source), constants(gpu.source)
        assert set(c) == set(g)
        for name, value in entry.cpu.items():
            assert c[name] == value
            assert g[name] != value
        assert cpu.source.count("\n") == gpu.source.count("\n")


def test_render_scale_errors_name_the_constant() -> None:
    with pytest.raises(ProblemError, match="no module-level constant named dim"):
        render_scale("x = 1\n", {"dim": 2}, where="p.py")
    assert render_scale("a = 1\nb = [\n    2,\n]\nc = 3\n", {"b": 5}) == "a = 1\nb = 5\nc = 3\n"


def test_panels_are_fixed_and_disjoint() -> None:
    panels = {s: make_tasks(s) for s in ("train", "valid", "test")}
    ids = [t.id for tasks in panels.values() for t in tasks]
    assert len(ids) == len(set(ids)) == len(SHIPPED)
    assert [t.to_dict() for t in make_tasks("valid")] == [t.to_dict() for t in panels["valid"]]
    assert all(t.env == "kernel" and t.data["scale"] == "cpu" for t in panels["train"])
    gpu = make_tasks("train", scale="gpu")
    assert [t.id.replace("@gpu", "@cpu") for t in gpu] == [t.id for t in panels["train"]]


def test_panel_filters_and_errors() -> None:
    fusion = make_tasks("train", categories=["fusion"])
    assert fusion
    assert all(t.data["category"] == "fusion" for t in fusion)
    assert [t.id for t in make_tasks("train", problems=["l1-relu", "l1-add"])] == [
        "l1-relu@cpu", "l1-add@cpu"]
    assert make_tasks("train", levels=[2], n=3)[0].data["level"] == 2
    with pytest.raises(ProblemError, match="no split 'dev'"):
        make_tasks("dev")
    with pytest.raises(ProblemError, match="scale must be one of cpu, gpu"):
        make_tasks("train", scale="tpu")
    with pytest.raises(ProblemError, match="unknown problems l9-nope"):
        make_tasks("train", problems=["l9-nope"])
    with pytest.raises(ProblemError, match="needs path"):
        make_tasks("train", source="kernelbench")


PROBLEM = '''import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a, b):
        return torch.matmul(a, b)


N = 64


def get_inputs():
    return [torch.randn(N, N), torch.randn(N, N)]


def get_init_inputs():
    return []
'''


def _checkout(root: Path, nested: bool) -> Path:
    base = root / "KernelBench" if nested else root
    for level, names in ((1, ["1_Square_matrix_multiplication_", "2_Other", "10_Late"]),
                         (2, ["1_Gemm_ReLU"])):
        folder = base / f"level{level}"
        folder.mkdir(parents=True)
        for name in names:
            (folder / f"{name}.py").write_text(PROBLEM)
    (base / "level1" / "__init__.py").write_text("")  # not a problem: skipped
    (base / "level1" / "utils.py").write_text("def helper():\n    pass\n")
    return root


@pytest.mark.parametrize("nested", [False, True])
def test_kernelbench_checkout_loader(tmp_path: Path, nested: bool) -> None:
    root = _checkout(tmp_path, nested)
    problems = kernelbench_problems(root)
    assert [p.id for p in problems] == ["kb-l1-1_Square_matrix_multiplication_", "kb-l1-2_Other",
                                        "kb-l1-10_Late", "kb-l2-1_Gemm_ReLU"]
    assert problems[0].source == PROBLEM
    assert problems[0].scale == "as-is"
    assert [p.id for p in kernelbench_problems(root, levels=[2])] == ["kb-l2-1_Gemm_ReLU"]
    tasks = [t for s in ("train", "valid", "test")
             for t in make_tasks(s, source="kernelbench", path=str(root))]
    assert sorted(t.id for t in tasks) == sorted(f"{p.id}@as-is" for p in problems)


def test_kernelbench_loader_errors(tmp_path: Path) -> None:
    with pytest.raises(ProblemError, match="is not a directory"):
        kernelbench_problems(tmp_path / "missing")
    with pytest.raises(ProblemError, match="no KernelBench problems found"):
        kernelbench_problems(tmp_path)
