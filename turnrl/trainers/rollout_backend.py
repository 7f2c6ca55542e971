"""The trainer's rollout policy: which inference backend samples, and how weights reach it.

``policy.backend`` picks it:

* ``hf``: an ``HFPolicy`` over a private copy of the network (the trainer's copy is sharded);
* ``vllm``: an in-process ``VLLMPolicy``. The network the trainer built (tiny or loaded) is
  saved once to ``RUN_DIR/rollout-model/rank<R>`` in the standard layout and vLLM starts from
  there, so both sides begin from the same weights; ``policy.*`` options configure the engine.

``push_weights`` is the one path for both after every update: the trainer's tensors stream,
gathered one at a time from the FSDP2 shards (``full_tensor()``, a collective every rank runs in
the same order), into the backend's synchronous ``load_weights`` (``turnrl.core.policy``), which
buckets them as it needs. No backend is handed a module to share or a ``param.data`` to write.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from turnrl.trainers.fsdp import DistInfo


def make_rollout_policy(cfg: Any, lm: torch.nn.Module, tokenizer: Any, info: DistInfo,
                        run_dir: Path) -> Any:
    """The policy that plays this rank's episodes, starting from ``lm``'s weights."""
    if cfg.policy.backend == "vllm":
        from turnrl.inference.tiny import save_model_dir
        from turnrl.inference.vllm import VLLMPolicy

        p = cfg.policy
        out = save_model_dir(lm, tokenizer, run_dir / "rollout-model" / f"rank{info.rank}")
        engine_args = {"tensor_parallel_size": p.tensor_parallel_size,
                       "gpu_memory_utilization": p.gpu_memory_utilization, **p.engine_args}
        return VLLMPolicy(str(out), dtype=p.dtype, kv_cache_memory_bytes=p.kv_cache_memory_bytes,
                          max_model_len=p.max_model_len, enforce_eager=p.enforce_eager,
                          seed=cfg.seed, engine_args=engine_args)
    from turnrl.inference.hf import HFPolicy

    return HFPolicy(copy.deepcopy(lm).eval().to(info.device), tokenizer)


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


def export_weights(model: torch.nn.Module, tokenizer: Any, out: Path, info: DistInfo) -> None:
    """The trained network as a Hugging Face directory (collective; the main rank writes)."""
    state = {k: v.cpu() for k, v in iter_full_tensors(model)}
    if info.is_main:
        getattr(model, "lm", model).save_pretrained(out, state_dict=state)
        tokenizer.save_pretrained(out)


def close_policy(policy: Any) -> None:
    """Shut the backend down (a vLLM engine holds threads and memory until then)."""
    import asyncio

    asyncio.run(policy.close())
