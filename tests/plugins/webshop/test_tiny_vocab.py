"""The tiny model's vocabulary covers the whole catalog (the plugin's ``vocabulary`` extra),
so no product title, ASIN, option or instruction word is ``<unk>``."""

from __future__ import annotations

import asyncio

from turnrl.inference.tiny import build_tokenizer, collect_env_texts, words
from turnrl.plugins.webshop.catalog import CatalogSpec, get_catalog
from turnrl.plugins.webshop.tasks import vocabulary


def test_vocabulary_extra_reaches_the_tiny_tokenizer() -> None:
    texts = asyncio.run(collect_env_texts("webshop", tasks_per_split=2))
    vocab = set(build_tokenizer(texts).get_vocab())
    catalog = get_catalog(CatalogSpec(tier="small"))
    needed = {w for p in catalog.products
              for w in words(" ".join([p["asin"], p["asin"].lower(), p["Title"], p["Price"],
                                       *(v for vs in p["options"].values() for v in vs)]))}
    needed |= {w for g in catalog.goals for w in words(g["instruction_text"])}
    assert needed <= vocab, sorted(needed - vocab)[:10]


def test_vocabulary_follows_task_options() -> None:
    assert vocabulary(source="index") == []
    small = vocabulary()
    assert get_catalog(CatalogSpec(tier="small")).goals[0]["instruction_text"] in small
