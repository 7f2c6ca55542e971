"""BM25 search: the indexed contents, the analyzer, Lucene's BM25 by hand, bm25s agreement,
ties, the top-50 cut and the disk cache."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from turnrl.plugins.webshop.search import (
    K1,
    SEARCH_RETURN_N,
    Analyzer,
    B,
    SavedIndex,
    SearchEngine,
    document_contents,
)


def product(asin: str, title: str, description: str = "", bullets: tuple[str, ...] = ("",),
            options: dict | None = None, **extra: object) -> dict:
    return {"asin": asin, "Title": title, "Description": description,
            "BulletPoints": list(bullets), "options": options or {}, "Attributes": [],
            "category": "c", "query": "q", **extra}


def test_document_contents_is_the_originals() -> None:
    p = product("B1", "Red Shirt", "Soft COTTON.", ("Machine wash", "second bullet ignored"),
                {"color": ["red", "blue"], "size": ["s", "m"]})
    assert document_contents(p) == ("red shirt soft cotton. machine wash color: red, blue, and "
                                    "size: s, m")
    assert document_contents(product("B2", "T", bullets=())) == "t   "  # empty bullet list


def test_analyzer_stopwords_possessive_stemming() -> None:
    analyze = Analyzer()
    assert analyze("The men's Running SHOES and a 3.1 D.O.N. clip-in") == [
        "men", "run", "shoe", "3.1", "d.o.n", "clip"]  # "in" is a stop word


def corpus() -> list[dict]:
    return [product("B0", "red shirt cotton"), product("B1", "blue shirt"),
            product("B2", "red red red hat wool felt"), product("B3", "green scarf")]


def lucene_bm25(docs: list[list[str]], query: list[str]) -> list[float]:
    """Lucene's BM25 (8.x+) written out: idf = ln(1 + (N - n + .5) / (n + .5)),
    tf part = tf / (tf + k1 (1 - b + b dl / avgdl)); duplicate query terms count twice."""
    n_docs = len(docs)
    avgdl = sum(len(d) for d in docs) / n_docs
    scores = []
    for d in docs:
        s = 0.0
        for term in query:
            n = sum(term in x for x in docs)
            if n == 0:
                continue
            idf = math.log(1 + (n_docs - n + 0.5) / (n + 0.5))
            tf = d.count(term)
            s += idf * tf / (tf + K1 * (1 - B + B * len(d) / avgdl))
        scores.append(s)
    return scores


def test_scores_equal_lucene_bm25_by_hand() -> None:
    products = corpus()
    engine = SearchEngine.build(products)
    analyze = Analyzer()
    docs = [analyze(document_contents(p)) for p in products]
    for query in ("red shirt", "red red", "wool", "shirt hat scarf", "nothing"):
        ids = [engine.retriever.vocab_dict[t] for t in analyze(query)
               if t in engine.retriever.vocab_dict]
        got = engine.retriever.get_scores(ids) if ids else np.zeros(len(products))
        assert got == pytest.approx(lucene_bm25(docs, analyze(query)), rel=1e-5), query


def test_ranking_ties_break_by_catalog_order_and_nonmatches_are_dropped() -> None:
    products = [product(f"B{i}", "same words here") for i in range(5)] + [
        product("B9", "unrelated")]
    engine = SearchEngine.build(products)
    assert engine.ranked("same words") == [0, 1, 2, 3, 4]
    assert engine.ranked("the of and") == []  # only stop words
    assert engine.search(["red", "shirt"]) == []


def test_top_50_cut() -> None:
    products = [product(f"B{i:03d}", f"shirt item{i}" + " shirt" * (i % 7)) for i in range(120)]
    engine = SearchEngine.build(products)
    hits = engine.ranked("shirt")
    assert len(hits) == SEARCH_RETURN_N
    scores = engine.retriever.get_scores([engine.retriever.vocab_dict["shirt"]])
    order = sorted(range(120), key=lambda i: (-scores[i], i))
    assert hits == order[:SEARCH_RETURN_N]


def test_saved_index_equals_bm25s(tmp_path: Path) -> None:
    from turnrl.plugins.webshop.catalog import CatalogSpec, get_catalog

    products = get_catalog(CatalogSpec(tier="small")).products
    built = SearchEngine.build(products, save_dir=tmp_path)
    saved = SavedIndex(tmp_path)
    analyze = Analyzer()
    vocab = built.retriever.vocab_dict
    for p in products[:25]:
        ids = [vocab[t] for t in analyze(p["Title"] + " " + p["Title"]) if t in vocab]
        np.testing.assert_array_equal(saved.get_scores(ids), built.retriever.get_scores(ids))


def test_catalog_engine_is_cached_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    from turnrl.plugins.webshop.catalog import CatalogSpec, build_catalog

    monkeypatch.setenv("TURNRL_CACHE_DIR", str(tmp_path))
    first = build_catalog(CatalogSpec(tier="small"))
    engine = first.search_engine()
    assert not isinstance(engine.retriever, SavedIndex)  # built
    assert (tmp_path / "webshop" / first.key / "bm25" / "ok.json").exists()
    second = build_catalog(CatalogSpec(tier="small"))
    again = second.search_engine()
    assert isinstance(again.retriever, SavedIndex)  # loaded, no bm25s import needed
    query = first.goals[0]["instruction_text"].lower().split(" ")
    assert [p["asin"] for p in engine.search(query)] == [p["asin"] for p in again.search(query)]
