"""The ``hf`` backend's vision-language path: one request through a processor and the model.

Kept apart from ``hf.py`` (imported on first use): only a policy built with a vision-language
processor comes here. The processor renders the chat template (image parts become its image
placeholders), turns the request's base64 PNGs into the model's image inputs, and the first
forward pass takes them all (``pixel_values`` and whatever else the processor makes); later
steps feed one token at a time with the KV cache, sampled exactly like ``HFPolicy._decode``
(same per-request generator, same temperature-scaled log-probs), batch of one.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from turnrl.core.context import message_images
from turnrl.core.policy import Completion, GenerationRequest, Message


def processor_message(message: Message) -> dict[str, Any]:
    """A message in the processor chat template's shape: content as parts, images as
    ``{"type": "image"}`` placeholders (the images themselves go to the processor)."""
    content = message.get("content")
    if isinstance(content, list):
        parts = [{"type": "image"} if p.get("type") == "image" else p for p in content]
    else:
        parts = [{"type": "text", "text": "" if content is None else str(content)}]
    return {"role": message.get("role", "user"), "content": parts}


def decode_with_processor(policy: Any, request: GenerationRequest) -> Completion:
    """Sample one completion for ``request`` on ``policy`` (an ``HFPolicy`` with a processor)."""
    import torch
    from PIL import Image

    from turnrl.inference.hf import _generator, _sample_batch

    device = policy.device
    images = [Image.open(io.BytesIO(base64.b64decode(b))).convert("RGB")
              for m in request.messages for b in message_images(m)]
    text = policy.processor.apply_chat_template(
        [processor_message(m) for m in request.messages], add_generation_prompt=True,
        tokenize=False)
    inputs = policy.processor(text=text, images=images or None, return_tensors="pt").to(device)
    prompt = [int(x) for x in inputs["input_ids"][0].tolist()]
    sp = request.sampling
    gens = [_generator(sp)]
    temps = torch.tensor([[sp.temperature or 1.0]], device=device)
    greedy = torch.tensor([sp.temperature == 0], device=device)
    step_inputs, mask, cache = dict(inputs), inputs["attention_mask"], None
    tokens: list[int] = []
    logps: list[float] = []
    finish = "length"
    for _ in range(sp.max_tokens):
        out = policy.model(**step_inputs, use_cache=True, **{policy.cache_arg: cache})
        cache = out[policy.cache_arg]
        toks, lps = _sample_batch(out.logits[:, -1, :].float(), [request], temps, greedy, gens)
        tokens.append(toks[0])
        logps.append(lps[0])
        if toks[0] in policy.eos_ids or (sp.stop and policy._hit_stop(tokens, sp.stop)):
            finish = "stop"
            break
        mask = torch.cat([mask, torch.ones((1, 1), dtype=mask.dtype, device=device)], dim=1)
        step_inputs = {"input_ids": torch.tensor([[toks[0]]], device=device),
                       "attention_mask": mask}
    return Completion(text=policy._text(tokens, sp.stop), prompt_ids=prompt, token_ids=tokens,
                      logprobs=logps, finish_reason=finish)
