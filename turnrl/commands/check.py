"""Check that an environment keeps the episode contract: reset/step types, determinism under a
fixed seed, malformed actions answered, idempotent close, finite rewards, every panel task
resets, and the plugin's expert (if any) solves every task. Needs no model.

With ``--executor ray`` every instance runs in a Ray actor (``--ray-address`` joins a
cluster; without it a private local one starts): the plugin must pickle, import on the workers
and fit on a node with the resources it declared, and results travel back the way a rollout's
do. Exit code 0 when every check passes, 1 when one fails, 2 for an unknown environment or
an executor that cannot run here.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

HELP = "run the conformance checks on an environment"

STYLE = {"pass": "[green]pass[/green]", "fail": "[red]FAIL[/red]", "skip": "[yellow]skip[/yellow]"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("env", metavar="ENV", help="registered environment name")
    parser.add_argument("--split", help="check only this split's panel (default: all splits)")
    parser.add_argument("--max-tasks", type=int, metavar="N",
                        help="check at most N tasks per panel")
    parser.add_argument("--timeout", type=float, metavar="S",
                        help="seconds allowed for each environment call (default 60)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("-o", "--option", action="append", default=[], metavar="KEY=VALUE",
                        help="environment option (value parsed as YAML), e.g. -o sandbox=docker"
                             "; repeatable")
    add_executor_arguments(parser)


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """``--executor`` and its Ray settings (shared by check, rollout and eval)."""
    from turnrl.executors import EXECUTORS

    parser.add_argument("--executor", default="inprocess", choices=sorted(EXECUTORS),
                        help="where environments run (default inprocess; ray: Ray actors)")
    parser.add_argument("--ray-address", metavar="ADDR",
                        help="Ray cluster to join (HOST:PORT or auto); default: RAY_ADDRESS "
                             "if set, else a private local cluster")
    parser.add_argument("--ray-cpus", type=int, metavar="N",
                        help="CPUs of a private local Ray cluster (default: all)")


def open_executor(args: argparse.Namespace) -> Any:
    """The executor the arguments ask for (None: in-process); a missing extra, an unreachable
    cluster or a misplaced setting is a one-line user error."""
    from turnrl.cli import UserError
    from turnrl.executors import ExecutorUnavailable, make_executor

    if args.executor != "ray" and (args.ray_address or args.ray_cpus):
        raise UserError("--ray-address and --ray-cpus need --executor ray")
    if args.ray_cpus is not None and args.ray_cpus < 1:
        raise UserError(f"--ray-cpus must be >= 1, got {args.ray_cpus}")
    settings = {"address": args.ray_address, "num_cpus": args.ray_cpus} \
        if args.executor == "ray" else {}
    try:
        return make_executor(args.executor, **settings)
    except ExecutorUnavailable as exc:
        raise UserError(str(exc)) from None


def _options(items: list[str]) -> dict[str, object] | None:
    """``-o key=value`` pairs as environment options (None: the environment's defaults)."""
    import yaml

    from turnrl.cli import UserError

    if not items:
        return None
    options: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"-o {item!r} must look like key=value")
        options[key.strip()] = yaml.safe_load(value)
    return options


def run(args: argparse.Namespace) -> int:
    from turnrl.core.checker import check_env

    if args.max_tasks is not None and args.max_tasks < 1:
        from turnrl.cli import UserError

        raise UserError(f"--max-tasks must be >= 1, got {args.max_tasks}")
    executor = open_executor(args)
    try:
        report = check_env(args.env, split=args.split, max_tasks=args.max_tasks,
                           timeout=args.timeout, options=_options(args.option),
                           executor=executor)
    finally:
        if executor is not None:
            executor.close()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0 if report.ok else 1
    from rich.console import Console
    from rich.table import Table

    where = "" if executor is None else f" (executor {args.executor})"
    table = Table(title=f"turnrl check {args.env}{where}", title_justify="left")
    for column in ("check", "result", "details", "s"):
        table.add_column(column)
    for r in report.results:
        table.add_row(r.name, STYLE[r.status], r.message, f"{r.seconds:.2f}")
    console = Console()
    console.print(table)
    if report.ok:
        console.print(f"[green]{args.env} passes every check[/green]")
        return 0
    console.print(f"[red]{args.env} fails {len(report.failures)} check(s)[/red]")
    return 1
