"""The in-process vLLM backend against the real engine (``vllm`` tier: runs in the vLLM venv,
``.ci/extra.d/50-vllm.sh``). Expectations come from the HF model with the same weights:
log-probs recomputed by a transformers forward, greedy continuations decoded by ``HFPolicy``."""

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
from turnrl.core.policy import GenerationRequest, SamplingParams, TrainablePolicy
from turnrl.inference.hf import HFPolicy

pytestmark = [pytest.mark.vllm,
              pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::FutureWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

PROMPTS = ["go north", "you are in a grid", "move east then south", "where is the goal ?"]
ENGINE = {"dtype": "float32", "enforce_eager": True, "kv_cache_memory_bytes": 256 << 20,
          "max_model_len": 512}


@pytest.fixture(scope="module")
def engine(tiny_dir: Path) -> Iterator[Any]:
    from turnrl.inference.vllm import VLLMPolicy

    policy = VLLMPolicy(str(tiny_dir), **ENGINE)
    yield policy
    asyncio.run(policy.close())


@pytest.fixture
def fresh_weights(engine: Any, tiny: tuple[Any, Any]) -> Iterator[None]:
    """Every test starts from (and leaves) the saved tiny weights."""
    yield
    engine.load_weights(tiny[0].state_dict(), strict=True)


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def _request(text: str, **sampling: Any) -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "user", "content": text}],
                             sampling=SamplingParams(**sampling))


def _hf_logprobs(model: Any, prompt: list[int], tokens: list[int]) -> list[float]:
    ids = torch.tensor([prompt + tokens])
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), -1)
    return logp[len(prompt) - 1:].gather(1, torch.tensor(tokens)[:, None])[:, 0].tolist()


def _greedy(policy: Any, tok: Any) -> list[list[int]]:
    reqs = [_request(p, max_tokens=6, temperature=0.0) for p in PROMPTS]
    return [c.token_ids for c in _run(policy.generate(reqs))]


def _perturbed(model: Any, seed: int, scale: float = 0.3) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {k: v + scale * torch.randn(v.shape, generator=gen)
            for k, v in model.state_dict().items()}


def test_batched_generation_returns_ids_and_the_models_logprobs(engine: Any,
                                                                tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    assert isinstance(engine, TrainablePolicy)
    reqs = [_request(p, max_tokens=6, temperature=1.0, seed=i) for i, p in enumerate(PROMPTS)]
    reqs.append(GenerationRequest(messages=[], prompt_ids=[2, 5, 6, 7, 3, 2],
                                  sampling=SamplingParams(max_tokens=4, seed=9)))
    out = _run(engine.generate(reqs))
    assert len(out) == len(reqs)
    for req, c in zip(reqs, out, strict=True):
        expected_prompt = req.prompt_ids or render_chat(tok, req.messages)
        assert c.prompt_ids == expected_prompt  # exactly what the engine saw
        assert 1 <= len(c.token_ids) <= req.sampling.max_tokens
        assert len(c.logprobs) == len(c.token_ids)
        # log-probs of the sampled tokens under softmax(logits / T), as a fp32 HF forward says
        assert c.logprobs == pytest.approx(_hf_logprobs(model, c.prompt_ids, c.token_ids),
                                           abs=1e-4)
        assert c.text == tok.decode(c.token_ids, skip_special_tokens=True)
    assert engine.steps > 0


def test_seeds_fix_samples_whatever_the_batch(engine: Any) -> None:
    alone = _run(engine.generate([_request("go north", max_tokens=6, seed=5)]))[0]
    crowd = [_request(p, max_tokens=6, seed=100 + i) for i, p in enumerate(PROMPTS)]
    batch = _run(engine.generate([*crowd, _request("go north", max_tokens=6, seed=5)]))
    assert batch[-1].token_ids == alone.token_ids
    others = {tuple(_run(engine.generate([_request("go north", max_tokens=6, seed=s)]))[0]
                    .token_ids) for s in range(6)}
    assert len(others) > 1  # different seeds sample differently


def test_n_samples_per_request(engine: Any) -> None:
    (samples,) = _run(engine.generate_n([_request("go north", max_tokens=6, seed=20)], 4))
    assert len(samples) == 4
    assert len({tuple(c.token_ids) for c in samples}) > 1
    assert all(len(c.logprobs) == len(c.token_ids) for c in samples)
    # vLLM seeds child i with seed + i: sample i is the single request with that seed
    single = _run(engine.generate([_request("go north", max_tokens=6, seed=21)]))[0]
    assert samples[1].token_ids == single.token_ids


def test_a_request_over_the_model_length_fails_alone(engine: Any) -> None:
    ok = _request("go north", max_tokens=3, seed=1)
    too_long = GenerationRequest(messages=[], prompt_ids=[5] * 600,
                                 sampling=SamplingParams(max_tokens=3))

    async def go() -> list[Any]:
        return await asyncio.gather(engine.generate([ok]), engine.generate([too_long]),
                                    return_exceptions=True)

    good, bad = _run(go())
    assert isinstance(bad, Exception)
    assert "512" in str(bad)
    assert len(good[0].token_ids) >= 1


def test_after_a_push_greedy_decoding_equals_hf(engine: Any, tiny: tuple[Any, Any],
                                                fresh_weights: None) -> None:
    model, tok = tiny
    before = _greedy(engine, tok)
    assert before == _greedy(HFPolicy(copy.deepcopy(model), tok), tok)
    new = _perturbed(model, seed=1)
    engine.load_weights(iter(new.items()), strict=True)  # a lazy stream, like the trainer's
    reference = HFPolicy(copy.deepcopy(model), tok)
    reference.load_weights(new, strict=True)
    after = _greedy(engine, tok)
    assert after == _greedy(reference, tok)
    assert after != before


def _max_logprob_gap(engine: Any, model: Any) -> float:
    """Sample from the engine (T = 1, fixed seeds) and compare every reported log-prob with an
    fp32 HF forward of ``model``: ~1e-6 when both hold the same weights. (On CPU vLLM keeps
    pre-packed copies of the weights, so reading its parameters would prove nothing.)"""
    reqs = [_request(p, max_tokens=6, temperature=1.0, seed=40 + i) for i, p in enumerate(PROMPTS)]
    gaps = [abs(a - b) for c in _run(engine.generate(reqs))
            for a, b in zip(c.logprobs, _hf_logprobs(model, c.prompt_ids, c.token_ids),
                            strict=True)]
    return max(gaps)


def test_a_partial_update_changes_exactly_what_it_names(engine: Any, tiny: tuple[Any, Any],
                                                        fresh_weights: None) -> None:
    model, tok = tiny
    name = "model.layers.0.mlp.down_proj.weight"
    new = model.state_dict()[name] + 0.5
    engine.load_weights({name: new})
    expected = copy.deepcopy(model)
    expected.load_state_dict({**model.state_dict(), name: new})
    assert _max_logprob_gap(engine, expected) < 1e-4  # that tensor changed, and only it
    assert _max_logprob_gap(engine, model) > 1e-2  # the old weights no longer explain it
    other = copy.deepcopy(model)
    other.load_state_dict({**model.state_dict(), name: new,
                           "model.norm.weight": model.state_dict()["model.norm.weight"] * 2})
    assert _max_logprob_gap(engine, other) > 1e-2
    reference = HFPolicy(copy.deepcopy(model), tok)
    reference.load_weights({name: new})
    assert _greedy(engine, tok) == _greedy(reference, tok)


def test_half_a_fused_group_is_refused_and_nothing_changes(engine: Any,
                                                           tiny: tuple[Any, Any]) -> None:
    model, _ = tiny
    q = "model.layers.0.self_attn.q_proj.weight"
    with pytest.raises(ValueError, match=r"fused with .*k_proj\.weight"):
        engine.load_weights({q: model.state_dict()[q] + 1.0})
    with pytest.raises(ValueError, match="strict=True"):
        engine.load_weights({"model.norm.weight": model.state_dict()["model.norm.weight"]},
                            strict=True)
    assert _max_logprob_gap(engine, model) < 1e-4


def test_trainer_push_reaches_the_engine(engine: Any, tiny: tuple[Any, Any],
                                         fresh_weights: None) -> None:
    from turnrl.trainers.fsdp import LogProbModel
    from turnrl.trainers.weight_push import push_weights

    model, tok = tiny
    trainer = LogProbModel(copy.deepcopy(model).train())
    trainer.lm.load_state_dict(_perturbed(model, seed=3))
    push_weights(trainer, engine)
    assert _greedy(engine, tok) == _greedy(HFPolicy(copy.deepcopy(trainer.lm).eval(), tok), tok)


def test_unloadable_models_are_one_line_errors(tmp_path: Path, tiny_dir: Path) -> None:
    from turnrl.inference.vllm import EngineStartError, VLLMPolicy

    broken = tmp_path / "broken"
    broken.mkdir()
    config = json.loads((tiny_dir / "config.json").read_text())
    (broken / "config.json").write_text(json.dumps({**config, "architectures": ["NoSuchLM"],
                                                    "model_type": "nosuch"}))
    with pytest.raises(EngineStartError, match=r"vLLM could not load .*broken"):
        VLLMPolicy(str(broken), **ENGINE)
    narrow = tmp_path / "narrow"
    narrow.mkdir()
    (narrow / "config.json").write_text(json.dumps({**config, "num_attention_heads": 4,
                                                    "num_key_value_heads": 2, "head_dim": 16}))
    with pytest.raises(EngineStartError, match="heads of size 16"):
        VLLMPolicy(str(narrow), **ENGINE)


def test_cli_eval_with_the_vllm_backend(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "turnrl.cli", "eval", "toy-env", "--policy", "vllm:tiny",
         "--limit", "4", "--max-tokens", "4", "--no-progress", "--out", str(tmp_path / "ev")],
        capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert metrics["episodes"] == 4
    assert metrics["errors"] == 0
