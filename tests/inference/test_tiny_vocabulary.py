"""A tiny model's vocabulary is part of its identity: the same words under other ids are another
random model, and every quickstart number was measured with one. Issue 20 found ALFWorld's
post-SFT success moved from 0.111 to 0.261 (seed 1) because a prompt template added for another
environment changed word counts and so the ids. These tests pin the shipped quickstarts'
vocabularies (a digest of word -> id) and check that registering a template changes nothing.

If a pinned digest fails on purpose (new words for an env, a new built-in vocabulary template),
re-measure the quickstarts' numbers (``benchmarks/estimators.py``, README) and then update it.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from turnrl.core import context
from turnrl.inference.tiny import VOCABULARY_TEMPLATES, build_tokenizer, collect_env_texts

# (env, seed, task_options) -> sha256 of the word -> id table, measured at commit 6edce3d + this
# test (the code that measured README's toy numbers and the ALFWorld study of issue 20).
PINNED = {
    ("toy-env", 0, None): "fa2c4200564cab88",
    ("alfworld", 0, (("tier", "tiny"),)): "2ec45b452d21dd42",
    ("alfworld", 1, (("tier", "tiny"),)): "916f243b93ca6d86",
}


def vocabulary(env: str, seed: int, task_options: dict | None) -> dict[str, int]:
    import asyncio

    texts = asyncio.run(collect_env_texts(env, seed=seed, task_options=task_options))
    tok = build_tokenizer(texts)
    return json.loads(tok.backend_tokenizer.to_str())["model"]["vocab"]


def digest(vocab: dict[str, int]) -> str:
    return hashlib.sha256(json.dumps(sorted(vocab.items(), key=lambda kv: kv[1]))
                          .encode()).hexdigest()[:16]


@pytest.mark.parametrize(("env", "seed", "options"), list(PINNED))
def test_quickstart_vocabularies_are_the_measured_ones(env, seed, options):
    got = digest(vocabulary(env, seed, dict(options) if options else None))
    assert got == PINNED[(env, seed, options)], (
        f"{env} seed {seed}: the tiny vocabulary changed ({got}); every number measured with "
        "the old one (README, quickstart headers, benchmarks/RESULTS.md) is now another model's")


def test_a_registered_template_changes_no_vocabulary(monkeypatch):
    before = vocabulary("toy-env", 0, None)
    # a template registered after the built-ins (as an env plugin would): here two existing
    # ones again under new names, which before the fix doubled their words' counts
    monkeypatch.setitem(context.TEMPLATES, "zz-extra", context.TEMPLATES["plain"])
    monkeypatch.setitem(context.TEMPLATES, "zz-extra-2", context.TEMPLATES["verl-agent"])
    assert len(context.TEMPLATES) > len(VOCABULARY_TEMPLATES)
    assert vocabulary("toy-env", 0, None) == before


def test_vocabulary_templates_are_built_in():
    assert set(VOCABULARY_TEMPLATES) <= set(context.TEMPLATES)
