"""The pages of WebShop's text mode: their ``[SEP]`` text and their clickables.

The original renders each page's HTML template (Flask/Jinja2) and turns it into text with
BeautifulSoup: every visible text node, stripped, joined by ``" [SEP] "`` (``observation_mode=
"text"``); its clickables are the ``btn`` buttons' and product links' texts lower-cased, then
each radio option's ``value`` as is (a dict, so a repeated text keeps its first position and
its last target). Here the same text nodes are produced directly, in template order, which is
~100x cheaper than rendering and parsing HTML. ``text_node`` applies BeautifulSoup's rule for
whitespace-only strings (kept as ``" "`` -> an empty entry, dropped when they hold a newline).
The expected strings in tests/plugins/webshop/test_pages.py were produced by rendering the
original templates and parsing them the original's way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

SEP = " [SEP] "
_ASCII_SPACES = {ord(c): None for c in "\x20\x0a\x09\x0c\x0d"}

BUTTON, LINK = "button", "link"


def text_node(value: Any) -> list[str]:
    """The entries one Jinja ``{{ value }}`` text node contributes to the observation."""
    s = str(value)
    if s == "":
        return []
    if s.translate(_ASCII_SPACES) == "":
        return [] if "\n" in s else [""]
    return [s.strip()]


def _json_tojson(value: Any) -> str:
    """Flask's ``tojson`` filter: sorted keys, ASCII, HTML-unsafe characters escaped."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=True)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("'", "\\u0027"))


def _instruction(instruction: str) -> list[str]:
    return ["Instruction:", *text_node(instruction)]


def search_page(instruction: str) -> tuple[list[str], dict[str, Any]]:
    return (["WebShop", *_instruction(instruction), "Search"], {"search": BUTTON})


def results_page(instruction: str, products: Sequence[Mapping[str, Any]], page: int,
                 total: int) -> tuple[list[str], dict[str, Any]]:
    nodes = [*_instruction(instruction), "Back to Search",
             f"Page {page} (Total results: {total})"]
    clickables: dict[str, Any] = {"back to search": BUTTON}
    if page > 1:
        nodes.append("< Prev")
        clickables["< prev"] = BUTTON
    nodes.append("Next >")
    clickables["next >"] = BUTTON
    for p in products:
        nodes += text_node(p["asin"]) + text_node(p["Title"]) + text_node(p["Price"])
    for p in products:
        clickables[str(p["asin"]).lower()] = LINK
    return nodes, clickables


def item_page(instruction: str, product: Mapping[str, Any], *, show_attrs: bool = False
              ) -> tuple[list[str], dict[str, Any]]:
    nodes = [*_instruction(instruction), "Back to Search", "< Prev"]
    for name, values in product["options"].items():
        nodes += text_node(name)
        for value in values:
            nodes += text_node(value)
    nodes += [*text_node(product["Title"]), f"Price: {product['Price']}",
              f"Rating: {product['Rating']}"]
    buttons = ["Description", "Features", "Reviews"] + (["Attributes"] if show_attrs else [])
    nodes += [*buttons, "Buy Now"]
    clickables: dict[str, Any] = {b.lower(): BUTTON for b in
                                  ["Back to Search", "< Prev", *buttons, "Buy Now"]}
    for name, values in product["options"].items():
        for value in values:
            clickables[str(value)] = ("option", name)
    return nodes, clickables


def sub_page(instruction: str, product: Mapping[str, Any], which: str
             ) -> tuple[list[str], dict[str, Any]]:
    """Description / Features / Reviews / Attributes of the current product."""
    nodes = [*_instruction(instruction), "Back to Search", "< Prev"]
    if which == "Description":
        nodes += text_node(product["Description"])
    elif which == "Features":
        for bullet in product["BulletPoints"]:
            nodes += text_node(f" {bullet}")
    elif which == "Reviews":
        for review in product["Reviews"]:
            nodes += (text_node(f'"{review.get("title", "")}"') + text_node(review.get("score", ""))
                      + text_node(review.get("body", "")))
    else:  # Attributes
        for attribute in product["Attributes"]:
            nodes += text_node(f" {attribute}")
        for key in ("category", "query", "product_category"):
            nodes += text_node(product[key])
    return nodes, {"back to search": BUTTON, "< prev": BUTTON}


def done_page(asin: str, options: Mapping[str, str], reward: float
              ) -> tuple[list[str], dict[str, Any]]:
    """The purchase page; the text env passes only the asin, options and reward, so every
    other field of the template renders as ``None`` or nothing."""
    nodes = ["Thank you for shopping with us!", "Your code:", "None",
             "(Paste it in your MTurk interface.)", "Purchased", "asin", *text_node(asin),
             "options", _json_tojson(dict(options)), "attrs", "None", "category", "None",
             "query", "None", "product category", "None", "Target", "asin", "options", "attrs",
             "price upper", "instuction text", "category", "product category", "query", "Goal",
             "None", "Reward", "Your score (min 0.0, max 1.0)", str(reward), "Reward Details",
             "None"]
    return nodes, {}


def join(nodes: Sequence[str]) -> str:
    return SEP.join(nodes)
