"""The kernel run configs, the code-preserving tiny tokenizer, and the CPU recipe end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from turnrl.core.config import load_config
from turnrl.plugins.kernelbench.env import KernelEnv
from turnrl.plugins.kernelbench.problems import expert_source
from turnrl.plugins.kernelbench.tasks import make_tasks
from turnrl.trainers.config import TrainConfig

ROOT = Path(__file__).resolve().parents[3]
TINY = ROOT / "turnrl" / "tasks" / "kernel_trloo_tiny.yaml"
GPU = ROOT / "turnrl" / "tasks" / "kernel_trloo_qwen1.5b.yaml"


@pytest.mark.parametrize("path", [TINY, GPU], ids=lambda p: p.name)
def test_kernel_configs_build_their_env_and_panels(path: Path) -> None:
    cfg = load_config(path, model=TrainConfig)
    assert cfg.env.name == "kernel"
    assert cfg.advantage.name == "trloo"
    assert cfg.rejection.profiling.enabled
    assert cfg.mismatch.reject
    KernelEnv(**cfg.env.options)  # options validate (one-line error otherwise)
    for split in (cfg.env.train_split, cfg.env.eval_split):
        assert make_tasks(split, **cfg.env.task_options)


def test_gpu_config_times_on_cuda_with_the_speedup_reward() -> None:
    cfg = load_config(GPU, model=TrainConfig)
    assert cfg.env.options["device"] == "cuda"
    assert cfg.env.options["reward"] == "speedup"
    assert cfg.env.task_options["scale"] == "gpu"
    assert cfg.rollout.max_steps == 3


def test_code_tokenizer_round_trips_programs() -> None:
    from turnrl.inference.tiny import build_tokenizer

    answer = f"```python\n{expert_source('l2-attention')}```"
    tok = build_tokenizer([answer, "plain words here"], keep_whitespace=True)
    ids = tok.encode(answer, add_special_tokens=False)
    assert tok.decode(ids) == answer
    assert tok.unk_token_id not in ids
    words = build_tokenizer(["plain words here"])
    assert words.decode(words.encode("plain words", add_special_tokens=False)) == "plain words"


@pytest.mark.slow
def test_tiny_recipe_runs_end_to_end(tmp_path: Path) -> None:
    """rollout -> sandboxed evaluation -> TRLOO -> update, on CPU with the tiny model."""
    pytest.importorskip("transformers")
    from turnrl.sandboxes import SandboxUnavailable, make_sandbox

    try:
        make_sandbox("bwrap")
    except SandboxUnavailable as exc:
        pytest.skip(str(exc))
    run_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "turnrl.cli", "train", str(TINY),
                           "--run-dir", str(run_dir)], capture_output=True, text=True,
                          timeout=3600, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "sft: 4 demo steps" in proc.stdout  # experts judged correct in the sandbox
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    rl = [r for r in rows if r.get("phase") == "rl"]
    assert len(rl) == load_config(TINY, model=TrainConfig).trainer.iterations
    assert all("prs/considered" in r and "mismatch/rejected_turns" in r for r in rl if r["tokens"])
    assert any(r["tokens"] > 0 and r["grad_norm"] > 0 for r in rl), rl  # a real update
    assert (run_dir / "summary.json").exists()
