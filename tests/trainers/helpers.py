"""Shared pieces of the trainer tests: a tiny Qwen2 model and synthetic token rows."""

from __future__ import annotations

import random

from turnrl.trainers.batch import TokenRow

VOCAB = 48


def tiny_lm(seed: int = 0):  # type: ignore[no-untyped-def]
    from turnrl.inference.tiny import build_model

    return build_model(VOCAB, hidden_size=32, layers=2, heads=1, seed=seed).train()


def synthetic_rows(n: int = 12, seed: int = 0) -> list[TokenRow]:
    """Rows of random prompts/responses with made-up rollout log-probs and advantages."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        n_prompt, n_resp = rng.randint(3, 9), rng.randint(1, 5)
        ids = tuple(rng.randrange(4, VOCAB) for _ in range(n_prompt + n_resp))
        logp = tuple(-rng.uniform(2.5, 4.5) for _ in range(n_resp))
        rows.append(TokenRow(ids, n_prompt, logp, rng.uniform(-1.5, 1.5)))
    return rows
