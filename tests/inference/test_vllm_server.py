"""``OpenAIPolicy`` against a real vLLM OpenAI server started here on 127.0.0.1 (``vllm`` tier):
completions with prompt token ids, ``return_tokens_as_token_ids``, log-probs, seeds, chat
completions with log-probs, the weight push through a shared directory and vLLM's dev-mode
``/collective_rpc`` reload, and ``turnrl eval ... --policy openai:URL`` end to end."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from turnrl.core.context import render_chat
from turnrl.core.policy import GenerationRequest, SamplingParams
from turnrl.inference.hf import HFPolicy
from turnrl.inference.openai import OpenAIPolicy

pytestmark = [pytest.mark.vllm, pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

PROMPTS = ["go north", "you are in a grid", "move east then south"]


@pytest.fixture(scope="module")
def server(tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from turnrl.inference.vllm_server import VLLMServer

    log = tmp_path_factory.mktemp("vllm-server") / "server.log"
    with VLLMServer(tiny_dir, log_path=log, ready_timeout_s=600) as srv:
        yield srv


def _request(text: str, **sampling: Any) -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "user", "content": text}],
                             sampling=SamplingParams(**sampling))


def _hf_logprobs(model: Any, prompt: list[int], tokens: list[int]) -> list[float]:
    ids = torch.tensor([prompt + tokens])
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), -1)
    return logp[len(prompt) - 1:].gather(1, torch.tensor(tokens)[:, None])[:, 0].tolist()


def _generate(policy: OpenAIPolicy, reqs: list[GenerationRequest]) -> list[Any]:
    async def go() -> list[Any]:
        try:
            return await policy.generate(reqs)
        finally:
            await policy.close()

    return asyncio.run(go())


def test_completions_with_prompt_ids_token_ids_and_logprobs(server: Any, tiny: tuple[Any, Any],
                                                            tiny_dir: Path) -> None:
    model, tok = tiny
    policy = OpenAIPolicy(server.url, tokenizer=str(tiny_dir))  # renders here: /completions
    reqs = [_request(p, max_tokens=5, temperature=1.0, seed=i) for i, p in enumerate(PROMPTS)]
    out = _generate(policy, reqs)
    for req, c in zip(reqs, out, strict=True):
        assert c.prompt_ids == render_chat(tok, req.messages)
        assert c.token_ids
        assert len(c.logprobs) == len(c.token_ids)
        assert c.logprobs == pytest.approx(_hf_logprobs(model, c.prompt_ids, c.token_ids),
                                           abs=1e-4)


def test_seeds_reproduce_and_differ(server: Any, tiny_dir: Path) -> None:
    policy = OpenAIPolicy(server.url, tokenizer=str(tiny_dir))
    reqs = [_request("go north", max_tokens=6, seed=s) for s in (7, 7, 8, 9, 10, 11)]
    out = [tuple(c.token_ids) for c in _generate(policy, reqs)]
    assert out[0] == out[1]
    assert len(set(out[1:])) > 1


def test_chat_completions_with_logprobs(server: Any, tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    policy = OpenAIPolicy(server.url)  # no tokenizer: the server renders the chat template
    (c,) = _generate(policy, [_request("go north", max_tokens=5, seed=3)])
    assert c.token_ids
    assert len(c.logprobs) == len(c.token_ids)
    prompt = render_chat(tok, [{"role": "user", "content": "go north"}])
    if c.prompt_ids:
        assert c.prompt_ids == prompt
    assert c.logprobs == pytest.approx(_hf_logprobs(model, prompt, c.token_ids), abs=1e-4)


def test_weight_push_through_a_shared_directory(server: Any, tiny: tuple[Any, Any],
                                                tmp_path: Path) -> None:
    model, tok = tiny
    gen = torch.Generator().manual_seed(5)
    new = {k: v + 0.3 * torch.randn(v.shape, generator=gen)
           for k, v in model.state_dict().items()}
    reference = HFPolicy(copy.deepcopy(model), tok)
    reference.load_weights(new, strict=True)
    greedy = [_request(p, max_tokens=6, temperature=0.0) for p in PROMPTS]

    async def ref() -> list[list[int]]:
        return [c.token_ids for c in await reference.generate(greedy)]

    policy = OpenAIPolicy(server.url, tokenizer=tok, weights_dir=str(tmp_path / "shared"),
                          weight_reload="vllm")
    before = [c.token_ids for c in _generate(policy, greedy)]
    try:
        policy.load_weights(new)  # the sync contract: writes, then /collective_rpc reload
        after = [c.token_ids for c in _generate(policy, greedy)]
        assert after == asyncio.run(ref())
        assert after != before
    finally:
        policy.load_weights(model.state_dict())  # leave the server as the other tests expect
    assert [c.token_ids for c in _generate(policy, greedy)] == before


def test_turnrl_eval_against_the_server(server: Any, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "turnrl.cli", "eval", "toy-env", "--policy",
         f"openai:{server.url}", "--limit", "4", "--max-tokens", "4", "--no-progress",
         "--out", str(tmp_path / "ev")],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert metrics["episodes"] == 4
    assert metrics["errors"] == 0
    episodes = [json.loads(line) for line in
                (tmp_path / "ev" / "episodes.jsonl").read_text().splitlines() if line.strip()]
    steps = [s for e in episodes for s in e["steps"]]
    assert steps
    assert all(s["response_ids"] and len(s["response_logprobs"]) ==
                         len(s["response_ids"]) for s in steps)


def test_tokens_come_back_as_token_ids(server: Any, tiny: tuple[Any, Any]) -> None:
    """The raw answer to the fields OpenAIPolicy sends: ``token_id:<id>`` tokens whose ids and
    log-probs are the ones the client parses (``_from_completion``)."""
    import aiohttp

    from turnrl.inference.openai import _from_completion

    _, tok = tiny
    prompt = render_chat(tok, [{"role": "user", "content": "go north"}])
    body = {"model": server.model, "prompt": prompt, "max_tokens": 5, "seed": 4, "logprobs": 0,
            "return_tokens_as_token_ids": True, "include_stop_str_in_output": True}

    async def go() -> dict[str, Any]:
        async with aiohttp.ClientSession() as session, \
                session.post(server.url + "/completions", json=body) as resp:
            assert resp.status == 200
            return await resp.json()

    data = asyncio.run(go())
    choice = data["choices"][0]
    tokens = choice["logprobs"]["tokens"]
    assert tokens
    assert all(t.startswith("token_id:") for t in tokens)
    parsed = _from_completion(choice, prompt, data)  # without return_token_ids: from the tokens
    assert parsed.token_ids == [int(t.split(":", 1)[1]) for t in tokens]
    assert parsed.logprobs == choice["logprobs"]["token_logprobs"]
