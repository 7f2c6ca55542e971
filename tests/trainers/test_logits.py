"""Models whose logits are more than ``lm_head(hidden)``: a constant factor is folded into the
fused path exactly (checked against the model's own full forward), soft-capping and head biases
are refused with a message, and an unknown transform is caught by the probe."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from turnrl.trainers.fsdp import LogProbModel
from turnrl.trainers.logits import UnsupportedLogits, logit_multiplier

SMALL = {"vocab_size": 61, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
         "num_attention_heads": 1, "num_key_value_heads": 1}


def _model(family: str, **extra: Any) -> torch.nn.Module:
    import transformers

    config = getattr(transformers, f"{family}Config")(**SMALL, **extra)
    torch.manual_seed(0)
    return getattr(transformers, f"{family}ForCausalLM")(config).eval()


def _reference_logp(lm: torch.nn.Module, ids: torch.Tensor, temperature: float) -> torch.Tensor:
    with torch.no_grad():
        logits = lm(input_ids=ids, use_cache=False).logits.float()
    logp = torch.log_softmax(logits[:, :-1] / temperature, -1)
    return logp.gather(-1, ids[:, 1:, None])[..., 0]


@pytest.mark.parametrize(("family", "extra", "expected"), [
    ("Llama", {}, 1.0),
    ("Cohere", {"logit_scale": 0.25}, 0.25),
    ("Granite", {"logits_scaling": 4.0}, 0.25),
])
def test_constant_logit_factors_are_folded_exactly(family: str, extra: dict[str, Any],
                                                   expected: float) -> None:
    lm = _model(family, **extra)
    assert logit_multiplier(lm) == pytest.approx(expected)
    ids = torch.tensor([[3, 17, 5, 42, 8, 9]])
    mask = torch.ones_like(ids[:, :-1], dtype=torch.float32)
    wrapped = LogProbModel(lm, temperature=0.7, kernel_backend="torch")
    with torch.no_grad():
        logp, _ = wrapped(ids[:, :-1], torch.ones_like(ids[:, :-1]), ids[:, 1:], mask)
    torch.testing.assert_close(logp, _reference_logp(lm, ids, 0.7), rtol=1e-5, atol=1e-5)


def test_soft_capping_is_refused_with_a_message() -> None:
    lm = _model("Gemma2", head_dim=32, final_logit_softcapping=30.0)
    with pytest.raises(UnsupportedLogits, match="soft-caps its logits"):
        LogProbModel(lm)


def test_a_head_bias_is_refused() -> None:
    lm = _model("Llama")
    head = lm.get_output_embeddings()
    lm.set_output_embeddings(torch.nn.Linear(head.in_features, head.out_features, bias=True))
    with pytest.raises(UnsupportedLogits, match="has a bias"):
        logit_multiplier(lm)


def test_the_probe_catches_an_unknown_transform() -> None:
    lm = _model("Llama")
    forward = lm.forward

    def shifted(*args: Any, **kwargs: Any) -> Any:  # some family's undeclared extra step
        out = forward(*args, **kwargs)
        out.logits = torch.tanh(out.logits) * 3.0
        return out

    lm.forward = shifted  # type: ignore[method-assign]
    with pytest.raises(UnsupportedLogits, match="not lm_head"):
        logit_multiplier(lm)
