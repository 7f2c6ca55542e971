"""`turnrl eval ENV --policy P`: play a fixed task panel and report success.

Plays every task of the panel once per seed (``--seeds 3`` -> run seeds 0, 1, 2; the run seed
enters every sampling seed, the environment seed stays the task's), then prints the success rate
as mean ± std over seeds (population std), per task type (``task.data["type"]``, else "all"),
the average number of steps and the invalid-action rate. With ``--out DIR`` it writes
``DIR/episodes.jsonl`` (every episode, as it finishes) and ``DIR/metrics.json``:

    {"success": {"mean", "std"}, "by_type": {TYPE: {"mean", "std"}}, "avg_steps",
     "invalid_rate", "episodes", "errors", "versions"}

(``versions``: the packages and turnrl commit of the process that wrote it, see
``turnrl.core.provenance``; not part of the returned metrics.)

Panels and sampling seeds are fixed, so the same policy gives the same numbers at any
concurrency and on any machine with the same software (a model's float arithmetic can still
differ between CPU or GPU types). A failed episode (env_error, policy_error, timeout) counts
as a failure and in ``errors``. Rerunning into a DIR that has episodes needs ``--resume`` (the
episodes stored there are kept and skipped; the run's settings must match).

Examples:
    turnrl eval toy-env --policy scripted:gold --panel valid --seeds 3 --out runs/eval-gold
    turnrl eval toy-env --policy hf:PATH/TO/SAVED_MODEL --seeds 3
    turnrl eval alfworld --policy openai:http://127.0.0.1:8000/v1 --panel valid_seen
    turnrl eval werewolf --policy hf:PATH --learner team=village --opponent scripted:basic

In a multi-agent game ``--learner`` names the seats the policy plays and ``--opponent`` who
plays the others (see ``turnrl.core.seating``); a game counts once, won when the policy's side
won.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from turnrl.commands.check import add_executor_arguments, open_executor
from turnrl.core.types import Episode

HELP = "evaluate a policy on a fixed task panel (success mean ± std over seeds)"
FAILED = ("env_error", "policy_error", "timeout")


def add_policy_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by `turnrl eval` and `turnrl rollout`."""
    parser.add_argument("env", help="registered environment name (see `turnrl list`)")
    parser.add_argument("--policy", required=True,
                        help="BACKEND:SPEC, e.g. scripted:gold, scripted:random, hf:PATH, "
                             "hf:tiny, openai:http://HOST:PORT/v1, vllm:MODEL")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="cap on turns per episode (default: the environment's own)")
    parser.add_argument("--max-tokens", type=int, default=256, help="tokens per model reply")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--history-length", type=int, default=2,
                        help="past turns shown in each prompt")
    parser.add_argument("--template", default="auto",
                        help="prompt template: auto (the env's own prompt if it registers one, "
                             "else verl-agent), verl-agent, plain")
    parser.add_argument("--concurrency", type=int, default=64, help="episodes in flight")
    parser.add_argument("--env-timeout", type=float, default=60.0, help="seconds per env call")
    parser.add_argument("--model-timeout", type=float, default=300.0,
                        help="seconds per model call")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--env-option", action="append", metavar="KEY=VALUE", default=[],
                        help="environment option (value read as YAML), e.g. rules=textarena; "
                             "repeatable")
    parser.add_argument("--learner", action="append", metavar="SELECTOR",
                        help="multi-agent games: a seat the policy plays (player_0, "
                             "team=village, role=Seer; repeatable; default: every seat)")
    parser.add_argument("--opponent", action="append", metavar="BACKEND:SPEC",
                        help="multi-agent games: who plays the other seats, e.g. "
                             "scripted:basic (repeatable: a panel of line-ups, one per task)")
    add_executor_arguments(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_policy_arguments(parser)
    parser.add_argument("--panel", default=None,
                        help="task split to evaluate (default: the env's eval_split extra, else "
                             "its first valid* split)")
    parser.add_argument("--seeds", type=int, default=1, help="number of run seeds (0..N-1)")
    parser.add_argument("--limit", type=int, default=None, help="first N tasks of the panel")
    parser.add_argument("--out", default=None, help="write episodes.jsonl and metrics.json here")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted run in --out (skip stored episodes)")


def rollout_config(args: argparse.Namespace, *, seed: int) -> Any:
    from turnrl.core.policy import SamplingParams
    from turnrl.core.rollout import RolloutConfig

    try:
        return RolloutConfig(
            max_concurrent_episodes=args.concurrency, max_concurrent_requests=args.concurrency,
            env_timeout_s=args.env_timeout, model_timeout_s=args.model_timeout,
            max_steps=args.max_steps, history_length=args.history_length,
            template=args.template, seed=seed, progress=not args.no_progress,
            sampling=SamplingParams(max_tokens=args.max_tokens, temperature=args.temperature,
                                    top_p=args.top_p), seats=seating(args),
            env_options=env_options(args))
    except ValueError as exc:
        raise _user_error(str(exc)) from None


def env_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--env-option KEY=VALUE`` pairs (values parsed as YAML: ``players=9`` is an int)."""
    import yaml

    out: dict[str, Any] = {}
    for item in getattr(args, "env_option", None) or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise _user_error(f"--env-option must look like KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            out[key.strip()] = raw
    return out


def seating(args: argparse.Namespace) -> Any:
    """``--learner`` / ``--opponent`` as a ``Seating`` (built once per command)."""
    learner, opponents = getattr(args, "learner", None), getattr(args, "opponent", None)
    if not learner and not opponents:
        return None
    if getattr(args, "_seating", None) is None:
        from turnrl.core.host import PluginError, get_host
        from turnrl.core.seating import build_seating

        try:
            args._seating = build_seating(learner or ["*"], opponents or [], "role",
                                          env=args.env, host=get_host(),
                                          template=args.template)
        except PluginError as exc:
            raise _user_error(f"--opponent: {exc}") from None
    return args._seating


def build_policy(spec: str, env: str, host: Any, template: str | None = None) -> Any:
    """``name:spec`` -> a Policy; mistakes become one-line user errors. Backends that format
    their own replies (``scripted``) get the run's prompt template, so the engine's parser
    reads them."""
    from turnrl.core.host import PluginError

    name, sep, rest = spec.partition(":")
    if not sep:
        raise _user_error(f"--policy must look like BACKEND:SPEC (e.g. scripted:gold), "
                          f"got {spec!r}")
    component = host.lookup("policies", name)
    factory = component.resolve()
    options = {"template": template} if template and component.meta.get("formats_replies") \
        else {}
    try:
        policy = factory(rest, env=env, host=host, **options)
    except (ValueError, ImportError, PluginError) as exc:
        raise _user_error(f"--policy {spec}: {exc}") from None
    check = getattr(policy, "check", None)
    if check is not None:  # a server: ask once now rather than fail every episode in turn
        try:
            asyncio.run(check())
        except Exception as exc:
            raise _user_error(f"--policy {spec}: {exc}") from None
    return policy


def all_failed(episodes: Sequence[Episode]) -> str | None:
    """When every episode of a run failed (env_error, policy_error, timeout): one line saying
    so, with the most common error, for the command to print and exit 1 on; else None."""
    if not episodes or any(e.status not in FAILED for e in episodes):
        return None
    (text, n), = Counter(f"{e.status}: {e.error}" for e in episodes).most_common(1)
    return f"every episode failed ({len(episodes)}); most common: {n} x {text}"


def _user_error(message: str) -> Exception:
    from turnrl.cli import UserError

    return UserError(message)


def default_panel(spec: Any) -> str:
    extra = spec.extras.get("eval_split")
    if extra:
        return str(extra)
    valid = [s for s in spec.splits if s.startswith("valid")]
    return valid[0] if valid else spec.splits[-1]


def summarize(runs: dict[int, Sequence[Episode]]) -> dict[str, Any]:
    """The metrics of ``run seed -> episodes`` (see the module docstring for the shape)."""
    def mean_std(values: list[float]) -> dict[str, float]:
        return {"mean": statistics.fmean(values) if values else 0.0,
                "std": statistics.pstdev(values) if len(values) > 1 else 0.0}

    def rate(eps: Sequence[Episode]) -> float:
        """Won games / games: the seats of one multi-agent game share ``base_id`` and count
        once (a single-agent episode is its own game)."""
        games: dict[str, bool] = {}
        for e in eps:
            base = str(e.metrics.get("base_id", e.id))
            games[base] = games.get(base, False) or _won(e)
        return sum(games.values()) / len(games) if games else 0.0

    every = [e for s in sorted(runs) for e in sorted(runs[s], key=lambda e: e.id)]
    types = sorted({str(e.task.data.get("type", "all")) for e in every})
    by_type = {t: mean_std([rate([e for e in runs[s] if str(e.task.data.get("type", "all"))
                                  == t]) for s in sorted(runs)]) for t in types}
    steps = sum(len(e.steps) for e in every)
    return {
        "success": mean_std([rate(runs[s]) for s in sorted(runs)]),
        "by_type": by_type,
        "avg_steps": steps / len(every) if every else 0.0,
        "invalid_rate": sum(not st.valid for e in every for st in e.steps) / steps if steps
        else 0.0,
        "episodes": len(every),
        "errors": sum(e.status in FAILED for e in every),
    }


def _won(e: Episode) -> bool:
    return e.status not in FAILED and e.won


def run_settings(args: argparse.Namespace, *, ignore: Sequence[str] = ()) -> dict[str, Any]:
    """The command-line settings that decide what a stored run's episodes are."""
    # where environments run (the executor) does not change what an episode is
    skip = {"out", "resume", "no_progress", "executor", "ray_address", "ray_cpus", *ignore}
    return {k: v for k, v in sorted(vars(args).items()) if not k.startswith("_") and k not in skip}


def check_settings(run_file: Path, stored: Path, settings: dict[str, Any], *,
                   flag: str) -> None:
    """Refuse to add episodes to ``stored`` when it was written with other settings (or with
    none recorded): mixing them would make a summary of two different runs. Then record
    ``settings`` in ``run_file``. ``flag`` names the option the message talks about."""
    has_episodes = stored.exists() and stored.stat().st_size > 0
    if has_episodes and run_file.exists():
        before = json.loads(run_file.read_text())
        if before != settings:
            diff = sorted(k for k in set(settings) | set(before)
                          if before.get(k) != settings.get(k))
            raise _user_error(f"{flag}: {stored} was written with different settings "
                              f"({', '.join(diff)}); choose another output")
    elif has_episodes:
        raise _user_error(f"{flag}: {stored} holds episodes but no record of the settings "
                          f"they were played with ({run_file} is missing); choose another output")
    run_file.parent.mkdir(parents=True, exist_ok=True)
    run_file.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")


def _check_out_dir(out: Path, settings: dict[str, Any], resume: bool) -> None:
    stored = out / "episodes.jsonl"
    if stored.exists() and stored.stat().st_size and not resume:
        raise _user_error(f"{stored} already holds episodes; pass --resume to continue that "
                          f"run, or choose another --out")
    check_settings(out / "run.json", stored, settings, flag="--resume")


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from turnrl.core.host import get_host
    from turnrl.core.rollout import run_groups
    from turnrl.core.seating import close_seating
    from turnrl.core.store import EpisodeStore

    if args.seeds < 1:
        raise _user_error(f"--seeds must be >= 1, got {args.seeds}")
    host = get_host()
    spec = host.env(args.env)
    panel = args.panel or default_panel(spec)
    tasks = host.tasks(args.env, panel)[: args.limit]
    if not tasks:
        raise _user_error(f"panel {panel!r} of {args.env!r} has no tasks")
    store = None
    if args.out:
        out = Path(args.out)
        _check_out_dir(out, run_settings(args), args.resume)
        store = EpisodeStore(out / "episodes.jsonl")
    options = env_options(args)
    if options:  # a bad option is one line now, not an env_error in every episode
        try:
            host.make(args.env, **options)
        except (TypeError, ValueError) as exc:
            raise _user_error(f"--env-option: {exc}") from None
    policy = build_policy(args.policy, args.env, host, template=args.template)
    executor = open_executor(args)

    async def play() -> dict[int, list[Episode]]:
        runs: dict[int, list[Episode]] = defaultdict(list)
        try:
            for seed in range(args.seeds):
                groups = await run_groups(args.env, tasks, policy, group_size=1, host=host,
                                          config=rollout_config(args, seed=seed), store=store,
                                          id_prefix=f"seed{seed}/", executor=executor)
                runs[seed] = [e for g in groups for e in g.episodes]
        finally:
            await policy.close()
            await close_seating(getattr(args, "_seating", None))
            if store is not None:
                store.close()
        return runs

    try:
        runs = asyncio.run(play())
    finally:
        if executor is not None:
            executor.close()
    metrics = summarize(runs)
    if args.out:
        from turnrl.core.provenance import software_versions

        (Path(args.out) / "metrics.json").write_text(json.dumps(
            metrics | {"versions": software_versions()}, indent=2, sort_keys=True) + "\n")
    _print(args, panel, len(tasks), metrics)
    errors = Counter(f"{e.status}: {e.error}" for eps in runs.values() for e in eps
                     if e.status in FAILED)
    for text, count in errors.most_common(3):
        print(f"  {count} x {text}")
    return metrics


def _print(args: argparse.Namespace, panel: str, n_tasks: int, m: dict[str, Any]) -> None:
    s = m["success"]
    print(f"{args.env} {panel}: {n_tasks} tasks x {args.seeds} seed(s), policy {args.policy}")
    print(f"success       {s['mean']:.3f} ± {s['std']:.3f}")
    width = max([12, *(len(t) + 2 for t in m["by_type"])])
    for t, v in m["by_type"].items():
        print(f"  {t:<{width}}{v['mean']:.3f} ± {v['std']:.3f}")
    print(f"avg steps     {m['avg_steps']:.2f}")
    print(f"invalid rate  {m['invalid_rate']:.3f}")
    print(f"episodes      {m['episodes']} ({m['errors']} failed with an error)")
    if args.out:
        print(f"wrote {Path(args.out) / 'episodes.jsonl'} and {Path(args.out) / 'metrics.json'}")


def run(args: argparse.Namespace) -> int:
    import sys

    metrics = evaluate(args)
    if metrics["episodes"] and metrics["errors"] == metrics["episodes"]:
        print(f"turnrl eval: every episode failed ({metrics['episodes']}); see the errors above",
              file=sys.stderr)
        return 1
    return 0
