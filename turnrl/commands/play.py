"""Play one episode of an environment yourself, in the terminal.

Shows the observation and the admissible actions, reads your action from standard input (a
number picks an admissible action, anything else is sent as typed), then the reward. ``quit``
or end of input stops. Input is read line by line, so a session can be scripted:
``printf 'go east\\ngo south\\n' | turnrl play toy-env``.

Observations with images (the GUI environment's screenshots) are written as PNG files, one per
step, into ``--image-dir`` (default: a new temporary folder), and each file's path is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

HELP = "play an episode by hand in the terminal"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("env", metavar="ENV", help="registered environment name")
    parser.add_argument("--split", default=None, help="panel to take the task from "
                        "(default: the environment's first split)")
    parser.add_argument("--task", metavar="ID", help="task id (default: the panel's first task)")
    parser.add_argument("--seed", type=int, help="override the task's seed")
    parser.add_argument("--image-dir", metavar="DIR",
                        help="where observation images (screenshots) are written "
                             "(default: a new temporary folder)")


def run(args: argparse.Namespace) -> int:
    from turnrl.core.host import get_host

    host = get_host()
    spec = host.env(args.env)
    split = args.split or spec.splits[0]
    tasks = host.tasks(args.env, split)
    task = _pick(tasks, args.task, split)
    return asyncio.run(play(host.make(args.env), task, seed=args.seed, stdin=sys.stdin,
                            image_dir=args.image_dir))


def _pick(tasks: list[Any], task_id: str | None, split: str) -> Any:
    from turnrl.cli import UserError

    if not tasks:
        raise UserError(f"split {split!r} has no tasks")
    if task_id is None:
        return tasks[0]
    for task in tasks:
        if task.id == task_id:
            return task
    sample = ", ".join(t.id for t in tasks[:3])
    raise UserError(f"no task {task_id!r} in split {split!r} (ids look like: {sample}, ...)")


async def play(env: Any, task: Any, *, seed: int | None, stdin: TextIO,
               image_dir: str | None = None) -> int:
    """The interactive loop; returns the exit code (0 whatever the outcome of the game)."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    images = _ImageWriter(image_dir)
    total = 0.0
    steps = 0
    try:
        obs = await env.reset(task, seed=seed)
        shown_seed = task.seed if seed is None else seed
        console.print(f"[bold]task {escape(task.id)}[/bold] (seed {shown_seed})")
        while True:
            _show(console, obs)
            for path in images.write(obs, steps):
                console.print(f"screenshot: {escape(path)}", soft_wrap=True)
            console.print("> ", end="")
            line = stdin.readline()
            if not line or line.strip().lower() in {"quit", "exit", ":q"}:
                console.print("\nstopped")
                break
            action = _resolve(line.rstrip("\n"), obs.actions)
            tr = await env.step(action)
            steps += 1
            total += tr.reward
            valid = tr.info.get("valid_action", True)
            console.print(f"action: {escape(action)!s}  reward: {tr.reward:g}"
                          + ("" if valid else "  [yellow](invalid action)[/yellow]"))
            obs = tr.observation
            if tr.done:
                _show(console, obs, actions=False)
                outcome = "won" if tr.info.get("won") else (
                    "truncated" if tr.truncated else "finished")
                console.print(f"[bold]episode {outcome}[/bold]")
                break
    finally:
        await env.close()
    console.print(f"steps: {steps}  total reward: {total:g}")
    return 0


def _show(console: Any, obs: Any, *, actions: bool = True) -> None:
    from rich.markup import escape

    if obs.agent:
        console.print(f"[bold cyan]{escape(obs.agent)} to act[/bold cyan]")
    console.print(escape(obs.text))
    if actions and obs.actions:
        listed = "  ".join(f"[dim]{i}[/dim] {escape(a)}" for i, a in enumerate(obs.actions, 1))
        console.print(f"actions: {listed}")


class _ImageWriter:
    """Writes each observation's images (base64 PNG) to ``step-NNN[-i].png`` files."""

    def __init__(self, folder: str | None) -> None:
        self.folder = folder

    def write(self, obs: Any, step: int) -> list[str]:
        import base64
        import tempfile
        from pathlib import Path

        paths = []
        for i, b64 in enumerate(getattr(obs, "images", ()) or ()):
            if self.folder is None:
                self.folder = tempfile.mkdtemp(prefix="turnrl-play-")
            Path(self.folder).mkdir(parents=True, exist_ok=True)
            name = f"step-{step:03d}.png" if i == 0 else f"step-{step:03d}-{i}.png"
            path = Path(self.folder) / name
            path.write_bytes(base64.b64decode(b64))
            paths.append(str(path))
        return paths


def _resolve(line: str, actions: tuple[str, ...] | None) -> str:
    """A bare number picks that admissible action; anything else is sent as typed."""
    text = line.strip()
    if actions and text.isdigit() and 1 <= int(text) <= len(actions):
        return actions[int(text) - 1]
    return line
