"""``gpu_checks`` on the CPU: the order, the budget and the saved rows the GPU suite relies on
(a lent GPU gives minutes: the stage must check fusion problems first, stop cleanly when its
budget is spent and leave every finished row on disk if it is killed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.plugins.kernelbench.conftest import INTERPRETER_WARNING
from turnrl.plugins.kernelbench.gpu_checks import run_gpu_checks

pytestmark = pytest.mark.filterwarnings(INTERPRETER_WARNING)

IDS = ["l1-relu", "l1-softmax", "l2-linear_relu"]
FUSION_FIRST = ["l2-linear_relu", "l1-relu", "l1-softmax"]


def test_fusion_first_and_every_row_saved(in_process_runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "kernel_env.json"
    report = run_gpu_checks(sandbox=in_process_runner, problems=IDS, device="cpu",
                            out=str(out))
    assert [e["id"] for e in report["experts"]] == FUSION_FIRST
    assert report["complete"]
    assert report["passed"] == {"experts_correct_at_cpu_scale": True}, [
        e["feedback"] for e in report["experts"]]
    assert report["skipped_for_budget"] == []
    assert json.loads(out.read_text())["experts"] == report["experts"]


def test_a_spent_budget_checks_nothing_and_lists_what_it_left(in_process_runner,  # type: ignore[no-untyped-def]
                                                               tmp_path: Path) -> None:
    out = tmp_path / "kernel_env.json"
    report = run_gpu_checks(sandbox=in_process_runner, problems=IDS, device="cpu",
                            budget_s=0, out=str(out))
    assert report["experts"] == []
    assert report["skipped_for_budget"] == FUSION_FIRST
    assert not report["complete"]
    # nothing checked is not a pass
    assert report["passed"] == {"experts_correct_at_cpu_scale": False}
    assert json.loads(out.read_text())["skipped_for_budget"] == FUSION_FIRST
