"""The adapters against fakes of the real interfaces (the real ones cannot run here: see
adapters.py). Parity: the same actions through an adapter and through the simulator give the
same text, admissible actions, rewards and ends."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

import turnrl
from turnrl.core.types import Task
from turnrl.plugins.webshop.adapters import (
    AgentGymWebShop,
    OriginalWebShop,
    is_valid,
    url_state_key,
)
from turnrl.plugins.webshop.expert import WebShopExpert, unreachable
from turnrl.plugins.webshop.sim import WebShopSim

from .fakes import GOALS, agentgym_app, envs_key


def expert_script(task: Task) -> list[str]:
    """The expert's actions on the simulator, plus two invalid ones."""
    async def play() -> list[str]:
        env, expert = WebShopSim(), WebShopExpert(task)
        obs, actions = await env.reset(task), ["click[search]", "nonsense"]
        for a in actions:
            obs = (await env.step(a)).observation
        while True:
            actions.append(expert.act(obs))
            tr = await env.step(actions[-1])
            obs = tr.observation
            if tr.done:
                return actions
    return asyncio.run(play())


async def trace(env: Any, task: Task, actions: list[str]) -> list[tuple]:
    obs = await env.reset(task)
    out: list[tuple] = [(obs.text, obs.actions)]
    for a in actions:
        tr = await env.step(a)
        out.append((tr.observation.text, tr.observation.actions, tr.reward, tr.terminated,
                    tr.truncated, tr.info["won"], tr.info["valid_action"], tr.info["task_score"]))
    await env.close()
    return out


def index_task(task: Task) -> Task:
    return Task(env="webshop", id=f"idx-{task.id}", split="test", seed=0,
                data={"goal_index": task.data["goal_index"]})


WON = next(t for t in GOALS.values() if not unreachable(t.data["goal"]))
LOST = next(t for t in GOALS.values() if unreachable(t.data["goal"]))


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake WebShop checkout: ``web_agent_site.envs.WebAgentTextEnv`` is the fake."""
    pkg = tmp_path / "web_agent_site" / "envs"
    pkg.mkdir(parents=True)
    (tmp_path / "web_agent_site" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text(
        "from tests.plugins.webshop.fakes import FakeWebAgentTextEnv as WebAgentTextEnv\n")
    for name in [m for m in sys.modules if m.startswith("web_agent_site")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "path", list(sys.path))
    return tmp_path


@pytest.mark.parametrize("task", [WON, LOST], ids=["won", "unreachable"])
def test_original_adapter_matches_the_simulator(checkout: Path, task: Task) -> None:
    actions = expert_script(task)
    want = asyncio.run(trace(WebShopSim(), task, actions))
    env = turnrl.make("webshop", backend="original", webshop_path=str(checkout),
                      num_products=1000)
    got = asyncio.run(trace(env, index_task(task), actions))
    assert got == want
    assert got[-1][5] is (task is WON)
    assert env._env.closed == 1
    assert env._env.kwargs == {"num_products": 1000}


def test_original_adapter_verl_reward_and_truncation(checkout: Path) -> None:
    actions = expert_script(WON)
    env = OriginalWebShop(webshop_path=str(checkout), reward="verl")
    assert asyncio.run(trace(env, index_task(WON), actions))[-1][2] == 10.0
    short = OriginalWebShop(webshop_path=str(checkout), max_steps=2)
    out = asyncio.run(trace(short, index_task(WON), ["click[search]", "nonsense"]))
    assert out[-1][4] is True  # truncated


def test_original_adapter_without_a_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBSHOP_PATH", raising=False)
    for name in [m for m in sys.modules if m.startswith("web_agent_site")]:
        monkeypatch.delitem(sys.modules, name)
    env = OriginalWebShop()
    with pytest.raises(ImportError, match="needs a WebShop checkout"):
        asyncio.run(env.reset(index_task(WON)))
    with pytest.raises(ValueError, match="no integer goal_index"):
        asyncio.run(OriginalWebShop().reset(WON.__class__(env="webshop", id="x")))


async def with_server(body: Any) -> Any:
    from aiohttp import web

    app = agentgym_app()
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        return await body(f"http://127.0.0.1:{port}", app)
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("task", [WON, LOST], ids=["won", "unreachable"])
def test_agentgym_adapter_matches_the_simulator(task: Task) -> None:
    actions = expert_script(task)
    want = asyncio.run(trace(WebShopSim(), task, actions))

    async def body(url: str, app: Any) -> Any:
        env = turnrl.make("webshop", backend="agentgym", url=url)
        got = await trace(env, index_task(task), actions)
        assert app[envs_key()] == {}  # close() released the server-side env
        return got

    assert asyncio.run(with_server(body)) == want


def test_agentgym_adapter_unreachable_server() -> None:
    env = AgentGymWebShop(url="http://127.0.0.1:9", timeout=5)

    async def body() -> None:
        try:
            await env.reset(index_task(WON))
        finally:
            await env.close()

    with pytest.raises(ConnectionError, match="cannot reach the AgentGym WebShop server"):
        asyncio.run(body())


def test_agentgym_adapter_in_a_rollout() -> None:
    """The engine plays index tasks through the adapter; scripted random actions."""
    from turnrl.core.rollout import RolloutConfig, run_groups

    async def body(url: str, app: Any) -> Any:
        from turnrl.inference.scripted import make_scripted_policy

        tasks = [index_task(t) for t in list(GOALS.values())[:2]]
        policy = make_scripted_policy("random")
        cfg = RolloutConfig(max_steps=4, env_options={"backend": "agentgym", "url": url})
        return await run_groups("webshop", tasks, policy, group_size=2, config=cfg)

    groups = asyncio.run(with_server(body))
    assert all(e.status in ("ok", "truncated") for g in groups for e in g.episodes)


def test_helpers() -> None:
    available = {"has_search_bar": False, "clickables": ["back to search", "b0x"]}
    assert is_valid("click[B0X]", available)
    assert not is_valid("click[search]", {"has_search_bar": True, "clickables": ["search"]})
    assert is_valid("search[x]", available)
    assert not is_valid("search[]", available)
    assert url_state_key("http://127.0.0.1:3000/item_page/42/B0X/a+b/1/{}", "42") == \
        "item_page/B0X/a+b/1/{}"
    assert url_state_key("/42", "42") == "search"
    assert url_state_key(None, "1") == "search"
