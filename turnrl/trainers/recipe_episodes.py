"""How the RL recipe plays episodes: the engine's configuration from the run config, the
seat assignment, training rollouts, the debugging store (``rollout.store_every``) and the
held-out evaluation that every reported success number comes from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from turnrl.core.seating import game_tally
from turnrl.trainers.config import TrainConfig
from turnrl.trainers.fsdp import DistInfo, all_reduce_sum


def say(info: DistInfo, text: str) -> None:
    if info.is_main:
        print(text, flush=True)


def rollout_config(cfg: TrainConfig, seed: int) -> Any:
    from turnrl.core.context import DEFAULT_TEMPLATE
    from turnrl.core.policy import SamplingParams
    from turnrl.core.rollout import RolloutConfig

    r, s = cfg.rollout, cfg.policy.sampling
    return RolloutConfig(
        max_concurrent_episodes=r.max_concurrent_episodes,
        max_concurrent_requests=r.max_concurrent_requests, env_timeout_s=r.env_timeout_s,
        model_timeout_s=r.policy_timeout_s, max_steps=r.max_steps,
        history_length=r.history_length,
        template=DEFAULT_TEMPLATE if r.template == "default" else r.template,
        sampling=SamplingParams(max_tokens=s.max_tokens, temperature=s.temperature,
                                top_p=s.top_p, top_k=s.top_k, stop=tuple(s.stop)),
        seed=seed, env_options=dict(cfg.env.options), seats=seating(cfg))


_SEATINGS: dict[str, Any] = {}


def seating(cfg: TrainConfig) -> Any:
    """The run's ``Seating`` (``rollout.seats``), built once per run: its opponent policies
    are reused by every rollout, the warm start and the evaluations."""
    seats = cfg.rollout.seats
    if seats is None:
        return None
    template = cfg.rollout.template
    key = json.dumps([seats.model_dump(mode="json"), cfg.env.name, template], sort_keys=True)
    if key not in _SEATINGS:
        from turnrl.core.context import DEFAULT_TEMPLATE
        from turnrl.core.host import get_host
        from turnrl.core.seating import build_seating

        _SEATINGS[key] = build_seating(
            seats.learner, seats.opponents, seats.group_by, env=cfg.env.name, host=get_host(),
            template=DEFAULT_TEMPLATE if template == "default" else template)
    return _SEATINGS[key]


def rollout(policy: Any, tasks: list[Any], cfg: TrainConfig, host: Any, *, seed: int,
            group_size: int, id_prefix: str = "", executor: Any = None) -> list[Any]:
    """Play ``group_size`` episodes per task: every group, failed episodes included (the
    caller decides: training drops a group with a failure, evaluation counts it as lost).
    ``executor``: where the environments run (``rollout.executor``; None: this process)."""
    from turnrl.core.rollout import run_groups_sync

    return run_groups_sync(cfg.env.name, tasks, policy, group_size=group_size,
                           config=rollout_config(cfg, seed), host=host, id_prefix=id_prefix,
                           executor=executor)


def keep_episodes(groups: list[Any], run_dir: Path, info: DistInfo) -> None:
    """Append an iteration's episodes to the run's debugging store (``rollout.store_every``):
    written after the rollout, so a stored episode is never mistaken for one to skip."""
    from turnrl.core.store import EpisodeStore

    name = "episodes.jsonl" if info.world == 1 else f"episodes.rank{info.rank}.jsonl"
    with EpisodeStore(run_dir / name) as store:
        store.append_many([ep for group in groups for ep in group.episodes])


def eval_panel(cfg: TrainConfig, host: Any) -> list[Any]:
    tasks = host.tasks(cfg.env.name, cfg.eval.panel or cfg.env.eval_split,
                       **cfg.env.task_options)
    return tasks[:cfg.eval.max_tasks] if cfg.eval.max_tasks else tasks


def evaluate(policy: Any, cfg: TrainConfig, host: Any, info: DistInfo, name: str,
             executor: Any = None) -> dict[str, Any]:
    """Success rate on the fixed panel, once per eval seed: mean, std over seeds, per seed;
    plus the mean episode return the same way (``score_*``: WebShop's task score, where
    success, a perfect score, is rare for small models).

    Wins over *every* episode of the panel: a failed episode (timeout, env or policy error)
    counts as a failure, exactly as ``turnrl eval`` counts it, so an outage cannot raise the
    number. ``failed`` says how many games (over all seeds) failed that way. A multi-agent game
    counts once (its recorded seats share ``metrics["base_id"]``, see ``game_tally``); a
    single-agent episode is one game.
    """
    panel = eval_panel(cfg, host)
    per_seed, scores, failed = [], [], 0.0
    for seed in cfg.eval.seeds:
        groups = rollout(policy, panel[info.rank::info.world], cfg, host,
                         seed=10_000_019 + seed, group_size=1, executor=executor)
        tally = game_tally(groups)  # a multi-agent game counts once, not once per seat
        counts = all_reduce_sum(torch.tensor([float(tally.won), float(tally.games),
                                              float(tally.failed), tally.total_return],
                                             dtype=torch.float64), info)
        per_seed.append(float(counts[0] / max(counts[1].item(), 1.0)))
        scores.append(float(counts[3] / max(counts[1].item(), 1.0)))
        failed += float(counts[2])
    result = {"mean": float(np.mean(per_seed)), "std": float(np.std(per_seed)),
              "per_seed": per_seed, "failed": int(failed),
              "score_mean": float(np.mean(scores)), "score_std": float(np.std(scores)),
              "score_per_seed": scores}
    note = f", {int(failed)} games failed with an error (counted as lost)" if failed else ""
    say(info, f"eval {name}: success {result['mean']:.3f} ± {result['std']:.3f}, "
              f"return {result['score_mean']:.3f} ± {result['score_std']:.3f} "
              f"({len(panel)} tasks x {len(per_seed)} seeds{note})")
    return result
