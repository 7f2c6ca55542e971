"""``AlfworldTextWorld``: the real engine backend (``backend="textworld"``).

Plays a task with TextWorld's PDDL engine and alfworld's name demangler, exactly the stack
alfworld's ``AlfredTWEnv`` builds: a generated task is written as a ``game.tw-pddl`` game by
``pddl_export``; an official task (``ALFWORLD_DATA``, see ``official``) is loaded from its file.
``textworld`` and ``alfworld`` are imported on first use only.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from turnrl.core.types import Observation, Task, Transition
from turnrl.plugins.alfworld import text
from turnrl.plugins.alfworld.sim import MAX_STEPS, reward_scale

INSTALL_HINT = "pip install turnrl[alfworld]"
ENGINE_LOCK = threading.Lock()
"""Serialises TextWorld engine calls across worker threads (its parser is not thread-safe)."""


def _engine() -> Any:
    """A fresh demangled ``PddlEnv`` (lazy imports, with an install hint when missing)."""
    try:
        import textworld
        from alfworld.agents.environment.alfred_tw_env import AlfredDemangler
        from textworld.envs.pddl import PddlEnv
    except ImportError as exc:
        raise ImportError(f"alfworld backend 'textworld' needs alfworld and textworld[pddl]: "
                          f"{INSTALL_HINT} ({exc})") from exc
    infos = textworld.EnvInfos(won=True, admissible_commands=True)
    return AlfredDemangler(PddlEnv(infos))


def game_source(task: Task) -> Any:
    """What ``PddlEnv.load`` gets: the ``game.tw-pddl`` mapping (official file or generated)."""
    gamefile = task.data.get("gamefile")
    if gamefile is not None:
        root = os.environ.get("ALFWORLD_DATA")
        if not root:
            raise FileNotFoundError(f"task {task.id} is an official ALFWorld game; set "
                                    "ALFWORLD_DATA to the folder alfworld-download filled")
        # read it here: PddlEnv.load(path) leaves the file handle open
        return json.loads((Path(root) / gamefile).read_text())
    from turnrl.plugins.alfworld.pddl_export import game_dict

    return game_dict(task.data)


class AlfworldTextWorld:
    """Async ``Env`` over the real engine; same options and info keys as ``AlfworldSim``.

    The engine is synchronous (~0.7 s per reset, ~0.2 s per step), so the class declares
    ``blocking``: ``turnrl.make`` / the rollout run each instance on a worker thread of its own
    (``turnrl.core.offload``) and the event loop stays free (timeouts fire, the model batches).
    TextWorld's PDDL parser (tatsu) is not thread-safe -- two threads loading games at once fail
    with ``FailedToken`` -- so engine calls hold one process-wide lock; the engine is pure
    Python under the GIL, so running its calls one at a time costs no throughput
    (``benchmarks/rollout_blocking.py``).
    """

    blocking = True

    def __init__(self, *, max_steps: int = MAX_STEPS, reward: str = "score",
                 put_verb: str = "move", accept_legacy_put: bool = True) -> None:
        if put_verb != "move":
            raise ValueError("alfworld backend 'textworld' plays the installed 0.4.x grammar, "
                             f"whose put verb is 'move'; got put_verb={put_verb!r}")
        if max_steps < 1:
            raise ValueError(f"alfworld max_steps must be >= 1, got {max_steps}")
        self.max_steps = max_steps
        self.win_reward = reward_scale(reward)
        self.accept_legacy_put = accept_legacy_put
        self._env: Any = None
        self._state: Any = None
        self._task: Task | None = None
        self.t = 0
        self.closed = False

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        if self.closed:
            raise RuntimeError("AlfworldTextWorld.reset called after close()")
        with ENGINE_LOCK:
            if self._env is None:
                self._env = _engine()
            self._env.load(game_source(task))
            self._task = task
            self._state = self._env.reset()
        self.t = 0
        return self._observe()

    async def step(self, action: str) -> Transition:
        if self._state is None:
            raise RuntimeError("AlfworldTextWorld.step called before reset()")
        self.t += 1
        command = action.strip()
        admissible = self._state["admissible_commands"]
        if command not in admissible and self.accept_legacy_put:
            alias = text.canonical_put(command, "move")
            command = alias if alias in admissible else command
        valid = command in admissible
        with ENGINE_LOCK:
            self._state, _, _ = self._env.step(command)
        won = bool(self._state["won"])
        assert self._task is not None
        return Transition(
            observation=self._observe(), reward=self.win_reward if won else 0.0,
            terminated=won, truncated=not won and self.t >= self.max_steps,
            info={"won": won, "valid_action": valid, "task_type": self._task.data.get("type")},
        )

    async def close(self) -> None:
        if self._env is not None and not self.closed:
            with ENGINE_LOCK:
                self._env.close()
        self.closed = True

    def _observe(self) -> Observation:
        return Observation(text=self._state.feedback, state_key=self._state_key(),
                           actions=tuple(self._state["admissible_commands"]))

    def _state_key(self) -> str:
        """``World.state_key``'s format, read from the engine's own facts."""
        facts = self._state["_facts"]
        names = {k: info.name for k, info in self._env._entity_infos.items()}
        by = {}
        for f in facts:
            by.setdefault(f.name.lower(), []).append([v.name for v in f.arguments])
        loc = next((a[1] for a in by.get("atlocation", [])), None)
        here = next((r for r, lo in by.get("receptacleatlocation", []) if lo == loc), None)
        parts = [f"at={names[here] if here else 'start'}"]
        if here is not None:
            openable = [here] in by.get("openable", [])
            opened = [here] in by.get("opened", [])
            if openable:
                parts.append("open" if opened else "closed")
            if not openable or opened:
                inside = sorted(o for o, r in by.get("inreceptacle", []) if r == here)
                parts.append("sees=" + ",".join(names[o] for o in inside))
        held = next((a[1] for a in by.get("holds", [])), None)
        if held is not None:
            marks = [m for m, p in (("hot", "ishot"), ("cool", "iscool"), ("clean", "isclean"),
                                    ("sliced", "issliced")) if [held] in by.get(p, [])]
            parts.append(f"holds={names[held]}" + (f"[{','.join(marks)}]" if marks else ""))
        return ";".join(parts)
