"""Products, prices and goals: the original's ``load_products`` and ``get_goals``, with seeds.

A ``Catalog`` is what the original's ``SimServer`` builds at start-up: the products (records
after ``load_products``), one price per product (a range is priced by ``uniform(lo, hi)``),
the goals (synthetic over every option combination, or human), shuffled with a fixed seed, and
the fixed panels by goal index. Sources:

* ``generated`` (default): ``generator.generate`` in tier ``small`` (200 products) or ``full``
  (2,000);
* ``original``: the original data files in ``data_dir`` (or ``$WEBSHOP_DATA``), see
  ``original.py``.

Randomness follows verl-agent's seeded WebShop (one stream, seeded once): product prices, then
one ``price_upper`` draw per product, then the stream is re-seeded and the goals shuffled. The
seed defaults to 233, the original's shuffle seed (the original itself leaves the price draws
unseeded, so its prices change from run to run). Panels by goal index are the original
baseline's: ``test`` 0-499, ``valid`` 500-1499, ``train`` the rest (verl-agent's ``val`` is our
``test``; its ``train`` is our ``valid`` + ``train``); the ``small`` tier scales them to 0-99,
100-299, 300+.

Catalogs are built once per process (``get_catalog``); the search index and the title nouns
are cached on disk per catalog (``cache.py``), so a warm start loads in milliseconds.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re
import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

PRICE_RANGE = [10.0 * i for i in range(1, 100)]
TIER_SIZES = {"small": 200, "full": 2000}
PANELS: dict[str, dict[str, tuple[int, int | None]]] = {
    "full": {"test": (0, 500), "valid": (500, 1500), "train": (1500, None)},
    "small": {"test": (0, 100), "valid": (100, 300), "train": (300, None)},
}
SPLITS = ("train", "valid", "test")
GOAL_SEED = 233


# ----------------------------------------------------------------------- load_products
def parse_pricing(pricing: str | None) -> tuple[list[float], str]:
    """``"$a"`` / ``"$a$b"`` (any non-digit noise removed) -> (prices, the ``Price`` tag)."""
    if pricing is None or not pricing:
        return [100.0], "$100.0"
    values = [float(Decimal(re.sub(r"[^\d.]", "", p))) for p in pricing.split("$")[1:]]
    if len(values) == 1:
        return values, f"${values[0]}"
    return values[:2], f"${values[0]} to ${values[1]}"


def load_products(items: list[dict[str, Any]], attributes: Mapping[str, Any], *,
                  human: Mapping[str, Any] | None = None, human_goals: bool = False,
                  num_products: int | None = None) -> list[dict[str, Any]]:
    """The original ``engine.load_products`` on in-memory records (reviews aside: the public
    setups ship none, so every ``Rating`` is ``N.A.``). Records are copied, not mutated."""
    if num_products is not None:
        items = items[:num_products]
    products: list[dict[str, Any]] = []
    seen: set[str] = set()
    for raw in items:
        asin = raw["asin"]
        if asin == "nan" or len(asin) > 10 or asin in seen:
            continue
        seen.add(asin)
        p = dict(raw)
        p["Title"] = p["name"]
        p["Description"] = p["full_description"]
        p["Reviews"] = []
        p["Rating"] = "N.A."
        small = p["small_description"]
        p["BulletPoints"] = small if isinstance(small, list) else [small]
        p["pricing"], p["Price"] = parse_pricing(p.get("pricing"))
        options: dict[str, list[str]] = {}
        option_to_image: dict[str, Any] = {}
        for option_name, contents in (p.get("customization_options") or {}).items():
            if contents is None:
                continue
            values = []
            for content in contents:
                value = content["value"].strip().replace("/", " | ").lower()
                values.append(value)
                option_to_image[value] = content.get("image", None)
            options[option_name.lower()] = values
        p["options"] = options
        p["option_to_image"] = option_to_image
        record = attributes.get(asin) or {}
        p["Attributes"] = record.get("attributes", ["DUMMY_ATTR"])
        if human_goals:
            if human is not None and asin in human:
                p["instructions"] = human[asin]
        else:
            p["instruction_text"] = record.get("instruction", None)
            p["instruction_attributes"] = record.get("instruction_attributes", None)
        p["MainImage"] = p["images"][0] if p.get("images") else ""
        p["query"] = p["query"].lower().strip()
        products.append(p)
    return products


def product_prices(products: list[dict[str, Any]], rng: random.Random) -> dict[str, float]:
    """``generate_product_prices``: the single price, or ``uniform`` over a range."""
    prices = {}
    for p in products:
        pricing = p["pricing"]
        if not pricing:
            price = 100.0
        elif len(pricing) == 1:
            price = pricing[0]
        else:
            price = rng.uniform(*pricing[:2])
        prices[p["asin"]] = price
    return prices


# ----------------------------------------------------------------------------- goals
def _price_goal(price: float, rng: random.Random) -> tuple[float, str]:
    price_range = [p for p in PRICE_RANGE if p > price][:4]
    if len(price_range) >= 2:
        _, price_upper = sorted(rng.sample(price_range, 2))
        return price_upper, f", and price lower than {price_upper:.2f} dollars"
    return 1000000, ""


def synthetic_goals(products: list[dict[str, Any]], prices: Mapping[str, float],
                    rng: random.Random) -> list[dict[str, Any]]:
    """``get_synthetic_goals``: one goal per option combination of every product that has an
    instruction; instruction text ``{instruction}{ with k: v, and ...}{price text}``."""
    goals = []
    cnt_atts: dict[str, int] = defaultdict(int)
    for product in products:
        if product.get("instruction_text") is None:
            continue
        attributes = product["instruction_attributes"]
        assert len(attributes) > 0, f"{product['asin']}: instruction without attributes"
        price_upper, price_text = _price_goal(prices[product["asin"]], rng)
        options = product["options"]
        names = sorted(options)
        for combination in itertools.product(*(options[n] for n in names)):
            goal_options = dict(zip(names, combination, strict=True))
            option_text = ", and ".join(f"{k}: {v}" for k, v in goal_options.items())
            option_text = " with " + option_text if option_text else ""
            goals.append({
                "asin": product["asin"], "category": product["category"],
                "query": product["query"], "name": product["Title"],
                "product_category": product["product_category"],
                "instruction_text": f"{product['instruction_text']}{option_text}{price_text}",
                "attributes": attributes, "price_upper": price_upper,
                "goal_options": goal_options,
            })
            for att in attributes:
                cnt_atts[att] += 1
    for goal in goals:
        goal["weight"] = sum(1.0 / cnt_atts[a] for a in goal["attributes"]) / len(
            goal["attributes"])
    return goals


def human_goals(products: list[dict[str, Any]], prices: Mapping[str, float],
                rng: random.Random) -> list[dict[str, Any]]:
    """``get_human_goals``: one goal per human instruction with attributes (weight 1)."""
    goals = []
    for item in products:
        for ins in item.get("instructions", ()):
            attributes = ins["instruction_attributes"]
            if len(attributes) == 0:
                continue
            price_upper, price_text = _price_goal(prices[item["asin"]], rng)
            goals.append({
                "asin": item["asin"], "category": item["category"], "query": item["query"],
                "name": item["name"], "product_category": item["product_category"],
                "instruction_text": ins["instruction"].strip(".") + price_text,
                "attributes": attributes, "price_upper": price_upper,
                "goal_options": ins["instruction_options"], "weight": 1,
            })
    return goals


# --------------------------------------------------------------------------- catalog
@dataclass(frozen=True)
class CatalogSpec:
    """Which catalog: ``generated`` (tier, seed) or ``original`` (data_dir, tier, human)."""

    source: str = "generated"
    tier: str = "small"
    seed: int = 0
    data_dir: str | None = None
    human_goals: bool = False
    goal_seed: int = GOAL_SEED

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CatalogSpec:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class Catalog:
    spec: CatalogSpec
    key: str
    """Content fingerprint: names the on-disk caches of this catalog."""
    products: list[dict[str, Any]]
    prices: dict[str, float]
    by_asin: dict[str, dict[str, Any]] = field(init=False)
    _goals: list[dict[str, Any]] | None = field(default=None, init=False, repr=False)
    _engine: Any = field(default=None, init=False, repr=False)
    _nouns_ready: bool = field(default=False, init=False, repr=False)
    prepared: bool = field(default=False, init=False, repr=False)
    """Set by the environment once the search index and the nouns are loaded."""
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_asin = {p["asin"]: p for p in self.products}

    @property
    def goals(self) -> list[dict[str, Any]]:
        """The shuffled goals (built on first use: an environment never needs them, only the
        task panels do). The seeded stream is replayed: prices, then the goals' price draws."""
        with self._lock:
            if self._goals is None:
                rng = random.Random(self.spec.goal_seed)
                prices = product_prices(self.products, rng)
                make = human_goals if self.spec.human_goals else synthetic_goals
                goals = make(self.products, prices, rng)
                rng.seed(self.spec.goal_seed)
                rng.shuffle(goals)
                self._goals = goals
        return self._goals

    def panel(self, split: str) -> range:
        """Goal indices of ``split`` (clipped to the number of goals)."""
        scheme = "small" if self.spec.tier == "small" and self.spec.source == "generated" \
            else "full"
        lo, hi = PANELS[scheme][split]
        n = len(self.goals)
        return range(min(lo, n), n if hi is None else min(hi, n))

    def search_engine(self) -> Any:
        """The BM25 engine over this catalog (built once, then loaded from the disk cache)."""
        with self._lock:
            if self._engine is None:
                from turnrl.plugins.webshop.search import SearchEngine

                self._engine = SearchEngine.for_catalog(self)
        return self._engine

    def ensure_nouns(self) -> None:
        """Make every product title's nouns known to the reward: from the disk cache, or one
        spaCy pass over the titles (then saved)."""
        with self._lock:
            if self._nouns_ready:
                return
            from turnrl.plugins.webshop import reward
            from turnrl.plugins.webshop.cache import load_json, save_json

            name = f"{self.key}/nouns.json"
            cached = load_json(name)
            titles = [p["name"] for p in self.products]
            if not isinstance(cached, dict) or not all(t in cached for t in titles):
                cached = reward.compute_nouns(titles)
                save_json(name, cached)
            reward.prime_nouns(cached)
            self._nouns_ready = True


def _code_fingerprint() -> str:
    """Hash of the modules that decide a generated catalog's content, so the disk caches of a
    catalog built by other code are never reused."""
    from pathlib import Path

    here = Path(__file__).parent
    h = hashlib.sha1()
    for name in ("catalog.py", "generator.py", "vocab.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def build_catalog(spec: CatalogSpec) -> Catalog:
    """Generate (or read) the products of ``spec`` and price them; goals come lazily."""
    if spec.source == "generated":
        from turnrl.plugins.webshop.generator import generate

        if spec.tier not in TIER_SIZES:
            raise ValueError(f"webshop has no tier {spec.tier!r}; tiers: {', '.join(TIER_SIZES)}")
        items, attributes = generate(TIER_SIZES[spec.tier], seed=spec.seed)
        human = None
        key = f"generated-{spec.tier}-s{spec.seed}-{_code_fingerprint()}"
    elif spec.source == "original":
        from turnrl.plugins.webshop.original import read_original

        items, attributes, human, key = read_original(spec)
    else:
        raise ValueError(f"webshop has no catalog source {spec.source!r}; sources: "
                         "generated, original")
    products = load_products(items, attributes, human=human, human_goals=spec.human_goals)
    prices = product_prices(products, random.Random(spec.goal_seed))
    return Catalog(spec=spec, key=key, products=products, prices=prices)


_CATALOGS: dict[CatalogSpec, Catalog] = {}
_CATALOGS_LOCK = threading.Lock()


def get_catalog(spec: CatalogSpec | Mapping[str, Any]) -> Catalog:
    """The catalog for ``spec``, built on first use and kept for the process."""
    if not isinstance(spec, CatalogSpec):
        spec = CatalogSpec.from_dict(spec)
    with _CATALOGS_LOCK:
        catalog = _CATALOGS.get(spec)
        if catalog is None:
            catalog = _CATALOGS[spec] = build_catalog(spec)
    return catalog
