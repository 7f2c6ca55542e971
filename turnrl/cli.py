"""The ``turnrl`` command line: a thin argparse front over ``turnrl.commands``.

A user mistake (unknown environment, bad config value, missing extra) exits with code 2 and one
readable line, never a traceback. Set ``TURNRL_DEBUG=1`` to see the traceback anyway.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

COMMANDS: tuple[tuple[str, str], ...] = (
    ("list", "turnrl.commands.listing"),
    ("check", "turnrl.commands.check"),
    ("play", "turnrl.commands.play"),
    ("config", "turnrl.commands.config"),
    ("rollout", "turnrl.commands.rollout"),
    ("eval", "turnrl.commands.evaluate"),
    ("train", "turnrl.commands.train"),
    ("sandbox", "turnrl.commands.sandbox"),
)


class UserError(Exception):
    """A mistake in the user's input; the CLI prints the message and exits with code 2."""


class _VersionAction(argparse.Action):
    """``turnrl --version``: turnrl's version and commit, then every version a run records in
    its ``summary.json`` -- the lines a bug report or a reproduction needs."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        from turnrl.core.provenance import software_versions

        versions = software_versions()
        head = f"turnrl {versions.pop('turnrl')}"
        commit = versions.pop("turnrl_commit", None)
        print(head + (f" (git {commit})" if commit else ""))
        for name, version in versions.items():
            print(f"  {name} {version}")
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="turnrl", description="Train and evaluate LLM agents in multi-turn environments.")
    parser.add_argument("--version", action=_VersionAction,
                        help="print turnrl's version and the software versions runs record")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_path in COMMANDS:
        module = importlib.import_module(module_path)
        p = sub.add_parser(name, help=module.HELP, description=module.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("TURNRL_DEBUG"):
            raise
        user_error = _is_user_error(exc)
        prefix = "error" if user_error else f"internal error ({type(exc).__name__})"
        if type(exc).__name__ == "ConfigError":
            prefix = "config error"
        print(f"turnrl {args.command}: {prefix}: {exc}", file=sys.stderr)
        return 2 if user_error else 1


def _is_user_error(exc: Exception) -> bool:
    from turnrl.core.host import PluginError

    names = {"ConfigError", "UserError", "PluginError", "SandboxUsageError", "SandboxUnavailable",
             "ExecutorUnavailable", "PlacementError"}  # Ray missing; nowhere to place an env
    return isinstance(exc, UserError | PluginError | FileNotFoundError | ModuleNotFoundError) or \
        type(exc).__name__ in names


if __name__ == "__main__":
    sys.exit(main())
