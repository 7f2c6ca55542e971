"""Check that an environment keeps the episode contract: reset/step types, determinism under a
fixed seed, malformed actions answered, idempotent close, finite rewards, every panel task
resets, and the plugin's expert (if any) solves every task. Needs no model.

Exit code 0 when every check passes, 1 when one fails, 2 for an unknown environment.
"""

from __future__ import annotations

import argparse
import json

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
    report = check_env(args.env, split=args.split, max_tasks=args.max_tasks,
                       timeout=args.timeout, options=_options(args.option))
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0 if report.ok else 1
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"turnrl check {args.env}", title_justify="left")
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
