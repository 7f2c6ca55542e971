"""FSDP2 plumbing: process group, sharding, the log-prob forward, grad clipping, weight gathering.

Launch with ``torchrun --nproc-per-node N`` (one process per device; gloo on CPU, NCCL on GPU) or
as a plain single process: with no ``WORLD_SIZE`` in the environment nothing is initialised and
the model is trained unsharded, which is what the CPU quickstart does.

Setup order follows torchtitan: build -> activation checkpointing -> ``fully_shard`` on every
decoder layer (the classes the model lists in ``_no_split_modules``) -> ``fully_shard`` on the
root. The root is ``LogProbModel``, a thin wrapper whose forward returns per-token log-probs and
entropy through ``turnrl.kernels.fused_logprob_entropy`` from the final-norm hidden states and the
``lm_head`` weight, so the ``[N, V]`` logits tensor is never materialised in full.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn


@dataclass(slots=True, frozen=True)
class DistInfo:
    """Where this process sits; ``initialised False`` means plain single-process."""

    rank: int
    world: int
    device: torch.device
    initialised: bool
    owns_group: bool = False
    """True when ``init_distributed`` created the process group (so ``distributed`` ends it)."""

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed() -> DistInfo:
    """Join the process group torchrun describes, or run alone when launched without it."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    use_cuda = torch.cuda.is_available()
    if world == 1 and not dist.is_initialized():
        device = torch.device("cuda", 0) if use_cuda else torch.device("cpu")
        return DistInfo(0, 1, device, False)
    owns_group = not dist.is_initialized()
    if owns_group:
        dist.init_process_group("nccl" if use_cuda else "gloo")
    rank = dist.get_rank()
    if use_cuda:
        local = int(os.environ.get("LOCAL_RANK", rank))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    return DistInfo(rank, dist.get_world_size(), device, True, owns_group)


@contextlib.contextmanager
def distributed() -> Iterator[DistInfo]:
    """``init_distributed`` for the length of a block, and a clean exit from the group.

    On success every rank meets at a barrier and the group is destroyed: a process that
    leaves with gloo's or NCCL's threads still running can abort at interpreter exit
    ("terminate called without an active exception") after all its work is done. After an
    error the group is destroyed without the barrier (the other ranks may be gone). A group
    the caller created before is left to the caller.
    """
    info = init_distributed()
    try:
        yield info
    except BaseException:
        if info.owns_group and dist.is_initialized():
            dist.destroy_process_group()
        raise
    if info.owns_group and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def all_reduce_sum(value: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Sum a tensor over ranks (identity single-process); returned on the input's device."""
    if info.initialised:
        summed = value.to(info.device, copy=True)
        dist.all_reduce(summed)
        return summed.to(value.device)
    return value


def all_reduce_max(value: int, info: DistInfo) -> int:
    if not info.initialised:
        return value
    t = torch.tensor([value], dtype=torch.long, device=info.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return int(t.item())


class LogProbModel(nn.Module):
    """Wraps a transformers causal LM so that ``forward`` yields sampled-token log-probs.

    ``forward(input_ids_BL, attention_mask_BL, targets_BL, mask_BL)`` returns ``(logp_BL,
    entropy_BL)`` with zeros where ``mask_BL`` is 0. Only masked positions reach the vocabulary
    projection, so prompt tokens cost a transformer pass but no ``H x V`` matmul. A constant
    logit factor of the model (Cohere, Granite) is folded into the temperature; soft-capped or
    biased heads are refused at construction (``turnrl.trainers.logits``).
    """

    def __init__(self, lm: nn.Module, *, temperature: float = 1.0, kernel_backend: str = "auto"
                 ) -> None:
        from turnrl.trainers.logits import logit_multiplier

        super().__init__()
        self.lm = lm
        self.temperature = temperature
        self.kernel_backend = kernel_backend
        self.logit_multiplier = logit_multiplier(lm)

    def forward(self, input_ids_BL: torch.Tensor, attention_mask_BL: torch.Tensor,
                targets_BL: torch.Tensor, mask_BL: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        from turnrl.kernels import integration

        base = self.lm.get_decoder() if hasattr(self.lm, "get_decoder") else self.lm.model
        hidden_BLH = base(input_ids=input_ids_BL, attention_mask=attention_mask_BL,
                          use_cache=False).last_hidden_state
        sel = mask_BL.bool()
        # the kernel's one documented entry point: it finds the LM head (tied or not), refuses
        # a head it cannot reproduce, and gathers a sharded weight (turnrl.kernels.integration);
        # a constant logit factor of the model is folded into the temperature (trainers.logits)
        logp_N, ent_N = integration.logprob_entropy_from_hidden(
            self.lm, hidden_BLH[sel], targets_BL[sel],
            self.temperature / self.logit_multiplier, backend=self.kernel_backend)
        logp_BL = torch.zeros(mask_BL.shape, dtype=logp_N.dtype, device=logp_N.device)
        ent_BL = torch.zeros(mask_BL.shape, dtype=ent_N.dtype, device=ent_N.device)
        return logp_BL.masked_scatter(sel, logp_N), ent_BL.masked_scatter(sel, ent_N)


def decoder_layers(lm: nn.Module) -> Iterator[nn.Module]:
    """The modules to shard one by one: those the model itself says must not be split."""
    names = set(getattr(lm, "_no_split_modules", None) or ())
    if not names:
        raise ValueError(f"{type(lm).__name__} lists no _no_split_modules; cannot pick the "
                         "decoder layers to shard")
    for module in lm.modules():
        if type(module).__name__ in names:
            yield module


def shard(model: LogProbModel, info: DistInfo, *, mixed_precision: bool = True,
          cpu_offload: bool = False, activation_checkpointing: bool = False) -> LogProbModel:
    """Apply activation checkpointing and FSDP2 in place; a no-op for the sharding when alone.

    Mixed precision (bf16 params, fp32 gradient reduction) is used on GPU only: CPU bf16 matmuls
    are slow and the quickstart wants exact fp32 numerics.
    """
    if activation_checkpointing and hasattr(model.lm, "gradient_checkpointing_enable"):
        model.lm.gradient_checkpointing_enable(
            gradient_checkpointing_kwargs={"use_reentrant": False})
    if not info.initialised:
        return model.to(info.device)
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import CPUOffloadPolicy, MixedPrecisionPolicy, fully_shard

    mesh = init_device_mesh(info.device.type, (info.world,))
    kwargs: dict[str, Any] = {"mesh": mesh}
    if mixed_precision and info.device.type == "cuda":
        kwargs["mp_policy"] = MixedPrecisionPolicy(param_dtype=torch.bfloat16,
                                                   reduce_dtype=torch.float32)
    if cpu_offload:
        kwargs["offload_policy"] = CPUOffloadPolicy(pin_memory=info.device.type == "cuda")
    if not cpu_offload:
        model.to(info.device)
    for layer in list(decoder_layers(model.lm)):
        fully_shard(layer, **kwargs)
    fully_shard(model, **kwargs)
    return model


def clip_grad_norm(model: nn.Module, max_norm: float) -> float:
    """Clip the global gradient norm (works on sharded DTensor grads); returns the pre-clip norm."""
    params = [p for p in model.parameters() if p.grad is not None]
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm if max_norm > 0 else float("inf"))
    if hasattr(norm, "full_tensor"):
        norm = norm.full_tensor()
    return float(norm)


def full_state_dict(model: LogProbModel) -> dict[str, torch.Tensor]:
    """Unsharded CPU copies of the language model's weights (``lm.`` prefix removed).

    Collective under FSDP: every rank must call it, and every rank gets the full tensors (each
    rank feeds its own inference backend), on the training device. Used for the weight push and
    for exporting a Hugging Face checkpoint.
    """
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    sd = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True))
    return {k.removeprefix("lm."): v.detach() for k, v in sd.items()}
