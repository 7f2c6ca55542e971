"""Rollout backends side by side: the same tiny model and episodes through ``hf`` (in-process
transformers), ``vllm`` (in-process engine) and ``openai`` (a vLLM OpenAI server on loopback).

    python benchmarks/rollout_backends.py [--groups 8] [--group-size 8] [--requests 64]
        [--gen-tokens 32] [--pushes 3] [--backends hf,vllm,openai]

Needs vLLM (run it with the vLLM venv's python; README "vLLM rollouts"). Per backend, in one
process and one run:

* start: seconds to a ready backend (hf: ``from_pretrained``; vllm: engine built; openai:
  server process launched until ``/v1/models`` answers);
* episodes: ``groups x group_size`` toy-env episodes with the quickstart's rollout settings
  (temperature 1, 4 tokens per reply, up to 10 turns): episodes/s and generated tokens/s;
* generate: ``--requests`` concurrent requests of ``--gen-tokens`` tokens each (``ignore_eos``
  is not portable, so tokens actually generated are counted): generated tokens/s;
* push: mean seconds of ``load_weights`` with a full set of new weights (hf: in place; vllm:
  ``reload_weights`` in buckets; openai: safetensors to a shared directory + ``/collective_rpc``).

Prints absolute numbers with the machine named and ratios to ``hf`` measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

ENGINE = {"dtype": "float32", "enforce_eager": True, "kv_cache_memory_bytes": 256 << 20,
          "max_model_len": 1024}


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} (no GPU)"


def build_model_dir(out: Path) -> Path:
    from turnrl.inference.tiny import save_tiny

    return save_tiny("toy-env", out, tasks_per_split=8)


def start_backend(name: str, model_dir: Path, work: Path) -> tuple[Any, Any, float]:
    """``(policy, closer, start seconds)``."""
    t0 = time.perf_counter()
    if name == "hf":
        from turnrl.inference.hf import HFPolicy

        policy = HFPolicy.from_pretrained(str(model_dir))
        return policy, None, time.perf_counter() - t0
    if name == "vllm":
        from turnrl.inference.vllm import VLLMPolicy

        policy = VLLMPolicy(str(model_dir), **ENGINE)
        return policy, None, time.perf_counter() - t0
    from turnrl.inference.openai import OpenAIPolicy
    from turnrl.inference.vllm_server import VLLMServer

    work.mkdir(parents=True, exist_ok=True)
    server = VLLMServer(model_dir, log_path=work / "server.log", ready_timeout_s=900).start()
    policy = OpenAIPolicy(server.url, tokenizer=str(model_dir), weights_dir=str(work / "push"),
                          weight_reload="vllm")
    return policy, server, server.start_s


def play_episodes(policy: Any, groups: int, group_size: int) -> tuple[float, float, int]:
    """``(episodes/s, generated tokens/s, episodes)`` on toy-env train tasks."""
    from turnrl.core.host import get_host
    from turnrl.core.policy import SamplingParams
    from turnrl.core.rollout import RolloutConfig, run_groups

    host = get_host()
    tasks = host.tasks("toy-env", "train")[:groups]
    config = RolloutConfig(max_steps=10, history_length=0, template="plain", seed=1,
                           sampling=SamplingParams(max_tokens=4, temperature=1.0),
                           progress=False)

    async def go() -> tuple[list[Any], float]:
        t0 = time.perf_counter()
        played = await run_groups("toy-env", tasks, policy, group_size=group_size,
                                  config=config, host=host)
        wall = time.perf_counter() - t0
        await _close_http(policy)
        return played, wall

    played, wall = asyncio.run(go())
    eps = [e for g in played for e in g.episodes]
    tokens = sum(len(s.response_ids) for e in eps for s in e.steps)
    failed = sum(e.status != "ok" and e.status != "truncated" for e in eps)
    if failed:
        raise RuntimeError(f"{failed} episodes failed: {[e.error for e in eps][:2]}")
    return len(eps) / wall, tokens / wall, len(eps)


async def _close_http(policy: Any) -> None:
    """An ``OpenAIPolicy``'s HTTP session belongs to the event loop that opened it: close it
    before that loop ends (each measurement here runs in its own ``asyncio.run``)."""
    if type(policy).__name__ == "OpenAIPolicy":
        await policy.close()


def raw_generate(policy: Any, requests: int, gen_tokens: int) -> float:
    from turnrl.core.policy import GenerationRequest, SamplingParams

    reqs = [GenerationRequest(messages=[{"role": "user", "content": f"go north {i}"}],
                              sampling=SamplingParams(max_tokens=gen_tokens, temperature=1.0,
                                                      seed=i)) for i in range(requests)]

    async def go() -> tuple[float, int]:
        t0 = time.perf_counter()
        out = await policy.generate(reqs)
        wall = time.perf_counter() - t0
        await _close_http(policy)
        return wall, sum(len(c.token_ids) for c in out)

    wall, tokens = asyncio.run(go())
    return tokens / wall


def push_times(policy: Any, model_dir: Path, pushes: int) -> float:
    import torch
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    times = []
    for k in range(pushes):
        gen = torch.Generator().manual_seed(k)
        state = {n: v + 0.01 * torch.randn(v.shape, generator=gen)
                 for n, v in base.state_dict().items()}
        t0 = time.perf_counter()
        policy.load_weights(state, strict=True)
        times.append(time.perf_counter() - t0)
    policy.load_weights(base.state_dict(), strict=True)
    return statistics.fmean(times)


def close(policy: Any, server: Any) -> None:
    asyncio.run(policy.close())
    if server is not None:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=8)
    ap.add_argument("--group-size", type=int, default=8)
    ap.add_argument("--requests", type=int, default=64)
    ap.add_argument("--gen-tokens", type=int, default=32)
    ap.add_argument("--pushes", type=int, default=3)
    ap.add_argument("--backends", default="hf,vllm,openai")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="turnrl-bench-backends-"))
    model_dir = build_model_dir(work / "model")
    print(f"machine: {machine()}; tiny toy-env model, fp32; "
          f"{args.groups}x{args.group_size} episodes, {args.requests} requests x "
          f"{args.gen_tokens} tokens, {args.pushes} pushes")
    rows: dict[str, dict[str, float]] = {}
    for name in [b.strip() for b in args.backends.split(",") if b.strip()]:
        policy, server, start_s = start_backend(name, model_dir, work / name)
        try:
            play_episodes(policy, 1, 2)  # warm-up (first-call compilation, connections)
            eps_s, ep_tok_s, n = play_episodes(policy, args.groups, args.group_size)
            gen_tok_s = raw_generate(policy, args.requests, args.gen_tokens)
            push_s = push_times(policy, model_dir, args.pushes)
        finally:
            close(policy, server)
        rows[name] = {"start_s": start_s, "episodes_s": eps_s, "episode_tok_s": ep_tok_s,
                      "gen_tok_s": gen_tok_s, "push_s": push_s}
        print(f"{name:>7}: start {start_s:6.1f} s | episodes {eps_s:6.2f}/s "
              f"({ep_tok_s:7.1f} tok/s, {n} eps) | generate {gen_tok_s:7.1f} tok/s | "
              f"push {push_s * 1000:7.1f} ms", flush=True)
    if "hf" in rows:
        base = rows["hf"]
        print("ratios to hf (same run): " + "; ".join(
            f"{name}: episodes/s x{r['episodes_s'] / base['episodes_s']:.2f}, "
            f"generate tok/s x{r['gen_tok_s'] / base['gen_tok_s']:.2f}, "
            f"push x{r['push_s'] / base['push_s']:.2f}, start x{r['start_s'] / base['start_s']:.1f}"
            for name, r in rows.items() if name != "hf"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
