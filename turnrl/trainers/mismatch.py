"""Rollout-vs-trainer log-prob mismatch: measured every iteration, optionally acted on.

The rollout engine samples each response token and reports its log-prob under *its* numerics
(``hf`` in the trainer's dtype, vLLM with its own kernels, a server in bf16 ...); the trainer
computes the same token's log-prob with its own forward. PPO's ratio ``pi / pi_old`` assumes
the two agree. Before each update ``prepare_old_logprobs``:

1. runs one no-grad trainer forward over every micro-batch (this is also PPO's recomputed
   ``pi_old``, so with ``old_logprobs: recompute`` it costs nothing extra);
2. logs ``Δ = logp_trainer - logp_rollout`` over the response tokens of all ranks:
   ``mismatch/mean_abs``, ``mismatch/max_abs``, ``mismatch/frac_over`` (share of tokens with
   ``|Δ| > mismatch.threshold``), ``mismatch/mean`` (signed) and ``mismatch/tokens``;
3. sets each micro-batch's ``old_logp_BL`` when ``pi_old`` is recomputed (``resolve_old_logprobs``
   says when);
4. with ``mismatch.reject``, applies Dr. Kernel's rejection (``drkernel.mismatch_rejection``):
   whole trajectories whose importance weight ``exp(mean Δ)`` leaves ``[low, high]`` and single
   turns with a token below ``token_floor`` are dropped from the loss (their mask is zeroed, so
   the loss denominator shrinks with them); ``mismatch/rejected_turns`` counts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from turnrl.trainers.batch import MicroBatch, TokenRow
from turnrl.trainers.fsdp import DistInfo, all_reduce_sum
from turnrl.trainers.update import logprobs


def resolve_old_logprobs(cfg: Any, info: DistInfo) -> str:
    """``rollout`` or ``recompute`` for ``cfg.loss.old_logprobs`` (``auto``: recompute unless
    the rollout used the trainer's own numerics: the ``hf`` backend, no bf16 mixed precision,
    no truncated importance sampling, no mismatch rejection)."""
    choice = cfg.loss.old_logprobs
    if choice != "auto":
        return str(choice)
    mixed = cfg.trainer.mixed_precision and info.initialised and info.device.type == "cuda"
    own_numerics = cfg.policy.backend == "hf" and not mixed
    if own_numerics and cfg.loss.tis_cap is None and not cfg.mismatch.reject:
        return "rollout"
    return "recompute"


def mismatch_stats(trainer: Sequence[torch.Tensor], mbs: Sequence[MicroBatch],
                   threshold: float, info: DistInfo) -> dict[str, float]:
    """Mean / max ``|Δ|``, share over ``threshold`` and mean ``Δ`` over every response token
    of every rank (``Δ = trainer - rollout``)."""
    dev = info.device
    total = torch.zeros(4, dtype=torch.float64, device=dev)  # sum|Δ|, sumΔ, over, tokens
    peak = torch.zeros((), dtype=torch.float64, device=dev)
    for logp, mb in zip(trainer, mbs, strict=True):
        sel = mb.mask_BL.bool()
        delta = (logp.detach().double() - mb.rollout_logp_BL.double())[sel]
        if delta.numel():
            total += torch.stack([delta.abs().sum(), delta.sum(),
                                  (delta.abs() > threshold).double().sum(),
                                  torch.tensor(float(delta.numel()), dtype=torch.float64,
                                               device=dev)])
            peak = torch.maximum(peak, delta.abs().max())
    sums = all_reduce_sum(total, info).tolist()
    peak_all = _all_reduce_max_float(peak, info)
    n = max(sums[3], 1.0)
    return {"mismatch/mean_abs": sums[0] / n, "mismatch/max_abs": peak_all,
            "mismatch/frac_over": sums[2] / n, "mismatch/mean": sums[1] / n,
            "mismatch/tokens": sums[3]}


def reject_mismatched(trainer: Sequence[torch.Tensor], batches: Sequence[Sequence[MicroBatch]],
                      rows: Sequence[TokenRow], cfg: Any) -> int:
    """Zero the loss mask of the turns Dr. Kernel's rule drops; returns how many were dropped
    on this rank. Trajectories never span ranks (each rank trains its own groups)."""
    from turnrl.trainers.advantages.drkernel import mismatch_rejection

    flat = [mb for mbs in batches for mb in mbs]
    per_row: dict[int, tuple[MicroBatch, int, np.ndarray]] = {}
    for logp, mb in zip(trainer, flat, strict=True):
        diff = (logp.detach().double() - mb.rollout_logp_BL.double()).cpu().numpy()
        mask = mb.mask_BL.bool().cpu().numpy()
        for k, row in enumerate(mb.rows):
            per_row[row] = (mb, k, diff[k][mask[k]])
    if not per_row:
        return 0
    order = sorted(per_row)
    width = max(len(per_row[r][2]) for r in order)
    diff_TK = np.zeros((len(order), max(width, 1)))
    mask_TK = np.zeros_like(diff_TK, dtype=bool)
    for t, r in enumerate(order):
        d = per_row[r][2]
        diff_TK[t, :len(d)], mask_TK[t, :len(d)] = d, True
    m = cfg.mismatch
    result = mismatch_rejection(diff_TK, mask_TK, [rows[r].trajectory for r in order],
                                low=m.low, high=m.high, token_floor=m.token_floor)
    dropped = 0
    for t, r in enumerate(order):
        if not result.keep_turn[t]:
            mb, k, _ = per_row[r]
            mb.mask_BL[k] = 0.0
            mb.adv_BL[k] = 0.0
            dropped += 1
    return dropped


def prepare_old_logprobs(model: torch.nn.Module, batches: Sequence[Sequence[MicroBatch]],
                         rows: Sequence[TokenRow], cfg: Any, info: DistInfo
                         ) -> dict[str, float]:
    """Steps 1-4 of the module docstring; returns the ``mismatch/*`` metrics."""
    flat = [mb for mbs in batches for mb in mbs]
    trainer = logprobs(model, flat)
    metrics = mismatch_stats(trainer, flat, cfg.mismatch.threshold, info)
    if resolve_old_logprobs(cfg, info) == "recompute":
        for mb, old in zip(flat, trainer, strict=True):
            mb.old_logp_BL = old
    if cfg.mismatch.reject:
        dropped = reject_mismatched(trainer, batches, rows, cfg)
        metrics["mismatch/rejected_turns"] = float(all_reduce_sum(
            torch.tensor(float(dropped), device=info.device), info).item())
    return metrics


def _all_reduce_max_float(value: torch.Tensor, info: DistInfo) -> float:
    if not info.initialised:
        return float(value)
    import torch.distributed as dist

    out = value.to(info.device, copy=True)
    dist.all_reduce(out, op=dist.ReduceOp.MAX)
    return float(out)

