"""Which models the fused log-prob path computes exactly, and the one constant it folds in.

The trainer never builds ``[N, V]`` logits: ``LogProbModel`` feeds the final hidden states and
the ``lm_head`` weight to the fused kernel, which computes ``log_softmax(h W^T / T)``. That is
the model's own distribution only when its logits *are* ``h W^T``. Some families add a step:

* a constant factor: Cohere's ``logit_scale`` (``logits * s``), Granite's ``logits_scaling``
  (``logits / s``), ``output_multiplier``: handled exactly by folding it into the temperature
  (``h W^T * s / T == h W^T / (T / s)``);
* soft-capping (Gemma 2/3's ``final_logit_softcapping``: ``c * tanh(z / c)``) and a bias on the
  head: not expressible that way, so refused with a message naming the model, instead of
  training on log-probs of another distribution than the one the rollout sampled.

``logit_multiplier`` reads the known config fields, then checks the result on a short probe
(full forward vs. ``h W^T * s``) so that an unknown family with some other transform is refused
too rather than trained wrongly.
"""

from __future__ import annotations

from typing import Any

import torch


class UnsupportedLogits(ValueError):
    """The model's logits are not ``lm_head(hidden)`` times a constant."""


_MULTIPLY = ("logit_scale", "output_multiplier")
_DIVIDE = ("logits_scaling",)
_SOFTCAP = ("final_logit_softcapping",)


def _configs(lm: Any) -> list[Any]:
    config = getattr(lm, "config", None)
    if config is None:
        return []
    text = getattr(config, "text_config", None)
    return [config, text] if text is not None and text is not config else [config]


def logit_multiplier(lm: torch.nn.Module, *, probe: bool = True) -> float:
    """``s`` such that ``lm``'s logits equal ``s * (hidden @ W^T)``; raises ``UnsupportedLogits``
    for soft-capping, a head bias, or (``probe``) logits that do not match."""
    name = type(lm).__name__
    scale = 1.0
    for config in _configs(lm):
        for field in _SOFTCAP:
            if getattr(config, field, None) is not None:
                raise UnsupportedLogits(
                    f"{name} soft-caps its logits ({field}={getattr(config, field)}); the fused "
                    "log-prob path computes log_softmax(hidden @ lm_head^T / T) and would train "
                    f"on another distribution than the one sampled. Set {field}: null to train "
                    "without soft-capping, or use a model family without it")
        for field in _MULTIPLY:
            value = getattr(config, field, None)
            if isinstance(value, int | float) and value != 1:
                scale *= float(value)
        for field in _DIVIDE:
            value = getattr(config, field, None)
            if isinstance(value, int | float) and value != 1:
                scale /= float(value)
    head = lm.get_output_embeddings() if hasattr(lm, "get_output_embeddings") else None
    if getattr(head, "bias", None) is not None:
        raise UnsupportedLogits(f"{name}'s lm_head has a bias; the fused log-prob path supports "
                                "bias-free heads only")
    if probe:
        _probe(lm, scale)
    return scale


@torch.no_grad()
def _probe(lm: torch.nn.Module, scale: float) -> None:
    """Compare the full forward with ``scale * hidden @ W^T`` on a few tokens."""
    head = lm.get_output_embeddings() if hasattr(lm, "get_output_embeddings") else None
    weight = getattr(head, "weight", None)
    if weight is None or weight.device.type == "meta" or not hasattr(lm, "get_decoder"):
        return
    vocab = int(weight.shape[0])
    ids = (torch.arange(1, 7, device=weight.device) * 7919 % max(vocab - 1, 1))[None]
    was_training = lm.training
    lm.eval()
    try:
        full = lm(input_ids=ids, use_cache=False).logits.float()
        hidden = lm.get_decoder()(input_ids=ids, use_cache=False).last_hidden_state
        ours = (hidden.to(weight.dtype) @ weight.T).float() * scale
    finally:
        lm.train(was_training)
    err = float((full - ours).abs().max())
    tol = 1e-3 * max(float(full.abs().max()), 1.0)
    if err > tol:
        raise UnsupportedLogits(
            f"{type(lm).__name__}'s logits are not lm_head(hidden) x {scale:g} (max difference "
            f"{err:.3g} on a probe); the fused log-prob path cannot reproduce them")
