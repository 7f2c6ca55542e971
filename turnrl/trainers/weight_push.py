"""How the trainer's weights reach its rollout policy after every update (any backend).

``push_weights`` is the one path: the trainer's tensors stream,
gathered one at a time from the FSDP2 shards (``full_tensor()``, a collective every rank runs in
the same order), into the backend's synchronous ``load_weights`` (``turnrl.core.policy``), which
buckets them as it needs. No backend is handed a module to share or a ``param.data`` to write.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch


def iter_full_tensors(model: torch.nn.Module) -> Iterator[tuple[str, torch.Tensor]]:
    """``(name, full tensor)`` of the language model, gathered one tensor at a time.

    Collective under FSDP2: every rank must consume the whole iterator in order."""
    lm = getattr(model, "lm", model)
    for name, value in lm.state_dict().items():
        tensor = value.full_tensor() if hasattr(value, "full_tensor") else value
        yield name, tensor.detach()


def push_weights(model: torch.nn.Module, policy: Any) -> None:
    """Load the trainer's current weights into the rollout policy (every rank)."""
    policy.load_weights(iter_full_tensors(model), strict=True)


def close_policy(policy: Any) -> None:
    """Shut the backend down (a vLLM engine holds threads and memory until then)."""
    import asyncio

    asyncio.run(policy.close())
