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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="turnrl", description="Train and evaluate LLM agents in multi-turn environments.")
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

    names = {"ConfigError", "UserError", "PluginError", "SandboxUsageError", "SandboxUnavailable"}
    return isinstance(exc, UserError | PluginError | FileNotFoundError | ModuleNotFoundError) or \
        type(exc).__name__ in names


if __name__ == "__main__":
    sys.exit(main())
