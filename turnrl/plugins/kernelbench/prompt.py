"""What the model reads, and the conversation template that keeps the problem in view.

The first observation is a KernelBench-style prompt written for turnrl: a one-shot example
(an elementwise product, which is not one of the shipped problems), the problem source, and the
rules (name it ``ModelNew``, same signatures, real ``@triton.jit`` kernels, one ``python``
block). Later observations are the evaluation's feedback plus Dr. Kernel's request for an
improved version.

``TEMPLATE`` renders a real multi-turn chat: the problem prompt always comes first, then the
last ``history_length`` (answer, feedback) pairs, then the newest feedback; the whole reply is
the action (no tags to parse: the evaluation extracts the code block itself).
"""

from __future__ import annotations

from collections.abc import Sequence

from turnrl.core.context import ParsedAction, PromptTemplate, Turn
from turnrl.core.policy import Message
from turnrl.core.types import Observation

EXAMPLE_MODEL = '''import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a, b):
        return a * b


def get_inputs():
    return [torch.randn(1024), torch.randn(1024)]


def get_init_inputs():
    return []
'''

EXAMPLE_MODEL_NEW = '''import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def mul_kernel(a_ptr, b_ptr, out_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    a = tl.load(a_ptr + offsets, mask=mask)
    b = tl.load(b_ptr + offsets, mask=mask)
    tl.store(out_ptr + offsets, a * b, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a, b):
        a = a.contiguous()
        b = b.contiguous()
        out = torch.empty_like(a)
        n = a.numel()
        grid = (triton.cdiv(n, 256),)
        mul_kernel[grid](a, b, out, n, BLOCK_SIZE=256)
        return out
'''

IMPROVE = ("Return an improved Triton implementation named ModelNew as a single ```python "
           "block.")


def problem_prompt(source: str, *, device: str = "cpu") -> str:
    """The first observation of an episode."""
    judged = ("It is run on a GPU and timed against the original: faster is better."
              if device != "cpu" else
              "It is run on CPU through Triton's interpreter: only correctness is judged.")
    return (
        "You write custom Triton kernels that replace the PyTorch operators of a model to make "
        "it faster.\n\n"
        "Example. This architecture:\n```python\n" + EXAMPLE_MODEL + "```\n"
        "becomes, with a Triton kernel doing the work:\n```python\n" + EXAMPLE_MODEL_NEW
        + "```\n\n"
        "Your task. Optimise this architecture:\n```python\n" + source.rstrip("\n")
        + "\n```\n\n"
        "Write the optimised architecture as a class named ModelNew with the same constructor "
        "and forward arguments as Model, whose forward does the computation in your own "
        "@triton.jit kernels (no PyTorch fallbacks, no try/except). " + judged + " Reply with "
        "the complete code (imports, kernels, ModelNew) in one ```python block: real code, no "
        "tests, no get_inputs."
    )


def _render(instruction: str, history: Sequence[Turn], observation: Observation,
            history_length: int) -> list[Message]:
    """Problem first, then the last ``history_length`` (answer, feedback) pairs."""
    t = len(history)
    if t == 0:
        return [{"role": "user", "content": observation.text}]
    first = history[0].observation
    start = max(0, t - history_length)
    if history_length == 0:
        return [{"role": "user", "content": first + "\n\n" + observation.text}]
    messages: list[Message] = [{"role": "user", "content": first}]
    for i in range(start, t):
        after = history[i + 1].observation if i + 1 < t else observation.text
        messages.append({"role": "assistant", "content": history[i].action})
        messages.append({"role": "user", "content": after})
    return messages


def _parse(text: str) -> ParsedAction:
    return ParsedAction(text, True)


TEMPLATE = PromptTemplate(_render, _parse, lambda action: action)
"""The ``kernel`` environment's conversation (``rollout.template: auto`` picks it)."""
