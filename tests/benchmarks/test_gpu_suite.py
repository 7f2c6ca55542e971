"""benchmarks/gpu_suite.py: the dry run goes through every stage on the CPU, the budget stops it
cleanly, and bad arguments are refused -- so the first minute of a lent GPU is not spent on a
typo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "gpu_suite.py"


def _suite(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout, check=False)


@pytest.mark.slow
def test_dry_run_runs_every_stage_and_writes_the_report(tmp_path: Path) -> None:
    out = _suite("--dry-run", "--out", str(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    stages = {s["name"]: s for s in report["stages"]}
    assert list(stages) == ["gpu_tests", "kernels", "trainer", "kernel_env"]
    assert stages["gpu_tests"]["status"] == "ok"
    # every gpu test is collected and skipped on a CPU, none fails
    tests = stages["gpu_tests"]["data"]
    assert tests["tests"] >= 5
    assert tests["skipped"] == tests["tests"]
    kernels = stages["kernels"]["data"]
    assert stages["kernels"]["status"] == "ok"
    assert kernels["self_check"] is True
    ran = {c["method"] for c in kernels["cells"] if c["status"] == "ok"}
    assert {"naive", "ref", "ours", "bare"} <= ran
    assert {r["ratio"] for r in kernels["ratios"]} == {"ours/bare", "ours/naive"}
    trainer = stages["trainer"]["data"]
    assert stages["trainer"]["status"] == "ok"
    assert {(c["path"], c["checkpointing"]) for c in trainer["cells"]
            if c["status"] == "ok"} == {("fused", False), ("fused", True),
                                        ("full_logits", False), ("full_logits", True)}
    kernel_env = stages["kernel_env"]
    assert kernel_env["status"] == "ok"
    assert kernel_env["data"]["passed"] == {"experts_correct_at_cpu_scale": True}
    assert kernel_env["data"]["complete"]
    assert [e["id"] for e in kernel_env["data"]["experts"]] == ["l2-linear_relu", "l1-relu"]
    # one pytest process per gpu test file (a shared one leaked TRITON_INTERPRET between them)
    files = (tmp_path / "gpu_tests.log").read_text().count("$ pytest -m gpu ")
    assert files >= 3
    assert len(list(tmp_path.glob("gpu_tests-*.xml"))) == files
    md = (tmp_path / "report.md").read_text()
    assert "DRY RUN" in md
    assert "| trainer | ok |" in md


def test_an_exhausted_budget_skips_stages_and_says_so(tmp_path: Path) -> None:
    out = _suite("--dry-run", "--budget-s", "5", "--stages", "kernels,trainer",
                 "--out", str(tmp_path), timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert [s["status"] for s in report["stages"]] == ["skipped", "skipped"]
    assert all(s["reason"].startswith("budget:") for s in report["stages"])
    assert "| kernels | skipped |" in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["--stages", "kernels,nosuch"], "unknown stage(s) ['nosuch']"),
    (["--budget-s", "0"], "--budget-s must be > 0"),
])
def test_bad_arguments_exit_2_with_one_line(tmp_path: Path, args: list[str],
                                            message: str) -> None:
    out = _suite(*args, "--out", str(tmp_path), timeout=60)
    assert out.returncode == 2
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
