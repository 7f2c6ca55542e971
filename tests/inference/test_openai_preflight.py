"""A wrong or unreachable server is refused before the rollout (exit 2 naming the URL); a run
whose every episode failed exits non-zero; retries come from tenacity with jittered exponential
backoff and honour ``Retry-After`` (issue 11 item 5)."""

from __future__ import annotations

import asyncio
import email.utils
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp import web
from tenacity import RetryCallState

from turnrl.cli import main
from turnrl.core.policy import GenerationRequest, SamplingParams
from turnrl.inference.openai import (
    OpenAIPolicy,
    ServerError,
    _Transient,
    _WaitRetryAfterOrJitter,
    retry_after_seconds,
)

MESSAGES = [{"role": "user", "content": "hi"}]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(routes: Callable[[web.Application], None]) -> Iterator[str]:
    """An aiohttp app on 127.0.0.1 in a thread of its own (the CLI runs its own loops)."""
    app = web.Application()
    routes(app)
    port = _free_port()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
def no_models_server() -> Iterator[str]:
    """Something answers on the port, but not an OpenAI-compatible API (404 on /v1/models)."""
    async def root(request: web.Request) -> web.Response:
        return web.Response(text="hi")

    yield from _serve(lambda app: app.router.add_get("/", root))


@pytest.fixture
def refusing_server() -> Iterator[str]:
    """Lists a model, then refuses every completion with HTTP 400 (nothing a retry can fix)."""
    async def models(request: web.Request) -> web.Response:
        return web.json_response({"data": [{"id": "m"}]})

    async def chat(request: web.Request) -> web.Response:
        return web.Response(status=400, text="model 'm' does not support chat")

    def routes(app: web.Application) -> None:
        app.router.add_get("/v1/models", models)
        app.router.add_post("/v1/chat/completions", chat)

    yield from _serve(routes)


def _eval(policy: str, *extra: str) -> int:
    return main(["eval", "toy-env", "--policy", policy, "--limit", "3", "--no-progress",
                 *extra])


def test_unreachable_url_exits_2_at_once_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    t0 = time.perf_counter()
    assert _eval(f"openai:{url}") == 2
    assert time.perf_counter() - t0 < 5  # no per-episode retry rounds
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"no OpenAI-compatible server at {url}/models" in err
    assert "ClientConnectorError" in err


def test_wrong_url_exits_2_naming_it(no_models_server: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert _eval(f"openai:{no_models_server}") == 2
    err = capsys.readouterr().err.strip()
    assert f"{no_models_server}/models answered HTTP 404" in err
    assert len(err.splitlines()) == 1


def test_a_run_whose_every_episode_failed_exits_non_zero(
        refusing_server: str, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert _eval(f"openai:{refusing_server}") == 1
    captured = capsys.readouterr()
    assert "every episode failed (3)" in captured.err
    assert "3 x policy_error" in captured.out
    out = tmp_path / "ro.jsonl"
    assert main(["rollout", "toy-env", "--policy", f"openai:{refusing_server}", "--tasks", "2",
                 "--group-size", "2", "--out", str(out), "--no-progress"]) == 1
    assert "every episode failed (4); most common: 4 x policy_error" in capsys.readouterr().err


def test_model_the_server_does_not_serve_is_refused(refusing_server: str) -> None:
    client = OpenAIPolicy(refusing_server, model="other")
    with pytest.raises(ServerError, match="does not serve model 'other'; it serves m"):
        asyncio.run(client.check())


def test_retry_after_is_honoured_in_seconds_and_as_a_date() -> None:
    hits: list[float] = []

    async def chat(request: web.Request) -> web.Response:
        hits.append(time.monotonic())
        if len(hits) == 1:
            return web.Response(status=429, text="slow down", headers={"Retry-After": "1"})
        if len(hits) == 2:
            when = email.utils.formatdate(time.time() + 2, usegmt=True)
            return web.Response(status=503, text="busy", headers={"Retry-After": when})
        return web.json_response({"choices": [{"message": {"content": "ok"},
                                               "finish_reason": "stop"}]})

    async def go(client: OpenAIPolicy) -> Any:
        try:
            return await client.generate([GenerationRequest(MESSAGES,
                                                            SamplingParams(max_tokens=2))])
        finally:
            await client.close()

    for url in _serve(lambda app: app.router.add_post("/v1/chat/completions", chat)):
        (out,) = asyncio.run(go(OpenAIPolicy(url, model="m", backoff_s=0.001)))
    assert out.text == "ok"
    assert len(hits) == 3
    assert hits[1] - hits[0] >= 0.95  # Retry-After: 1, although backoff_s is 1 ms
    assert hits[2] - hits[1] >= 0.9  # an HTTP date ~2 s ahead (whole seconds: >= 1 s left)


def test_backoff_is_jittered_exponential_and_capped() -> None:
    wait = _WaitRetryAfterOrJitter(backoff_s=0.5, cap=3.0)

    def state(attempt: int, exc: BaseException) -> RetryCallState:
        s = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        s.attempt_number = attempt
        s.set_exception((type(exc), exc, None))
        return s

    for attempt in (1, 2, 3):
        draws = [wait(state(attempt, _Transient("503"))) for _ in range(200)]
        bound = min(3.0, 0.5 * 2 ** (attempt - 1))
        assert all(0 <= d <= bound for d in draws)
        assert len(set(draws)) > 150  # jittered: not one fixed delay
        assert max(draws) > 0.7 * bound  # and it grows with the attempt
    assert max(wait(state(9, _Transient("503"))) for _ in range(200)) <= 3.0
    assert wait(state(1, _Transient("429", retry_after=2.0))) == 2.0
    assert wait(state(1, _Transient("429", retry_after=60.0))) == 3.0  # capped


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    now = time.time()
    assert retry_after_seconds(email.utils.formatdate(now + 30, usegmt=True), now=now) == \
        pytest.approx(30, abs=1)
    assert retry_after_seconds(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0


def test_one_client_serves_successive_rollouts_each_on_its_own_loop() -> None:
    """The trainer runs each rollout in its own ``asyncio.run``: the client must open a fresh
    HTTP session on each new loop (a session is bound to its loop) and close it when the
    rollout ends (``end_rollout``), never reuse one from a closed loop or leak it."""
    async def models(request: web.Request) -> web.Response:
        return web.json_response({"data": [{"id": "m"}]})

    async def completions(request: web.Request) -> web.Response:
        return web.json_response({"choices": [{"message": {"role": "assistant",
                                                           "content": "up"},
                                               "finish_reason": "stop"}]})

    def routes(app: web.Application) -> None:
        app.router.add_get("/v1/models", models)
        app.router.add_post("/v1/chat/completions", completions)

    from turnrl.core.host import get_host
    from turnrl.core.rollout import RolloutConfig, run_groups_sync

    gen = _serve(routes)
    url = next(gen)
    try:
        client = OpenAIPolicy(url, vllm_extras=False)
        tasks = get_host().tasks("toy-env", "train")[:2]
        for seed in range(3):  # three rollouts, three loops, one client
            groups = run_groups_sync("toy-env", tasks, client, group_size=2,
                                     config=RolloutConfig(max_steps=2, seed=seed,
                                                          progress=False))
            eps = [e for g in groups for e in g.episodes]
            assert [e.status for e in eps] == ["truncated"] * 4
            assert all(s.action for e in eps for s in e.steps)
            assert client._session is None  # closed with its loop
    finally:
        gen.close()
