"""From episode groups to padded token tensors, in the order the design fixes.

1. ``StepBatch.from_groups`` -> the estimator gives one scalar per step (``step_advantages``),
   on the batch exactly as played: no padding row or duplicated step can shift a group mean.
2. ``token_rows``: one ``TokenRow`` per trained step (``prompt_ids + response_ids``, the rollout
   log-probs and the step's scalar advantage). Steps with ``loss_mask == 0`` or no response
   tokens are dropped only now, after the estimator has seen them.
3. ``pack`` groups rows into micro-batches whose padded size (rows x longest row) fits a token
   budget; ``collate`` right-pads them into ``[B, L]`` tensors aligned for next-token
   prediction (position ``j`` predicts token ``j + 1``), with the per-token advantage equal to
   the step scalar times the response mask.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from turnrl.core.types import EpisodeGroup


@dataclass(slots=True, frozen=True)
class TokenRow:
    """One trained step: the full sequence and where its response starts."""

    ids: tuple[int, ...]
    n_prompt: int
    rollout_logp: tuple[float, ...]
    advantage: float
    trajectory: str = ""
    """The episode (and seat) the step belongs to: mismatch rejection acts per trajectory."""

    @property
    def n_response(self) -> int:
        return len(self.ids) - self.n_prompt


@dataclass(slots=True)
class MicroBatch:
    """Right-padded tensors for one forward/backward. ``L`` = longest row minus one."""

    input_ids_BL: torch.Tensor
    attention_mask_BL: torch.Tensor
    targets_BL: torch.Tensor
    mask_BL: torch.Tensor
    """1 where the target is a response token (the only tokens trained)."""
    rollout_logp_BL: torch.Tensor
    adv_BL: torch.Tensor
    rows: list[int]
    """Indices into the list of rows this batch was collated from."""
    old_logp_BL: torch.Tensor | None = None
    """PPO's ``pi_old`` when recomputed by the trainer (None: use ``rollout_logp_BL``)."""

    @property
    def n_tokens(self) -> int:
        return int(self.mask_BL.sum().item())

    def to(self, device: torch.device) -> MicroBatch:
        return MicroBatch(*(t.to(device) for t in (
            self.input_ids_BL, self.attention_mask_BL, self.targets_BL, self.mask_BL,
            self.rollout_logp_BL, self.adv_BL)), rows=self.rows,
            old_logp_BL=None if self.old_logp_BL is None else self.old_logp_BL.to(device))


def step_advantages(groups: Sequence[EpisodeGroup], name: str, params: dict[str, Any]
                    ) -> tuple[np.ndarray, Any]:
    """The estimator's scalar per step, rows in ``StepBatch.from_groups`` order.

    The estimator is looked up by name in the plugin host's registry (``compute_advantages``
    validates ``params`` against its params model). Returns ``(advantages, batch)``; the batch
    is returned so callers can audit it.
    """
    from turnrl.trainers.advantages.api import compute_advantages
    from turnrl.trainers.advantages.batch import StepBatch

    batch = StepBatch.from_groups(groups)
    return compute_advantages(name, batch, **params), batch


def token_rows(groups: Iterable[EpisodeGroup], advantages: np.ndarray | None = None,
               keep: Sequence[bool] | np.ndarray | None = None) -> list[TokenRow]:
    """Trained rows, walking steps in the same order as ``StepBatch.from_groups``.

    ``advantages=None`` gives every row advantage 1 (supervised fine-tuning: the loss is then
    plain negative log-likelihood of the response tokens). With advantages (RL) every trained
    step must carry one rollout log-prob per response token: a step without them is refused
    (``ValueError`` naming the episode), never zero-filled (a zero log-prob means probability 1
    and would turn the PPO ratio into the trainer's bare probability). ``keep`` (one bool per
    step) drops steps from the loss *after* the estimator saw them (profiling rejection
    sampling).
    """
    rows: list[TokenRow] = []
    groups = list(groups)
    n_steps = sum(len(ep.steps) for g in groups for ep in g.episodes)
    if keep is not None and len(keep) != n_steps:
        raise ValueError(f"{len(keep)} keep flags for {n_steps} steps")
    i = 0
    for group in groups:
        for ep in group.episodes:
            for step in ep.steps:
                adv = 1.0 if advantages is None else float(advantages[i])
                kept = True if keep is None else bool(keep[i])
                i += 1
                if not kept or step.loss_mask == 0 or not step.response_ids \
                        or not step.prompt_ids:
                    continue
                logp = step.response_logprobs
                if len(logp) != len(step.response_ids):
                    if advantages is not None:
                        raise ValueError(
                            f"episode {ep.id} ({ep.seat}): a step has {len(logp)} rollout "
                            f"log-probs for {len(step.response_ids)} response tokens; RL needs "
                            "the sampler's per-token log-probs (hf and vllm return them; an "
                            "OpenAI-compatible server must answer logprobs)")
                    logp = [0.0] * len(step.response_ids)  # SFT: not read
                rows.append(TokenRow(tuple(step.prompt_ids) + tuple(step.response_ids),
                                     len(step.prompt_ids), tuple(logp), adv,
                                     f"{ep.id}/{ep.seat}"))
    if advantages is not None and i != len(advantages):
        raise ValueError(f"{len(advantages)} advantages for {i} steps")
    return rows


def pack(lengths: Sequence[int], token_budget: int) -> list[list[int]]:
    """Indices per micro-batch, longest rows first, each with ``rows x max_len <= budget``.

    A single row longer than the budget gets a micro-batch of its own.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    width = 0
    for i in order:
        new_width = max(width, lengths[i])
        if current and new_width * (len(current) + 1) > token_budget:
            batches.append(current)
            current, new_width = [], lengths[i]
        current.append(i)
        width = new_width
    if current:
        batches.append(current)
    return batches


def collate(rows: Sequence[TokenRow], indices: Sequence[int], pad_id: int = 0) -> MicroBatch:
    """Right-pad ``rows[indices]`` into next-token-aligned tensors."""
    chosen = [rows[i] for i in indices]
    width = max(len(r.ids) for r in chosen) - 1
    b = len(chosen)
    ids = torch.full((b, width), pad_id, dtype=torch.long)
    attn = torch.zeros((b, width), dtype=torch.long)
    targets = torch.full((b, width), pad_id, dtype=torch.long)
    mask = torch.zeros((b, width), dtype=torch.float32)
    logp = torch.zeros((b, width), dtype=torch.float32)
    adv = torch.zeros((b, width), dtype=torch.float32)
    for k, r in enumerate(chosen):
        n = len(r.ids) - 1
        seq = torch.tensor(r.ids, dtype=torch.long)
        ids[k, :n] = seq[:-1]
        attn[k, :n] = 1
        targets[k, :n] = seq[1:]
        start = r.n_prompt - 1  # position predicting the first response token
        mask[k, start:n] = 1.0
        logp[k, start:n] = torch.tensor(r.rollout_logp, dtype=torch.float32)
        adv[k, start:n] = r.advantage
    return MicroBatch(ids, attn, targets, mask, logp, adv, list(indices))


def empty_micro_batch() -> MicroBatch:
    """A one-row micro-batch that trains nothing: keeps FSDP ranks in lock-step when one rank
    has fewer micro-batches than another (every rank must run the same collectives)."""
    z = torch.zeros((1, 1), dtype=torch.long)
    f = torch.zeros((1, 1), dtype=torch.float32)
    return MicroBatch(z, torch.ones_like(z), z.clone(), f, f.clone(), f.clone(), [])


def rank_rows(rows: Sequence[TokenRow], rank: int, world: int) -> list[int]:
    """This rank's share of the rows: round-robin over rows sorted by length (balanced)."""
    order = sorted(range(len(rows)), key=lambda i: (-len(rows[i].ids), i))
    return order[rank::world]
