"""One PPO update on a randomly initialised Qwen2.5-1.5B-shape model: tokens/s, MFU, peak memory.

    python benchmarks/trainer_gpu.py --json runs/trainer_gpu.json          # needs CUDA
    python benchmarks/trainer_gpu.py --dry-run                             # tiny shape, CPU

Four cells on the same fixed batch, in one process: {fused log-prob (turnrl.kernels), full
``[B, L, V]`` logits} x {activation checkpointing off, on}. The model goes through the trainer's
own ``shard`` (a one-rank process group, so FSDP2's bf16 mixed precision applies exactly as under
``torchrun``), and one ``optimizer_step`` (forward, clipped PPO loss, backward, grad clip, AdamW)
is timed after a warm-up step.

MFU counts the useful work of the step the same way for every cell, so wasted work (the
full-logits path projects every prompt token onto the vocabulary) shows as lost MFU:
``6 * (P_body * T + H * V * T_resp) + 6 * layers * H * sum(len^2) / 2`` FLOPs, where ``P_body``
is the parameter count without the embedding and LM head, ``T`` all tokens, ``T_resp`` the
response tokens (the only ones whose log-probs the loss needs) and the last term causal attention
(PaLM's estimate, halved for the causal mask). Peak: 989 dense bf16 TFLOP/s (H100 SXM / H200).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import sys
import time
from pathlib import Path
from typing import Any

import torch

PEAK_TFLOPS = 989.0
SHAPES: dict[str, dict[str, int]] = {
    # Qwen2.5-1.5B's config (hidden, MLP, layers, heads, KV heads, vocabulary)
    "qwen2.5-1.5b": {"hidden_size": 1536, "intermediate_size": 8960, "num_hidden_layers": 28,
                     "num_attention_heads": 12, "num_key_value_heads": 2,
                     "vocab_size": 151936},
    "tiny": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
             "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 512},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _one_rank_group(device_type: str) -> None:
    """A world of one: the trainer's FSDP2 path (mixed precision) needs a process group."""
    import torch.distributed as dist

    if dist.is_initialized():
        return
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(_free_port()))
    dist.init_process_group("nccl" if device_type == "cuda" else "gloo", rank=0, world_size=1)


def build(shape: str, seed: int = 0, device: Any = None) -> Any:
    """The random model, initialised on ``device`` (1.5B parameters initialise in seconds on a
    GPU, not the tens of seconds the CPU takes: four cells build one each)."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    cfg = Qwen2Config(**SHAPES[shape], max_position_embeddings=4096, tie_word_embeddings=False,
                      attn_implementation="sdpa")
    with torch.random.fork_rng(devices=[]), torch.device(device or "cpu"):
        torch.manual_seed(seed)
        return Qwen2ForCausalLM(cfg)


def batch(rows: int, prompt: int, response: int, vocab: int, seed: int = 0) -> list[Any]:
    from turnrl.trainers.batch import TokenRow

    rng = random.Random(seed)
    out = []
    for _ in range(rows):
        ids = tuple(rng.randrange(1, vocab) for _ in range(prompt + response))
        out.append(TokenRow(ids, prompt, tuple(-rng.uniform(0.1, 3.0) for _ in range(response)),
                            rng.uniform(-1, 1)))
    return out


def model_flops(lm: Any, data: list[Any]) -> float:
    cfg = lm.config
    h, v, layers = cfg.hidden_size, cfg.vocab_size, cfg.num_hidden_layers
    total = sum(p.numel() for p in lm.parameters())
    body = total - 2 * v * h  # untied embedding and LM head
    tokens = sum(len(r.ids) - 1 for r in data)
    resp = sum(r.n_response for r in data)
    attn = sum((len(r.ids) - 1) ** 2 for r in data) * layers * h * 6 / 2
    return 6.0 * (body * tokens + h * v * resp) + attn


class FullLogits(torch.nn.Module):
    """The usual path: ``[B, L, V]`` logits -> log_softmax -> gather and entropy."""

    def __init__(self, lm: torch.nn.Module, temperature: float = 1.0) -> None:
        super().__init__()
        self.lm = lm
        self.temperature = temperature

    def forward(self, ids, attn, targets, mask):  # type: ignore[no-untyped-def]
        logits = self.lm(input_ids=ids, attention_mask=attn, use_cache=False).logits
        logp_all = torch.log_softmax(logits.float() / self.temperature, -1)
        logp = logp_all.gather(-1, targets[..., None]).squeeze(-1) * mask
        ent = -(logp_all.exp() * logp_all).sum(-1) * mask
        return logp, ent


def cell(path: str, checkpointing: bool, args: argparse.Namespace, data: list[Any],
         device: Any) -> dict[str, Any]:
    from turnrl.trainers.config import LossConfig
    from turnrl.trainers.fsdp import DistInfo, LogProbModel, shard
    from turnrl.trainers.update import micro_batches, optimizer_step, ppo_token_loss

    info = DistInfo(0, 1, device, True)
    lm = build(args.shape, device=device)
    wrapped = (LogProbModel(lm, kernel_backend="auto") if path == "fused"
               else FullLogits(lm))
    model = shard(wrapped, info, mixed_precision=True, activation_checkpointing=checkpointing)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    mbs = micro_batches(data, list(range(len(data))), args.micro_batch_tokens, info)
    loss = ppo_token_loss(LossConfig())
    flops = model_flops(lm, data)
    cuda = device.type == "cuda"
    times: list[float] = []
    peak = None
    try:
        for i in range(args.repeats + 1):  # the first step warms up (kernels compile, allocator)
            if cuda:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            t0 = time.perf_counter()
            optimizer_step(model, opt, sched, mbs, loss, agg="token-mean", max_grad_norm=1.0,
                           info=info)
            if cuda:
                torch.cuda.synchronize()
                peak = torch.cuda.max_memory_allocated() / 2**30
            if i:
                times.append(time.perf_counter() - t0)
    except torch.cuda.OutOfMemoryError:
        return {"path": path, "checkpointing": checkpointing, "status": "OOM"}
    finally:
        del model, opt
        if cuda:
            torch.cuda.empty_cache()
    sec = min(times)
    tokens = sum(len(r.ids) - 1 for r in data)
    tflops = flops / sec / 1e12
    return {"path": path, "checkpointing": checkpointing, "status": "ok", "step_s": sec,
            "tokens_per_s": tokens / sec,
            "response_tokens_per_s": sum(r.n_response for r in data) / sec,
            "model_tflops": tflops, "mfu": tflops / PEAK_TFLOPS if cuda else None,
            "peak_gib": peak}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", default="qwen2.5-1.5b", choices=sorted(SHAPES))
    ap.add_argument("--rows", type=int, default=16)
    ap.add_argument("--prompt", type=int, default=256, help="prompt tokens per row")
    ap.add_argument("--response", type=int, default=768, help="response tokens per row")
    ap.add_argument("--micro-batch-tokens", type=int, default=8192)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json", type=Path, help="write the cells here")
    ap.add_argument("--dry-run", action="store_true",
                    help="tiny shape and batch on the CPU: proves the script, measures nothing")
    args = ap.parse_args(argv)

    if args.dry_run:
        args.shape, args.rows, args.prompt, args.response, args.repeats = "tiny", 4, 16, 8, 1
        device = torch.device("cpu")
    elif not torch.cuda.is_available():
        print("trainer_gpu.py: no CUDA device (use --dry-run on a CPU)", file=sys.stderr)
        return 2
    else:
        device = torch.device("cuda", 0)
        torch.cuda.set_device(device)
    _one_rank_group(device.type)
    data = batch(args.rows, args.prompt, args.response, SHAPES[args.shape]["vocab_size"])
    name = torch.cuda.get_device_name() if device.type == "cuda" else platform.machine()
    print(f"device: {name}; torch {torch.__version__}; shape {args.shape}; {args.rows} rows x "
          f"({args.prompt} prompt + {args.response} response) tokens", flush=True)
    cells = []
    for path in ("fused", "full_logits"):
        for ckpt in (False, True):
            c = cell(path, ckpt, args, data, device)
            cells.append(c)
            if c["status"] != "ok":
                print(f"  {path:11s} ckpt={ckpt!s:5s} {c['status']}", flush=True)
                continue
            mfu = f"MFU {c['mfu']:.1%}" if c["mfu"] is not None else "MFU n/a (CPU)"
            peak = f"peak {c['peak_gib']:.2f} GiB" if c["peak_gib"] is not None else ""
            print(f"  {path:11s} ckpt={ckpt!s:5s} {c['step_s'] * 1e3:9.1f} ms/step "
                  f"{c['tokens_per_s']:10.0f} tok/s {c['model_tflops']:8.2f} TFLOP/s {mfu} "
                  f"{peak}", flush=True)
    ok = {(c["path"], c["checkpointing"]): c for c in cells if c["status"] == "ok"}
    for ckpt in (False, True):
        if ("fused", ckpt) in ok and ("full_logits", ckpt) in ok:
            ratio = ok[("fused", ckpt)]["tokens_per_s"] / ok[("full_logits", ckpt)]["tokens_per_s"]
            print(f"  fused / full-logits throughput (ckpt={ckpt}): {ratio:.2f}x")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"device": name, "torch": torch.__version__,
                                         "shape": args.shape, "rows": args.rows,
                                         "prompt": args.prompt, "response": args.response,
                                         "dry_run": args.dry_run, "cells": cells}, indent=2))
    import torch.distributed as dist

    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
