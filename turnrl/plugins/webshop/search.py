"""WebShop's search: BM25 over the same ``contents`` the original indexes, top 50, with bm25s.

The original (``search_engine/convert_product_file_format.py`` + pyserini) indexes, per product,
``contents = " ".join([Title, Description, BulletPoints[0], "name: v1, v2, and name2: ..."])``
lower-cased, and answers ``search[...]`` with Lucene's BM25 (k1=0.9, b=0.4) over pyserini's
default English analyzer, keeping the top ``SEARCH_RETURN_N = 50``. The special first keywords
``<r>`` (50 random products), ``<a>`` (products with an attribute), ``<c>`` (a category) and
``<q>`` (a scraping query) bypass the index, as in ``get_top_n_product_from_keywords``.

How the ranking can differ from Lucene's (not measured side by side yet: the original pins
pyserini 0.17 for JDK 11, current pyserini needs JDK 21, Debian 12 ships JDK 17; owed):

* Analyzer: Lucene's StandardTokenizer (UAX#29 word breaks) + possessive filter + its 33
  English stop words + Porter stemmer is approximated by a regex tokenizer (letters/digits,
  keeping ``3.1`` and ``d.o.n`` whole, like UAX#29), the same stop words, the same possessive
  rule and Snowball's ``porter`` stemmer (PyStemmer). Exotic scripts and some punctuation
  inside words tokenise differently.
* Scoring: bm25s' ``lucene`` variant uses Lucene's idf ``log(1 + (N - n + 0.5) / (n + 0.5))``
  and ``tf / (tf + k1 (1 - b + b dl / avgdl))``, but exact document lengths where Lucene stores
  them in one lossy byte (SmallFloat), so near-ties can swap.
* Ties: both break by index order (the catalog order), done explicitly here.
* A product whose ``BulletPoints`` is empty indexes ``""`` (the original's indexer raised).

The index is built once per catalog and saved under the cache folder (``cache.py``); later
starts load it memory-mapped.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import numpy as np

from turnrl.plugins.webshop.cache import cache_path

SEARCH_RETURN_N = 50
K1, B = 0.9, 0.4
LUCENE_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
    "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with"})
_TOKEN = re.compile(r"\w+(?:[.'’]\w+)*")
INSTALL_HINT = "pip install 'turnrl[webshop]'"


def document_contents(product: dict[str, Any]) -> str:
    """What the original indexes for one product."""
    option_texts = [f"{name}: {', '.join(values)}" for name, values in product["options"].items()]
    bullets = product["BulletPoints"]
    return " ".join([product["Title"], product["Description"], bullets[0] if bullets else "",
                     ", and ".join(option_texts)]).lower()


class Analyzer:
    """Lucene-like English analysis: tokens, possessive 's dropped, stop words, Porter stems."""

    def __init__(self) -> None:
        try:
            import Stemmer
        except ImportError as exc:
            raise ImportError(f"webshop search needs PyStemmer: {INSTALL_HINT}") from exc
        self._stem = Stemmer.Stemmer("porter").stemWords

    def __call__(self, text: str) -> list[str]:
        tokens = []
        for tok in _TOKEN.findall(text.lower()):
            if tok.endswith(("'s", "’s")):
                tok = tok[:-2]
            if tok and tok not in LUCENE_STOPWORDS:
                tokens.append(tok)
        return self._stem(tokens)


class SavedIndex:
    """Query side of a saved bm25s index without importing bm25s (its import costs ~0.4 s,
    most of an environment's start): the same arrays and the same sum as
    ``bm25s.BM25.get_scores`` (a test checks they agree exactly)."""

    def __init__(self, folder: Path) -> None:
        self.data = np.load(folder / "data.csc.index.npy", mmap_mode="r")
        self.indices = np.load(folder / "indices.csc.index.npy", mmap_mode="r")
        self.indptr = np.load(folder / "indptr.csc.index.npy", mmap_mode="r")
        self.vocab_dict = json.loads((folder / "vocab.index.json").read_text())
        self.num_docs = int(json.loads((folder / "params.index.json").read_text())["num_docs"])

    def get_scores(self, ids: list[int]) -> np.ndarray:
        scores = np.zeros(self.num_docs, dtype=np.float32)
        spans = [(int(self.indptr[i]), int(self.indptr[i + 1])) for i in ids]
        if spans:  # one scatter-add in query-token order, as bm25s sums
            np.add.at(scores, np.concatenate([self.indices[a:b] for a, b in spans]),
                      np.concatenate([self.data[a:b] for a, b in spans]))
        return scores


class SearchEngine:
    """BM25 over a catalog's products, answering the original's keyword lists."""

    def __init__(self, products: list[dict[str, Any]], retriever: Any, analyzer: Analyzer
                 ) -> None:
        self.products = products
        self.retriever = retriever
        self.analyzer = analyzer

    @classmethod
    def build(cls, products: list[dict[str, Any]], *, save_dir: Any = None) -> SearchEngine:
        """Index ``products`` (and save the index to ``save_dir`` when given)."""
        bm25s = _bm25s()
        analyzer = Analyzer()
        corpus = [analyzer(document_contents(p)) for p in products]
        retriever = bm25s.BM25(method="lucene", k1=K1, b=B)
        retriever.index(corpus, show_progress=False)
        if save_dir is not None:
            try:
                retriever.save(str(save_dir), show_progress=False)
                (save_dir / "ok.json").write_text(json.dumps({"docs": len(products)}))
            except OSError:
                pass
        return cls(products, retriever, analyzer)

    @classmethod
    def for_catalog(cls, catalog: Any) -> SearchEngine:
        """The catalog's engine from the disk cache, built and saved on a miss."""
        save_dir = cache_path(f"{catalog.key}/bm25")
        if (save_dir / "ok.json").exists():
            try:
                return cls(catalog.products, SavedIndex(save_dir), Analyzer())
            except (OSError, ValueError, KeyError):
                pass  # unreadable: rebuild below
        save_dir.mkdir(parents=True, exist_ok=True)
        return cls.build(catalog.products, save_dir=save_dir)

    def ranked(self, query: str, k: int = SEARCH_RETURN_N) -> list[int]:
        """Indices of the (at most ``k``) matching products, best first, ties by index."""
        vocab = self.retriever.vocab_dict
        ids = [vocab[t] for t in self.analyzer(query) if t in vocab]
        if not ids:
            return []
        scores = self.retriever.get_scores(ids)
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
            # argpartition keeps ties at the cut arbitrarily: take every doc scoring >= the
            # k-th score, then sort (score desc, index asc) and cut again
            hits = np.flatnonzero(scores >= scores[hits].min())
        order = np.lexsort((hits, -scores[hits]))
        return [int(i) for i in hits[order][:k]]

    def search(self, keywords: list[str], rng: random.Random | None = None
               ) -> list[dict[str, Any]]:
        """``get_top_n_product_from_keywords``: special prefixes, else BM25 top 50. ``<r>``
        draws from ``rng`` (the episode's); ``<a>`` matches ``Attributes`` exactly (the text
        env passes no attribute index, so there the original raised a TypeError)."""
        products = self.products
        head = keywords[0]
        if head == "<r>":
            return (rng or random.Random()).sample(products, k=min(SEARCH_RETURN_N,
                                                                  len(products)))
        if head == "<a>":
            attribute = " ".join(keywords[1:]).strip()
            return [p for p in products if attribute in p["Attributes"]]
        if head == "<c>":
            category = keywords[1].strip() if len(keywords) > 1 else ""
            return [p for p in products if p["category"] == category]
        if head == "<q>":
            query = " ".join(keywords[1:]).strip()
            return [p for p in products if p["query"] == query]
        return [products[i] for i in self.ranked(" ".join(keywords))]


def _bm25s() -> Any:
    try:
        import bm25s
    except ImportError as exc:
        raise ImportError(f"webshop search needs bm25s: {INSTALL_HINT}") from exc
    return bm25s
