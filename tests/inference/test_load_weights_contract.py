"""The one ``load_weights`` contract (issue 11 item 10): synchronous on every backend, takes a
state dict or a lazy ``(name, tensor)`` stream, partial by default, strict on request, unknown
names refused; the trainer's push streams FSDP-gathered tensors through it."""

from __future__ import annotations

import copy
import inspect
from typing import Any

import pytest
import torch

from turnrl.core.policy import TrainablePolicy
from turnrl.inference.hf import HFPolicy
from turnrl.inference.openai import OpenAIPolicy
from turnrl.trainers.fsdp import LogProbModel
from turnrl.trainers.weight_push import iter_full_tensors, push_weights


def _backend_classes() -> list[type]:
    from turnrl.inference import vllm as vllm_backend  # importable without vLLM installed

    return [HFPolicy, OpenAIPolicy, vllm_backend.VLLMPolicy]


@pytest.mark.parametrize("cls", _backend_classes(), ids=lambda c: c.__name__)
def test_every_backend_loads_weights_synchronously(cls: type) -> None:
    method = cls.load_weights
    assert not inspect.iscoroutinefunction(method), f"{cls.__name__}.load_weights is async"
    params = inspect.signature(method).parameters
    assert params["strict"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["strict"].default is False


def test_hf_policy_is_a_trainable_policy(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    assert isinstance(HFPolicy(copy.deepcopy(model), tok), TrainablePolicy)


def test_partial_update_changes_exactly_the_named_tensor(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    policy = HFPolicy(copy.deepcopy(model), tok)
    before = {k: v.clone() for k, v in policy.model.state_dict().items()}
    name = "model.layers.0.mlp.down_proj.weight"
    new = torch.randn_like(before[name])
    policy.load_weights(iter([(name, new)]))  # a one-tensor stream
    after = policy.model.state_dict()
    for key, value in before.items():
        if key == name:
            torch.testing.assert_close(after[key], new, rtol=0, atol=0)
        else:
            torch.testing.assert_close(after[key], value, rtol=0, atol=0)


def test_strict_and_unknown_names_are_refused(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    policy = HFPolicy(copy.deepcopy(model), tok)
    norm = {"model.norm.weight": torch.ones_like(model.state_dict()["model.norm.weight"])}
    with pytest.raises(ValueError, match=r"missing \['model.embed_tokens.weight'"):
        policy.load_weights(norm, strict=True)
    with pytest.raises(ValueError, match=r"unexpected \['model.nosuch.weight'\]"):
        policy.load_weights({"model.nosuch.weight": torch.zeros(2)})


def test_trainer_push_streams_full_tensors_into_the_backend(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    trainer = LogProbModel(copy.deepcopy(model).train())
    with torch.no_grad():
        for p in trainer.parameters():
            p.add_(0.25)
    policy = HFPolicy(copy.deepcopy(model), tok)
    stream = iter_full_tensors(trainer)
    assert inspect.isgenerator(stream)  # lazy: one gathered tensor at a time
    push_weights(trainer, policy)
    expected = trainer.lm.state_dict()
    for key, value in policy.model.state_dict().items():
        torch.testing.assert_close(value, expected[key], rtol=0, atol=0)
