"""A small OpenAI-compatible HTTP server over an ``HFPolicy`` (aiohttp).

It implements the subset of vLLM's API that ``OpenAIPolicy`` uses (``GET /v1/models``,
``POST /v1/completions`` with a text or token-id prompt, ``POST /v1/chat/completions``), including
vLLM's ``return_tokens_as_token_ids`` and ``return_token_ids`` extras, and the weight-reload
endpoint ``POST /update_weights_from_disk {"model_path": DIR}`` (see ``weight_sync.py``).
It exists so the ``openai`` client is tested end to end over real HTTP on 127.0.0.1, and so a
CPU box can serve the tiny model to other processes:
``python -m turnrl.inference.serve MODEL_DIR --port 8000``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import time
from collections.abc import Sequence
from typing import Any

from turnrl.core.policy import Completion, GenerationRequest, SamplingParams


def build_app(policy: Any, *, model_name: str = "turnrl-tiny",
              middlewares: Sequence[Any] = ()) -> Any:
    """The aiohttp application; requests are served concurrently and batched by the policy.
    ``middlewares`` wrap every handler (tests inject faults with one)."""
    from aiohttp import web

    async def models(_: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [
            {"id": model_name, "object": "model", "owned_by": "turnrl"}]})

    async def completions(request: web.Request) -> web.Response:
        body = await _json(request)
        prompt = body.get("prompt")
        if isinstance(prompt, list) and prompt and isinstance(prompt[0], int):
            req = GenerationRequest(messages=[], prompt_ids=[int(x) for x in prompt],
                                    sampling=_sampling(body))
        elif isinstance(prompt, str):
            ids = policy.tokenizer(prompt, add_special_tokens=False)["input_ids"]
            req = GenerationRequest(messages=[], prompt_ids=list(ids), sampling=_sampling(body))
        else:
            raise web.HTTPBadRequest(text="prompt must be a string or a list of token ids")
        (c,) = await policy.generate([req])
        choice: dict[str, Any] = {"index": 0, "text": c.text, "finish_reason": c.finish_reason,
                                  "logprobs": _completion_logprobs(policy, c, body)}
        if body.get("return_token_ids"):
            choice.update(token_ids=c.token_ids, prompt_token_ids=c.prompt_ids)
        return web.json_response(_envelope("text_completion", body, model_name, choice, c))

    async def reload_weights(request: web.Request) -> web.Response:
        from turnrl.inference.weight_sync import read_weights

        body = await _json(request)
        path = body.get("model_path")
        if not isinstance(path, str) or not path:
            raise web.HTTPBadRequest(text="model_path must be a directory path")
        try:
            state = read_weights(path)
        except FileNotFoundError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc
        # load_weights takes the policy's lock: it waits for the batch in flight; a directory
        # is a whole checkpoint, so every tensor must be there (strict)
        try:
            await asyncio.get_running_loop().run_in_executor(
                None, functools.partial(policy.load_weights, state, strict=True))
        except ValueError as exc:  # names missing / unexpected tensors
            raise web.HTTPBadRequest(text=str(exc)) from exc
        return web.json_response({"success": True, "model_path": path, "tensors": len(state)})

    async def chat(request: web.Request) -> web.Response:
        body = await _json(request)
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise web.HTTPBadRequest(text="messages must be a non-empty list")
        (c,) = await policy.generate([GenerationRequest(messages=messages,
                                                        sampling=_sampling(body))])
        choice: dict[str, Any] = {
            "index": 0, "finish_reason": c.finish_reason,
            "message": {"role": "assistant", "content": c.text},
            "logprobs": ({"content": [
                {"token": _token_text(policy, t, body), "logprob": lp, "top_logprobs": []}
                for t, lp in zip(c.token_ids, c.logprobs, strict=True)]}
                if body.get("logprobs") else None),
        }
        if body.get("return_token_ids"):
            choice.update(token_ids=c.token_ids, prompt_token_ids=c.prompt_ids)
        return web.json_response(_envelope("chat.completion", body, model_name, choice, c))

    app = web.Application(middlewares=list(middlewares))
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/completions", completions)
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/update_weights_from_disk", reload_weights)
    return app


async def _json(request: Any) -> dict[str, Any]:
    from aiohttp import web

    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="request body is not JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="request body must be a JSON object")
    return body


def _sampling(body: dict[str, Any]) -> SamplingParams:
    from aiohttp import web

    stop = body.get("stop") or ()
    try:
        return SamplingParams(
            max_tokens=int(body.get("max_tokens", 16)),
            temperature=float(body.get("temperature", 1.0)),
            top_p=float(body.get("top_p", 1.0)), top_k=int(body.get("top_k", -1)),
            stop=(stop,) if isinstance(stop, str) else tuple(stop),
            seed=body.get("seed"))
    except (TypeError, ValueError) as exc:
        raise web.HTTPBadRequest(text=f"bad sampling parameters: {exc}") from None


def _token_text(policy: Any, token_id: int, body: dict[str, Any]) -> str:
    if body.get("return_tokens_as_token_ids"):
        return f"token_id:{token_id}"
    return str(policy.tokenizer.convert_ids_to_tokens(token_id))


def _completion_logprobs(policy: Any, c: Completion, body: dict[str, Any]) -> Any:
    if body.get("logprobs") is None:
        return None
    return {"tokens": [_token_text(policy, t, body) for t in c.token_ids],
            "token_logprobs": list(c.logprobs), "top_logprobs": None, "text_offset": []}


def _envelope(kind: str, body: dict[str, Any], model: str, choice: dict[str, Any],
              c: Completion) -> dict[str, Any]:
    return {"id": f"cmpl-{time.monotonic_ns()}", "object": kind, "created": int(time.time()),
            "model": body.get("model") or model, "choices": [choice],
            "usage": {"prompt_tokens": len(c.prompt_ids), "completion_tokens": len(c.token_ids),
                      "total_tokens": len(c.prompt_ids) + len(c.token_ids)}}


async def start_server(policy: Any, *, host: str = "127.0.0.1", port: int = 0,
                       model_name: str = "turnrl-tiny") -> tuple[Any, str]:
    """Start serving in the running loop; returns ``(runner, base_url)``. Stop with
    ``await runner.cleanup()``. ``port=0`` picks a free port."""
    from aiohttp import web

    runner = web.AppRunner(build_app(policy, model_name=model_name), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = site._server.sockets if site._server is not None else []  # the bound port
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, f"http://{host}:{bound}/v1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", help="directory written by save_pretrained (e.g. save_tiny)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    from turnrl.inference.hf import HFPolicy

    policy = HFPolicy.from_pretrained(args.model)

    async def run() -> None:
        runner, url = await start_server(policy, host=args.host, port=args.port)
        print(f"serving {args.model} at {url}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
