"""No config field is accepted and then ignored (issue 11 item 7).

Walks every section model reachable from ``TrainConfig`` (every variant of the policy union
included) and records which fields the code reads while it runs for real: two short
``turnrl train`` runs (expert SFT with a KL reference and periodic eval; SFT from a JSONL file),
the ``hf`` model source with ``random_init``, and the ``openai`` and ``vllm`` rollout policy
builders. A field nobody read fails the test, named. (``model_dump`` does not count as a read:
pydantic reads the values without attribute access.)
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import pytest
import torch
from pydantic import BaseModel

import turnrl
from turnrl.cli import main
from turnrl.core.config import Section, load_config
from turnrl.trainers.config import TrainConfig

QUICKSTART = Path(turnrl.__file__).parent / "tasks" / "quickstart.yaml"
SMALL = ["rollout.groups=2", "rollout.group_size=2", "rollout.max_steps=3", "eval.max_tasks=2",
         "eval.seeds=[0]", "sft.episodes=2", "sft.steps=1", "trainer.iterations=1",
         "trainer.threads=1", "trainer.skip_zero_advantage=false", "logging.tensorboard=false"]


def _sections(model: type[BaseModel], seen: set[type[BaseModel]] | None = None
              ) -> set[type[BaseModel]]:
    """``model`` and every section model its fields can hold (union variants included)."""
    seen = set() if seen is None else seen
    if model in seen:
        return seen
    seen.add(model)
    for field in model.model_fields.values():
        stack = [field.annotation]
        while stack:
            ann = stack.pop()
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                _sections(ann, seen)
            stack.extend(typing.get_args(ann))
    return seen


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str]]:
    """(section class name, field) for every field read through attribute access."""
    seen: set[tuple[str, str]] = set()
    original = Section.__getattribute__

    def tracking(self: Any, name: str) -> Any:
        cls = type(self)
        if name in cls.model_fields:
            seen.add((cls.__name__, name))
        return original(self, name)

    monkeypatch.setattr(Section, "__getattribute__", tracking)
    return seen


@pytest.mark.slow
def test_every_config_field_is_read(reads: set[tuple[str, str]], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from turnrl.inference import vllm as vllm_module
    from turnrl.inference.tiny import save_tiny
    from turnrl.trainers.policies import rollout_policy
    from turnrl.trainers.recipe import build_model, rollout_config

    # 1. a full run: expert SFT, KL reference, periodic eval, checkpoints
    assert main(["train", str(QUICKSTART), "--run-dir", str(tmp_path / "a"), *SMALL,
                 "loss.kl_coef=0.01", "trainer.eval_every=1", "checkpoint.every=1",
                 "mismatch.reject=true", "rejection.profiling.enabled=true"]) == 0
    # 2. SFT from a JSONL file (scripted episodes carry no token ids: the run stops there,
    #    with one line, after reading sft.path)
    demos = tmp_path / "demos.jsonl"
    assert main(["rollout", "toy-env", "--policy", "scripted:gold", "--tasks", "2",
                 "--group-size", "1", "--out", str(demos), "--no-progress"]) == 0
    assert main(["train", str(QUICKSTART), "--run-dir", str(tmp_path / "b"), *SMALL,
                 "sft.source=jsonl", f"sft.path={demos}"]) == 1
    # 3. the hf model source, built from a config with random weights
    saved = save_tiny("toy-env", tmp_path / "tiny", hidden_size=32, heads=1, layers=1)
    cfg = load_config(None, ["model.source=hf", "model.random_init=true",
                             f"policy.model={saved}"], model=TrainConfig)
    lm, tok = build_model(cfg, None)
    # 4. the openai and vllm rollout policies (vLLM itself is not installed here)
    got: dict[str, Any] = {}

    class FakeVLLM:
        def __init__(self, model: str, **engine: Any) -> None:
            got.update(model=model, **engine)

    monkeypatch.setattr(vllm_module, "VLLMPolicy", FakeVLLM)
    for backend in (["policy.backend=openai", "policy.model=m", "policy.base_url=http://h:1"],
                    ["policy.backend=vllm", "policy.model=m", "policy.max_model_len=128",
                     "policy.tensor_parallel_size=2", "policy.dtype=float32",
                     "policy.kv_cache_memory_bytes=1024", "policy.enforce_eager=true",
                     "policy.engine_args={swap_space: 1}"]):
        run = load_config(None, backend, model=TrainConfig)
        rollout_policy(run.policy, lm, tok, torch.device("cpu"), tmp_path)
        rollout_config(run, seed=0)  # the sampling section, as the training loop reads it
    # vLLM starts from the trained network, saved in the standard layout
    assert got == {"model": str(tmp_path / "rollout-model" / "rank0"), "dtype": "float32",
                   "kv_cache_memory_bytes": 1024, "max_model_len": 128, "enforce_eager": True,
                   "engine_args": {"tensor_parallel_size": 2, "gpu_memory_utilization": 0.85,
                                   "swap_space": 1}}
    assert (tmp_path / "rollout-model" / "rank0" / "config.json").exists()

    fields = {(m.__name__, f) for m in _sections(TrainConfig) for f in m.model_fields}
    unread = sorted(f"{cls}.{name}" for cls, name in fields - reads)
    assert not unread, f"config fields that nothing reads: {unread}"


def test_the_walk_sees_every_policy_variant() -> None:
    names = {m.__name__ for m in _sections(TrainConfig)}
    assert {"HFPolicyConfig", "OpenAIPolicyConfig", "VLLMPolicyConfig", "SamplingConfig",
            "ModelConfig", "LossConfig"} <= names
