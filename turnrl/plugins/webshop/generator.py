"""The seeded product catalog, written in the shape of the original's data files.

``generate(n, seed)`` returns ``(items, attributes)``: ``items`` is a list of records exactly like
``items_shuffle.json``'s (``asin``, ``name``, ``full_description``, ``small_description``,
``pricing`` as ``"$a"`` or ``"$a$b"``, ``images``, ``product_category`` ``"A › B › C"``,
``query``, ``category``, ``customization_options`` ``{Name: [{value, image}]}``) and
``attributes`` maps ASINs to ``items_ins_v2.json``'s ``{attributes, instruction,
instruction_attributes}`` (a product without ``instruction`` gets no goals, as in the original).
Both then go through the same loader as the original files (``catalog.load_products``), so the
generated catalog exercises the real loading rules (option names lower-cased, ``/`` -> ``|``).

Product ``i`` draws from ``random.Random(f"webshop/catalog/{seed}/{i}")`` (string seeds hash the
same on every platform), so the first ``n`` products are the same whatever ``n`` is: the
``small`` tier is a prefix of ``full``, as the original's ``items_shuffle_1000`` is of its full
file. Instructions follow the original's template: ``Find me {adj, adj} {leaf category} with
{with, with} for {for, for}``.
"""

from __future__ import annotations

import random
import string
from typing import Any

from turnrl.plugins.webshop.vocab import (
    BRAND_SYLLABLES,
    BULLET_TEMPLATES,
    CATEGORIES,
    DESCRIPTION_OPENERS,
    DESCRIPTION_SENTENCES,
    TITLE_EXTRAS,
)

TYPES: tuple[tuple[str, dict[str, Any]], ...] = tuple(
    (category, t) for category, types in CATEGORIES.items() for t in types)
INSTRUCTION_RATE = 0.9
"""Share of products with an instruction (the rest, as in the original, have no goals)."""
_ASIN_CHARS = string.ascii_uppercase + string.digits


def generate(n: int, seed: int = 0) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """``n`` product records and their attribute records, deterministic in ``(seed, i)``."""
    items: list[dict[str, Any]] = []
    attributes: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for i in range(n):
        rng = random.Random(f"webshop/catalog/{seed}/{i}")
        item, attrs = _product(rng, seen)
        items.append(item)
        attributes[item["asin"]] = attrs
    return items, attributes


def _asin(rng: random.Random, seen: set[str]) -> str:
    while True:
        asin = "B0" + "".join(rng.choice(_ASIN_CHARS) for _ in range(8))
        if asin not in seen:
            seen.add(asin)
            return asin


def _brand(rng: random.Random) -> str:
    return "".join(rng.choice(BRAND_SYLLABLES) for _ in range(rng.choice((2, 2, 3)))).title()


def _title_case(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split())


def _product(rng: random.Random, seen: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    category, kind = rng.choice(TYPES)
    asin = _asin(rng, seen)
    brand = _brand(rng)
    noun = rng.choice(kind["nouns"])
    adj = rng.sample(kind["adj"], rng.randint(2, min(4, len(kind["adj"]))))
    with_ = rng.sample(kind["with"], rng.randint(1, min(2, len(kind["with"]))))
    for_ = rng.sample(kind["for"], rng.randint(1, min(2, len(kind["for"]))))

    title = [brand, _title_case(adj[0]), noun]
    if rng.random() < 0.5:
        title.append(f"with {_title_case(with_[0])}")
    if rng.random() < 0.4:
        title.append(rng.choice(TITLE_EXTRAS))
    name = " ".join(title)

    description = " ".join(
        [rng.choice(DESCRIPTION_OPENERS).format(name=noun.lower(), brand=brand)]
        + [rng.choice(DESCRIPTION_SENTENCES).format(attr=a) for a in rng.sample(adj, len(adj))]
        + [f"Made with {', '.join(with_)}, it is great for {' and '.join(for_)}."])
    fill = {"brand": brand, "noun": noun.lower(), "attr": adj[0], "attr2": adj[-1],
            "ATTR": adj[0].upper(), "with_": with_[0], "WITH": with_[0].upper(),
            "for_": for_[0], "FOR": for_[0].upper()}
    bullets = [t.format(**fill) for t in rng.sample(BULLET_TEMPLATES, rng.randint(3, 5))]

    lo, hi = kind["price"]
    low = round(rng.uniform(lo, hi), 2)
    if rng.random() < 0.25:
        pricing = f"${low:.2f}${round(low + rng.uniform(2.0, 0.6 * low + 2.0), 2):.2f}"
    else:
        pricing = f"${low:.2f}"

    options: dict[str, list[dict[str, Any]]] = {}
    for group, pool in kind["options"].items():
        if rng.random() < 0.85:
            k = min(len(pool), rng.choices((2, 3, 4), weights=(45, 40, 15))[0])
            options[group] = [{"value": v, "image": None} for v in rng.sample(pool, k)]

    item = {
        "asin": asin, "name": name, "full_description": description,
        "small_description": bullets, "pricing": pricing,
        "images": [f"https://images.webshop.invalid/{asin.lower()}.jpg"],
        "product_category": " › ".join(kind["path"]), "query": kind["query"],
        "category": category, "customization_options": options,
    }
    attrs: dict[str, Any] = {"attributes": adj + with_ + for_}
    if rng.random() < INSTRUCTION_RATE:
        ins_adj = adj[:rng.randint(1, min(2, len(adj)))]
        ins_with = with_[:rng.choice((0, 1, 1))]
        ins_for = for_[:rng.choice((0, 1, 1))]
        leaf = kind["path"][-1].lower()
        text = f"Find me {', '.join(ins_adj)} {leaf}"
        if ins_with:
            text += f" with {', '.join(ins_with)}"
        if ins_for:
            text += f" for {', '.join(ins_for)}"
        attrs["instruction"] = text
        attrs["instruction_attributes"] = ins_adj + ins_with + ins_for
    return item, attrs
