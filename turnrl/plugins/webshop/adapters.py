"""Adapters to the real WebShop: the original ``WebAgentTextEnv`` and AgentGym's HTTP server.

Both play index-only tasks (``turnrl.tasks("webshop", split, source="index")``): the real
environment holds its own goals, and ``reset`` asks for goal ``task.data["goal_index"]`` as
``reset(session=i)`` does. Both keep this package's episode semantics on top: reward = the
task score on a purchase (or verl-agent's ``10 x won`` with ``reward="verl"``), ``won`` = score
1, ``info["task_score"]``, ``valid_action`` by the original's own rule (checked against the page's
clickables before the step), truncation after ``max_steps`` (15), ``Observation.actions`` as
verl-agent lists them, ``state_key`` = the page URL without the session (page, product, options).

Neither can run on this repository's CI machine: the original needs Python <= 3.10 pins (gym
0.25, torch 1.12, spaCy 3.4), pyserini with a JDK 11 and a prebuilt Lucene index, and data from
Google Drive; AgentGym's server wraps the same environment. The tests drive both adapters
against fakes of their interfaces (a fake checkout on ``sys.path``, a fake server on
127.0.0.1).

* ``OriginalWebShop(webshop_path=..., **kwargs)``: imports ``web_agent_site.envs`` from the
  WebShop checkout at ``webshop_path`` (or ``$WEBSHOP_PATH``) on first use and builds
  ``WebAgentTextEnv(observation_mode="text", **kwargs)`` (e.g. ``num_products=1000``,
  ``human_goals=False``; verl-agent's fork also takes ``file_path``/``attr_path``). Blocking
  calls run in a worker thread.
* ``AgentGymWebShop(url="http://127.0.0.1:36001")``: ``agentenv-webshop``'s FastAPI server
  (``/create``, ``/reset``, ``/step``, ``/available_actions``, ``/state``, ``/close``).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from typing import Any

from turnrl.core.types import Observation, Task, Transition
from turnrl.plugins.webshop.sim import MAX_STEPS, REWARDS, SEARCH_PLACEHOLDER, parse_action


def actions_from(available: dict[str, Any]) -> tuple[str, ...]:
    """verl-agent's ``format_avail_actions`` of ``get_available_actions()``."""
    actions = [SEARCH_PLACEHOLDER] if available.get("has_search_bar") else []
    return tuple(actions + [f"click[{c}]" for c in available.get("clickables", [])])


def is_valid(action: str, available: dict[str, Any]) -> bool:
    """Whether ``WebAgentTextEnv.step`` would execute ``action`` on this page."""
    name, arg = parse_action(action)
    if arg is not None:
        arg = arg.lower()
    if name == "search":
        return arg is not None and arg != ""
    return name == "click" and arg in available.get("clickables", []) and arg != "search"


def url_state_key(url: str | None, session: str) -> str:
    """The page URL without the scheme, host and session id (``item_page/B0../kw/1/{...}``)."""
    if not url:
        return "search"
    path = url.split("://", 1)[1].partition("/")[2] if "://" in url else url
    parts = [p for p in path.split("/") if p]
    if parts and parts[0] == session:
        parts = parts[1:]
    elif len(parts) > 1 and parts[1] == session:
        parts = [parts[0], *parts[2:]]
    return "/".join(parts) or "search"


class _Adapter:
    """Shared episode bookkeeping: steps, reward mapping, observations."""

    def __init__(self, *, max_steps: int = MAX_STEPS, reward: str = "score") -> None:
        if max_steps < 1:
            raise ValueError(f"webshop max_steps must be >= 1, got {max_steps}")
        if reward not in REWARDS:
            raise ValueError(f"webshop reward must be one of {list(REWARDS)}, got {reward!r}")
        self.max_steps = max_steps
        self.reward_mode = reward
        self.t = 0
        self.session = ""
        self.available: dict[str, Any] = {}
        self.closed = False

    @staticmethod
    def goal_index(task: Task) -> int:
        index = task.data.get("goal_index")
        if not isinstance(index, int):
            raise ValueError(f"task {task.id} has no integer goal_index for the real WebShop")
        return index

    def transition(self, text: str, score: float, done: bool, valid: bool, url: str | None
                   ) -> Transition:
        won = bool(done and score == 1.0)
        if self.reward_mode == "verl":
            reward = 10.0 if won else 0.0
        else:
            reward = float(score) if done else 0.0
        return Transition(observation=self.observe(text, url), reward=reward, terminated=done,
                          truncated=not done and self.t >= self.max_steps,
                          info={"won": won, "valid_action": valid,
                                "task_score": float(score) if done else 0.0})

    def observe(self, text: str, url: str | None) -> Observation:
        return Observation(text=text, state_key=url_state_key(url, self.session),
                           actions=actions_from(self.available))


class OriginalWebShop(_Adapter):
    """The original ``WebAgentTextEnv`` from a WebShop checkout, one session per episode."""

    def __init__(self, *, webshop_path: str | None = None, max_steps: int = MAX_STEPS,
                 reward: str = "score", **env_kwargs: Any) -> None:
        super().__init__(max_steps=max_steps, reward=reward)
        self.webshop_path = webshop_path or os.environ.get("WEBSHOP_PATH")
        self.env_kwargs = env_kwargs
        self._env: Any = None

    def _make(self) -> Any:
        if self.webshop_path:
            path = os.path.abspath(self.webshop_path)
            if path not in sys.path:
                sys.path.insert(0, path)
        try:
            envs = importlib.import_module("web_agent_site.envs")
        except ImportError as exc:
            raise ImportError("backend 'original' needs a WebShop checkout (pass "
                              "webshop_path=... or set WEBSHOP_PATH) with its dependencies "
                              f"installed: {exc}") from exc
        return envs.WebAgentTextEnv(observation_mode="text", **self.env_kwargs)

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        if self.closed:
            raise RuntimeError("OriginalWebShop.reset called after close()")
        index = self.goal_index(task)
        if self._env is None:
            self._env = await asyncio.to_thread(self._make)
        env = self._env
        obs, _ = await asyncio.to_thread(env.reset, session=index)
        self.session, self.t = str(index), 0
        self.available = await asyncio.to_thread(env.get_available_actions)
        return self.observe(obs, env.state["url"])

    async def step(self, action: str) -> Transition:
        if self._env is None:
            raise RuntimeError("OriginalWebShop.step called before reset()")
        self.t += 1
        valid = is_valid(action, self.available)
        obs, score, done, _ = await asyncio.to_thread(self._env.step, action)
        self.available = await asyncio.to_thread(self._env.get_available_actions)
        return self.transition(obs, score, done, valid, self._env.state["url"])

    async def close(self) -> None:
        if self._env is not None and not self.closed:
            await asyncio.to_thread(self._env.close)
        self.closed = True


class AgentGymWebShop(_Adapter):
    """A client of AgentGym's ``agentenv-webshop`` server (one server-side env per instance)."""

    def __init__(self, *, url: str = "http://127.0.0.1:36001", max_steps: int = MAX_STEPS,
                 reward: str = "score", timeout: float = 60.0) -> None:
        super().__init__(max_steps=max_steps, reward=reward)
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._http: Any = None
        self.env_idx: int | None = None

    async def _call(self, method: str, path: str, **kw: Any) -> Any:
        import aiohttp

        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        try:
            async with self._http.request(method, f"{self.url}{path}", **kw) as resp:
                if resp.status != 200:
                    text = await resp.text()
                    raise RuntimeError(f"AgentGym WebShop server {self.url}{path} answered "
                                       f"{resp.status}: {text[:200]}")
                return await resp.json()
        except aiohttp.ClientConnectionError as exc:
            raise ConnectionError(f"cannot reach the AgentGym WebShop server at {self.url}: "
                                  f"{exc}") from exc

    async def _refresh(self) -> str | None:
        self.available = await self._call("GET", "/available_actions",
                                          params={"env_idx": self.env_idx})
        state = await self._call("GET", "/state", params={"env_idx": self.env_idx})
        return state.get("url")

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        if self.closed:
            raise RuntimeError("AgentGymWebShop.reset called after close()")
        index = self.goal_index(task)
        if self.env_idx is None:
            self.env_idx = int(await self._call("POST", "/create"))
        obs, _ = await self._call("POST", "/reset",
                                  json={"env_idx": self.env_idx, "session_id": index})
        self.session, self.t = str(index), 0
        return self.observe(obs, await self._refresh())

    async def step(self, action: str) -> Transition:
        if self.env_idx is None:
            raise RuntimeError("AgentGymWebShop.step called before reset()")
        self.t += 1
        valid = is_valid(action, self.available)
        out = await self._call("POST", "/step", json={"env_idx": self.env_idx, "action": action})
        url = await self._refresh()
        return self.transition(out["state"], out["reward"], bool(out["done"]), valid, url)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            if self.env_idx is not None:
                await self._call("POST", "/close", json={"env_idx": self.env_idx})
        except (ConnectionError, RuntimeError):
            pass  # the server is gone: nothing left to release there
        finally:
            if self._http is not None:
                await self._http.close()
