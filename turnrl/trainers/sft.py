"""Supervised warm start on expert trajectories, through the same data path as RL.

Demonstrations are *played*, not synthesised: the rollout engine runs the environment with
``DemoPolicy``, which asks the environment's gold policy (``scripted:gold``) for the action and
returns it as token ids of exactly the prompt the model will see at RL time (the same template,
memory window and chat template) plus the action text and EOS. Episodes from a JSONL file
(``Episode.to_dict`` records that carry token ids) go the same way. ``token_rows`` with no
advantages then gives rows whose loss is the NLL of the response (action) tokens only.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from turnrl.core.context import render_chat
from turnrl.core.policy import Completion, GenerationRequest
from turnrl.core.types import Episode, EpisodeGroup
from turnrl.trainers.batch import TokenRow, token_rows
from turnrl.trainers.fsdp import DistInfo
from turnrl.trainers.update import StepStats, micro_batches, nll_token_loss, optimizer_step


class DemoPolicy:
    """Wraps a scripted (expert) policy; tokenises its replies as a model would emit them."""

    wants_prompt = True

    def __init__(self, expert: Any, tokenizer: Any) -> None:
        self.expert = expert
        self.tokenizer = tokenizer

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        replies = await self.expert.generate(requests)
        out = []
        for req, reply in zip(requests, replies, strict=True):
            ids = self.tokenizer.encode(reply.text, add_special_tokens=False)
            ids = [*ids, self.tokenizer.eos_token_id]
            out.append(Completion(text=reply.text, prompt_ids=render_chat(self.tokenizer,
                                                                            req.messages),
                                  token_ids=ids, logprobs=[0.0] * len(ids)))
        return out

    async def close(self) -> None:
        await self.expert.close()


def expert_groups(env: str, tasks: Sequence[Any], tokenizer: Any, rollout_cfg: Any,
                  host: Any, executor: Any = None) -> list[EpisodeGroup]:
    """Play the gold policy on ``tasks`` (one episode each) with token ids recorded;
    ``executor``: where the environments run (None: this process)."""
    from turnrl.core.rollout import run_groups_sync
    from turnrl.inference.scripted import make_scripted_policy

    expert = make_scripted_policy("gold", host=host, template=rollout_cfg.template)
    return run_groups_sync(env, tasks, DemoPolicy(expert, tokenizer), group_size=1,
                           config=rollout_cfg, host=host, executor=executor)


def jsonl_groups(path: str | Path) -> list[EpisodeGroup]:
    """Episodes from a JSONL file; each must carry prompt and response token ids."""
    import json

    episodes = []
    with Path(path).open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    episodes.append(Episode.from_dict(json.loads(line)))
                except (ValueError, KeyError) as exc:
                    raise ValueError(f"{path}:{n}: not an episode record: {exc}") from None
    if not any(s.response_ids for e in episodes for s in e.steps):
        raise ValueError(f"{path}: no step carries response_ids; SFT needs token ids")
    return EpisodeGroup.from_episodes(episodes)


def successful_rows(groups: Sequence[EpisodeGroup]) -> list[TokenRow]:
    """Rows of the won episodes (a gold policy that failed is not a demonstration)."""
    won = [EpisodeGroup(g.group_id, g.task, [e for e in g.episodes if e.won]) for g in groups]
    return token_rows(won)


def run_sft(model: torch.nn.Module, rows: Sequence[TokenRow], *, steps: int, batch_steps: int,
            lr: float, micro_batch_tokens: int, max_grad_norm: float, info: DistInfo,
            seed: int, pad_id: int = 0) -> list[StepStats]:
    """``steps`` AdamW steps on random mini-batches of ``batch_steps`` rows."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    rng = random.Random(f"sft/{seed}")
    history = []
    model.train()
    for _ in range(steps):
        chosen = rng.sample(range(len(rows)), min(batch_steps, len(rows)))
        mine = chosen[info.rank::info.world]
        mbs = micro_batches(rows, mine, micro_batch_tokens, info, pad_id)
        history.append(optimizer_step(model, optimizer, scheduler, mbs, nll_token_loss,
                                      agg="token-mean", max_grad_norm=max_grad_norm,
                                      info=info))
    return history
