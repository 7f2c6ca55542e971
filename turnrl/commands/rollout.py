"""`turnrl rollout ENV --policy P --out FILE`: play groups of episodes into an episode store.

Plays ``--group-size`` episodes from the identical start of each of the first ``--tasks`` tasks
of ``--split`` and appends every episode to ``FILE`` (JSONL) as it finishes. Rerunning with the
same arguments and ``FILE`` resumes: finished episodes are skipped, failed ones (timeout,
env_error, policy_error) are played again. The settings are recorded beside it
(``FILE.run.json``); appending with other settings (policy, sampling, seed, split, group size,
...) is refused. ``--tasks`` may grow, and limits (concurrency, timeouts) may change. Useful
to collect SFT data from a scripted expert, to inspect a model's behaviour, or to test an
environment under load.

Example:
    turnrl rollout toy-env --policy scripted:random --split train --tasks 16 --group-size 4 \\
        --out runs/toy-random.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from pathlib import Path

from turnrl.commands.evaluate import (
    FAILED,
    _user_error,
    add_policy_arguments,
    all_failed,
    build_policy,
    check_settings,
    run_settings,
)
from turnrl.commands.evaluate import rollout_config as _rollout_config

# Options that may change between runs appending to one file: they do not change what an
# episode is (``--tasks`` extends the run with more tasks of the same split).
NOT_SETTINGS = ("tasks", "concurrency", "env_timeout", "model_timeout")

HELP = "play groups of episodes with a policy and store them (JSONL, resumable)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_policy_arguments(parser)
    parser.add_argument("--out", required=True, help="episode store (JSONL) to append to")
    parser.add_argument("--split", default="train", help="task split (default train)")
    parser.add_argument("--tasks", type=int, default=8, help="first N tasks of the split")
    parser.add_argument("--group-size", type=int, default=4, help="episodes per task")
    parser.add_argument("--seed", type=int, default=0, help="run seed (enters sampling seeds)")


def run(args: argparse.Namespace) -> int:
    from turnrl.core.host import get_host
    from turnrl.core.rollout import run_groups
    from turnrl.core.store import EpisodeStore

    if args.tasks < 1 or args.group_size < 1:
        raise _user_error("--tasks and --group-size must be >= 1")
    host = get_host()
    tasks = host.tasks(args.env, args.split)[: args.tasks]
    out = Path(args.out)
    check_settings(Path(f"{out}.run.json"), out, run_settings(args, ignore=NOT_SETTINGS),
                   flag=f"--out {out}")
    store = EpisodeStore(out)
    already = len(store.ids())
    policy = build_policy(args.policy, args.env, host)

    async def play() -> list:
        try:
            return await run_groups(args.env, tasks, policy, group_size=args.group_size,
                                    host=host, store=store,
                                    config=_rollout_config(args, seed=args.seed))
        finally:
            await policy.close()
            store.close()

    groups = asyncio.run(play())
    episodes = [e for g in groups for e in g.episodes]
    statuses = Counter(e.status for e in episodes)
    won = sum(e.won and e.status not in FAILED for e in episodes)
    steps = sum(len(e.steps) for e in episodes)
    if already:
        print(f"resumed: {already} episodes were already in {args.out}")
    print(f"{len(groups)} groups x {args.group_size}: {len(episodes)} episodes, {steps} steps, "
          f"success {won / len(episodes):.3f}, statuses "
          + ", ".join(f"{k}={v}" for k, v in sorted(statuses.items())))
    print(f"episodes in {args.out}")
    if (line := all_failed(episodes)) is not None:
        print(f"turnrl rollout: {line}", file=sys.stderr)
        return 1
    return 0
