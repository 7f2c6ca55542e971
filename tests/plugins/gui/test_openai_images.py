"""A gui episode through the OpenAI backend against a local OpenAI-compatible server: every
request carries the step's screenshot as an image content part, and the episode is won."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from tests.plugins.gui.conftest import png_size
from turnrl.core.rollout import RolloutConfig, run_groups
from turnrl.core.types import Observation, Task
from turnrl.inference.openai import OpenAIPolicy
from turnrl.plugins.gui.expert import GuiExpert
from turnrl.plugins.gui.prompt import format_gui
from turnrl.plugins.gui.tasks import make_tasks

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]
SERVED_TASK = Task(env="gui", id="served", data={"type": "click-checkboxes"})


async def _serve(requests: list[dict[str, Any]]) -> tuple[Any, str]:
    """An OpenAI-compatible chat server whose "model" reads the prompt's page text and answers
    with the gui expert's action (so a won episode shows the prompt carried the page)."""
    from aiohttp import web

    async def models(_: web.Request) -> web.Response:
        return web.json_response({"data": [{"id": "vision-model"}]})

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        requests.append(body)
        content = body["messages"][-1]["content"]
        text = "".join(p["text"] for p in content if p["type"] == "text") \
            if isinstance(content, list) else content
        page = text.split("The page now:\n", 1)[1]
        action = GuiExpert(SERVED_TASK).act(Observation(text=page))  # stateless for this type
        reply = format_gui(action)
        return web.json_response({"choices": [{"index": 0, "finish_reason": "stop",
                                               "message": {"role": "assistant",
                                                           "content": reply}}]})

    app = web.Application(client_max_size=20 * 2**20)
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/v1"


@pytest.mark.parametrize("images", [True, False])
def test_episode_through_the_openai_backend_carries_the_screenshot(images: bool) -> None:
    tasks = make_tasks("valid", tasks=["click-checkboxes"], seeds=2)
    requests: list[dict[str, Any]] = []

    async def go():
        runner, url = await _serve(requests)
        policy = OpenAIPolicy(url, vllm_extras=False, images=images, retries=0)
        try:
            return await run_groups("gui", tasks, policy, config=RolloutConfig(
                max_concurrent_episodes=1, model_timeout_s=60))
        finally:
            await policy.close()
            await runner.cleanup()

    groups = asyncio.run(go())
    episodes = [e for g in groups for e in g.episodes]
    assert [e.status for e in episodes] == ["ok", "ok"]
    assert all(e.won for e in episodes)
    steps = [s for e in episodes for s in e.steps]
    assert len(requests) == len(steps) >= 4  # a few boxes to tick, then Submit
    for body, step in zip(requests, steps, strict=True):
        assert body["model"] == "vision-model"
        content = body["messages"][-1]["content"]
        if not images:
            assert isinstance(content, str)
            continue
        kinds = [part["type"] for part in content]
        assert kinds == ["image_url", "text"]
        url = content[0]["image_url"]["url"]
        assert url.startswith("data:image/png;base64,")
        sent = url.split(",", 1)[1]
        assert sent == step.observation.images[0]  # exactly the screenshot of that step
        assert png_size(sent) == (160, 210)
        assert base64.b64decode(sent)[:4] == b"\x89PNG"
        assert "screenshot of the task area is attached" in content[1]["text"]
