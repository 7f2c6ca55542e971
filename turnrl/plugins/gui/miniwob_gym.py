"""Adapter: the ``gui`` environment over MiniWoB++'s own gymnasium environment (``backend=
"miniwob-gym"``), for parity checks and for users who want the reference implementation.

The official environment drives Chromium through Selenium and chromedriver. Debian's
``chromium`` and ``chromium-driver`` serve (``MINIWOB_CHROME_BINARY`` / ``MINIWOB_CHROMEDRIVER``,
so Selenium Manager never downloads anything); the binary it starts is a small launcher that adds
``browser.OFFLINE_ARGS``, so this browser stays off the network as well. Pages load from the
wheel's ``file://`` folder, as MiniWoB does by default.

Same observation text, screenshot, grammar, rewards and ``info`` as the Playwright backend, with
MiniWoB's own action semantics: ``click`` is its ``CLICK_ELEMENT`` (a JavaScript ``click()``,
covered or not), ``type`` is click, ``C-a`` (so the text is replaced, as in the Playwright
backend) and ``TYPE_TEXT``, ``press`` takes the keys of its ``allowed_keys``, ``scroll`` turns
the wheel by MiniWoB's fixed amount in the sign of ``dy``, ``select`` focuses the drop-down and
types the option (a browser picks the option that starts with what is typed). Selenium blocks,
so every call runs in a worker thread; gymnasium environments (one Chromium each, ~3 s to
start) are kept per task type and reused by the next episode.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import io
import os
import stat
import tempfile
import threading
from pathlib import Path
from typing import Any

from turnrl.core.types import Observation, Task, Transition
from turnrl.plugins.gui.actions import Action, ActionError, parse_action
from turnrl.plugins.gui.browser import DEFAULT_EXECUTABLE, OFFLINE_ARGS
from turnrl.plugins.gui.catalog import TASK_TYPES, TaskType
from turnrl.plugins.gui.dom import render_dom, state_key
from turnrl.plugins.gui.rewards import get_reward

DEFAULT_CHROMEDRIVER = "/usr/bin/chromedriver"
EXTRA_KEYS = ("<Escape>", "<Home>", "<End>", "C-a", "C-c", "C-v", "C-x", "S-<Tab>")
_MODIFIERS = {"Control": "C-", "Shift": "S-", "Alt": "A-", "Meta": "M-"}


def _launcher(executable: str) -> str:
    """A script that starts ``executable`` with the offline flags (Selenium's own flags
    follow). Written once per process."""
    folder = Path(tempfile.mkdtemp(prefix="turnrl-gui-launcher-"))
    script = folder / "chromium"
    args = " ".join(f"'{a}'" for a in OFFLINE_ARGS)
    script.write_text(f'#!/bin/sh\nexec "{executable}" {args} "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(script)


class _GymPool:
    """Idle gymnasium environments per task type (each owns a Chromium)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: dict[str, list[Any]] = {}
        self.launcher: str | None = None

    def acquire(self, task_type: str, executable: str, chromedriver: str) -> Any:
        with self.lock:
            if self.idle.get(task_type):
                return self.idle[task_type].pop()
            if self.launcher is None:
                self.launcher = _launcher(executable)
        os.environ["MINIWOB_CHROME_BINARY"] = self.launcher
        os.environ["MINIWOB_CHROMEDRIVER"] = chromedriver
        import gymnasium
        import miniwob  # noqa: F401  (registers the miniwob/* environments)
        from miniwob.action import ActionSpaceConfig

        config = ActionSpaceConfig.get_preset("all_supported")
        config.allowed_keys = (*config.allowed_keys, *EXTRA_KEYS)
        env = gymnasium.make(f"miniwob/{task_type}-v1", action_space_config=config)
        env.reset(seed=0)  # starts Chromium; then take MiniWoB's 10-second clock away
        env.unwrapped.instance.driver.execute_script(
            "core.EPISODE_MAX_TIME = 2147483647;")
        return env

    def release(self, task_type: str, env: Any) -> None:
        with self.lock:
            self.idle.setdefault(task_type, []).append(env)

    def close(self) -> None:
        with self.lock:
            envs = [e for envs in self.idle.values() for e in envs]
            self.idle.clear()
        for env in envs:
            with contextlib.suppress(Exception):  # a dead browser: nothing left to close
                env.close()


_POOL = _GymPool()
atexit.register(_POOL.close)


class MiniwobGymEnv:
    """``gui`` on ``gymnasium.make("miniwob/<type>-v1")`` (see the module docstring)."""

    def __init__(self, *, observation: str = "both", reward: str = "raw",
                 reward_threshold: float = 1.0, success_threshold: float = 1.0,
                 max_steps: int | None = None, executable: str = "",
                 chromedriver: str = DEFAULT_CHROMEDRIVER) -> None:
        if reward == "discounted":
            raise ValueError("gui backend miniwob-gym: the discounted reward needs the page "
                             "clock, which this backend turns off; use the default backend")
        self._reward = get_reward(reward)
        self.reward_threshold = float(reward_threshold)
        self.success_threshold = float(success_threshold)
        self.observation_mode = observation
        self.max_steps_option = max_steps
        self.executable = executable or os.environ.get("TURNRL_CHROMIUM", DEFAULT_EXECUTABLE)
        self.chromedriver = chromedriver
        self._env: Any = None
        self._type: TaskType | None = None
        self._obs: dict[str, Any] = {}
        self._t = 0
        self._over = False
        self._max_steps = 10
        self.closed = False

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        name = str(task.data.get("type", ""))
        if self._env is not None and self._type is not None and self._type.name != name:
            await self._give_back()
        self._type = TASK_TYPES.get(name) or TaskType(name)
        if self._env is None:
            self._env = await asyncio.to_thread(_POOL.acquire, name, self.executable,
                                                self.chromedriver)
        chosen = task.seed if seed is None else seed
        self._obs, _ = await asyncio.to_thread(self._env.reset, seed=chosen)
        self._t, self._over = 0, False
        self._max_steps = self.max_steps_option or self._type.max_steps
        return self._observe(None)

    async def step(self, action: str) -> Transition:
        if self._env is None:
            raise RuntimeError("MiniwobGymEnv.step called before reset()")
        if self._over:
            return Transition(Observation(text="The episode is over.", state_key="episode-over"),
                              terminated=True, info={"valid_action": False, "won": False})
        self._t += 1
        try:
            parsed = parse_action(action)
        except ActionError as exc:
            return self._after(f"Invalid action: {exc}.", False, None)
        if parsed.kind == "done":
            return self._after(f"Last action: {parsed}.", True,
                               {"done": True, "raw_reward": 0.0, "env_reward": 0.0,
                                "reason": "agent called done()"})
        try:
            steps = self._gym_actions(parsed)
        except ActionError as exc:
            return self._after(f"Invalid action {parsed}: {exc}.", False, None)
        info: dict[str, Any] = {}
        for gym_action in steps:
            self._obs, _, done, _, info = await asyncio.to_thread(self._env.step, gym_action)
            if done:
                break
        return self._after(f"Last action: {parsed}.", True, info)

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            await self._give_back()

    # ------------------------------------------------------------------ internals
    async def _give_back(self) -> None:
        env, self._env = self._env, None
        if env is not None and self._type is not None:
            _POOL.release(self._type.name, env)

    def _gym_actions(self, action: Action) -> list[Any]:
        make = self._env.unwrapped.create_action
        if action.kind == "click":
            return [make("CLICK_ELEMENT", ref=action.ref)]
        if action.kind in ("type", "select"):
            return [make("CLICK_ELEMENT", ref=action.ref), make("PRESS_KEY", key=self._key("C-a")),
                    make("TYPE_TEXT", text=action.text)]
        if action.kind == "press":
            return [make("PRESS_KEY", key=self._key(_miniwob_key(action.text)))]
        import numpy as np

        point = np.array([action.x, action.y], dtype=np.float32)
        if action.kind == "click_xy":
            if not (0 <= action.x < 160 and 0 <= action.y < 210):
                raise ActionError(f"({action.x:g}, {action.y:g}) is outside the screenshot "
                                  "(160x210 pixels)")
            return [make("CLICK_COORDS", coords=point)]
        centre = np.array([80, 105], dtype=np.float32)
        kind = "SCROLL_DOWN_COORDS" if action.y >= 0 else "SCROLL_UP_COORDS"
        return [make(kind, coords=centre)]

    def _key(self, key: str) -> int:
        keys = self._env.unwrapped.action_space_config.allowed_keys
        if key not in keys:
            raise ActionError(f"the miniwob-gym backend cannot press {key!r}")
        return keys.index(key)

    def _after(self, feedback: str, valid: bool, info: dict[str, Any] | None) -> Transition:
        assert self._type is not None
        result: dict[str, Any] = {"valid_action": valid, "task_type": self._type.name,
                                  "won": False}
        if info and info.get("done"):
            record = {"done": True, "raw_reward": float(info["raw_reward"]),
                      "env_reward": float(info["env_reward"])}
            result.update(won=record["raw_reward"] >= self.success_threshold,
                          raw_reward=record["raw_reward"], env_reward=record["env_reward"],
                          reason=str(info.get("reason") or ""))
            self._over = True
            text = f"{feedback}\nThe episode is over: the page scored {record['raw_reward']:g}."
            return Transition(Observation(text=text, state_key="episode-over"),
                              reward=self._reward(record, self.reward_threshold),
                              terminated=True, info=result)
        truncated = self._t >= self._max_steps
        self._over = truncated
        return Transition(self._observe(feedback), truncated=truncated, info=result)

    def _observe(self, feedback: str | None) -> Observation:
        lines = render_dom(_tree(self._obs.get("dom_elements") or ()))
        utterance = str(self._obs.get("utterance", ""))
        parts = [feedback] if feedback else []
        parts.append(f"Task: {utterance}")
        if self.observation_mode == "screenshot":
            parts.append("(The page is in the screenshot: 160x210 pixels.)")
        else:
            parts += ["Page:", *lines]
        images: tuple[str, ...] = ()
        if self.observation_mode != "text" and self._obs.get("screenshot") is not None:
            images = (_png(self._obs["screenshot"]),)
        return Observation(text="\n".join(parts), state_key=state_key(utterance, lines),
                           images=images)


def _miniwob_key(key: str) -> str:
    """Playwright's key names -> MiniWoB's (``"Control+a"`` -> ``"C-a"``, ``"Enter"`` ->
    ``"<Enter>"``)."""
    *mods, last = key.split("+") if key != "+" else ["+"]
    name = f"<{last}>" if len(last) > 1 else last
    return "".join(_MODIFIERS[m] for m in mods) + name


def _tree(elements: Any) -> dict[str, Any] | None:
    """The gymnasium observation's flat ``dom_elements`` back into ``core.getDOMInfo()``'s
    tree shape (what ``render_dom`` reads)."""
    nodes: dict[int, dict[str, Any]] = {}
    root = None
    for e in elements:
        tag = str(e["tag"])
        node: dict[str, Any] = {"ref": int(e["ref"]), "tag": tag, "children": [],
                                "id": str(e["id"])}
        if tag.startswith("input_") or tag == "textarea":
            node["value"] = (e["value"] == "True") if tag in ("input_checkbox", "input_radio") \
                else str(e["value"])
        if int(e["flags"][3]) or tag == "t":  # a leaf: its text
            node["text"] = str(e["text"])
        if int(e["flags"][0]):
            node["focused"] = True
        nodes[node["ref"]] = node
        parent = nodes.get(int(e["parent"]))
        if parent is None:
            root = root or node
        else:
            parent["children"].append(node)
    return root


def _png(pixels: Any) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
