"""The whole recipe under ``torchrun`` with two gloo ranks: SFT, sharded RL iterations with the
KL penalty's sharded reference model, DCP checkpoints, a resumed run, and both ranks exiting 0
(the shipped quickstart, shortened)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "turnrl" / "tasks" / "quickstart.yaml"


def _torchrun(run_dir: Path, iterations: int) -> subprocess.CompletedProcess[str]:
    torchrun = shutil.which("torchrun") or ""
    cmd = ([torchrun] if torchrun else [sys.executable, "-m", "torch.distributed.run"])
    cmd += ["--standalone", "--nproc-per-node", "2", "-m", "turnrl.cli", "train", str(CONFIG),
            "--run-dir", str(run_dir), f"trainer.iterations={iterations}", "trainer.threads=1",
            "eval.seeds=[0]", "checkpoint.every=1", "loss.kl_coef=0.05"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
def test_two_rank_recipe_trains_checkpoints_and_resumes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    first = _torchrun(run, 2)
    assert first.returncode == 0, first.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["world_size"] == 2
    assert summary["iterations"] == 2
    assert summary["success"]["post_sft"]["mean"] > summary["success"]["pre_sft"]["mean"]
    rl = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    rl = [m for m in rl if m.get("phase") != "sft" and "loss" in m]
    assert len(rl) == 2
    assert any(m["loss"] != 0.0 for m in rl)  # the sharded update saw non-zero advantages
    assert all(m["kl"] > 0.0 for m in rl)  # the sharded reference (FSDP refuses deepcopy)
    assert (run / "reference").is_dir()
    assert (run / "checkpoints" / "step_000002").is_dir()

    second = _torchrun(run, 3)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "resumed from" in second.stdout + second.stderr
    assert "(iteration 2)" in second.stdout + second.stderr
    assert json.loads((run / "summary.json").read_text())["iterations"] == 3
    assert (run / "checkpoints" / "step_000003").is_dir()
