"""Fakes of the real WebShop's interfaces, driven by the offline simulator: the original
``WebAgentTextEnv`` (sync gym-style API) and AgentGym's ``agentenv-webshop`` HTTP server."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import turnrl
from turnrl.plugins.webshop.sim import WebShopSim

GOALS = {t.data["goal_index"]: t for t in turnrl.tasks("webshop", "test")}
ENVS_KEY: Any = None


def envs_key() -> Any:
    global ENVS_KEY
    if ENVS_KEY is None:
        from aiohttp import web

        ENVS_KEY = web.AppKey("envs", dict)
    return ENVS_KEY


class FakeWebAgentTextEnv:
    """``WebAgentTextEnv(observation_mode="text", ...)``'s interface over ``WebShopSim``."""

    def __init__(self, observation_mode: str = "html", **kwargs: Any) -> None:
        assert observation_mode == "text"
        self.kwargs = kwargs
        self.sim = WebShopSim(max_steps=10_000)
        self.closed = 0
        self.reset(session=0)

    def reset(self, session: int | None = None, instruction_text: str | None = None
              ) -> tuple[str, None]:
        obs = asyncio.run(self.sim.reset(GOALS[session or 0]))
        self.text = obs.text
        return obs.text, None

    def step(self, action: str) -> tuple[str, float, bool, None]:
        tr = asyncio.run(self.sim.step(action))
        self.text = tr.observation.text
        return tr.observation.text, tr.info["task_score"], tr.terminated, None

    def get_available_actions(self) -> dict[str, Any]:
        return self.sim.available_actions()

    @property
    def observation(self) -> str:
        return self.text

    @property
    def state(self) -> dict[str, str]:
        return {"url": self.sim.url, "html": "<html/>", "instruction_text": self.sim.instruction}

    def close(self) -> None:
        self.closed += 1


def agentgym_app() -> Any:
    """The server's routes and payloads (agentenv_webshop/server.py, model.py)."""
    from aiohttp import web

    envs: dict[int, FakeWebAgentTextEnv] = {}
    ids = itertools.count(7)
    routes = web.RouteTableDef()

    def env_of(request: web.Request) -> FakeWebAgentTextEnv:
        return envs[int(request.query["env_idx"])]

    @routes.post("/create")
    async def create(request: web.Request) -> web.Response:
        idx = next(ids)
        envs[idx] = await asyncio.to_thread(FakeWebAgentTextEnv, observation_mode="text")
        return web.json_response(idx)

    @routes.post("/reset")
    async def reset(request: web.Request) -> web.Response:
        body = await request.json()
        obs, info = await asyncio.to_thread(envs[body["env_idx"]].reset,
                                            session=body.get("session_id"))
        return web.json_response([obs, info])

    @routes.post("/step")
    async def step(request: web.Request) -> web.Response:
        body = await request.json()
        state, reward, done, info = await asyncio.to_thread(envs[body["env_idx"]].step,
                                                           body["action"])
        return web.json_response({"state": state, "reward": reward, "done": done,
                                  "info": info})

    @routes.get("/available_actions")
    async def available(request: web.Request) -> web.Response:
        return web.json_response(env_of(request).get_available_actions())

    @routes.get("/state")
    async def state(request: web.Request) -> web.Response:
        return web.json_response(env_of(request).state)

    @routes.post("/close")
    async def close(request: web.Request) -> web.Response:
        body = await request.json()
        closed = envs.pop(body["env_idx"], None) is not None
        return web.json_response({"closed": closed})

    app = web.Application()
    app.add_routes(routes)
    app[envs_key()] = envs
    return app
