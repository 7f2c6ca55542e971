"""The ``[SEP]`` text and clickables of every page against the original's rendering.

Expected strings were produced by rendering the original WebShop templates (verl-agent's copy)
with Flask and converting them with BeautifulSoup exactly as ``WebAgentTextEnv`` does
(``convert_html_to_text(simple=True)``, ``get_available_actions``); the first block is the
reference transcript in specs/reference/webshop_rendered_text_obs.txt. Edge cases cover
BeautifulSoup's whitespace rule, HTML-special characters, duplicate clickables and Flask's
``tojson``.
"""

from __future__ import annotations

import pytest

from turnrl.plugins.webshop import pages
from turnrl.plugins.webshop.catalog import load_products

INS = ("i need a long clip-in hair extension which is natural looking, and price lower than "
       "40.00 dollars")
PRODUCT = {
    "asin": "B09QQLDJ93", "Title": "QUEEN CLIP-IN Hair Extension 22 Inch", "Price": "$19.99",
    "Rating": "N.A.", "options": {"color": ["black", "dark brown"],
                                  "size": ["18 inch", "22 inch"]},
    "Description": "desc text", "BulletPoints": ["bp1", "bp2"], "Reviews": [],
    "Attributes": ["natural looking"], "category": "beauty", "query": "hair extensions",
    "product_category": "Beauty › Hair",
}


def text(page: tuple[list[str], dict]) -> str:
    return pages.join(page[0])


def test_reference_transcript_pages() -> None:
    assert text(pages.search_page(INS)) == f"WebShop [SEP] Instruction: [SEP] {INS} [SEP] Search"
    assert list(pages.search_page(INS)[1]) == ["search"]
    other = {"asin": "B07XXXXX01", "Title": "Another Product", "Price": "$10.0 to $25.5"}
    results = pages.results_page(INS, [PRODUCT, other], 1, 50)
    assert text(results) == (
        f"Instruction: [SEP] {INS} [SEP] Back to Search [SEP] Page 1 (Total results: 50) [SEP] "
        "Next > [SEP] B09QQLDJ93 [SEP] QUEEN CLIP-IN Hair Extension 22 Inch [SEP] $19.99 [SEP] "
        "B07XXXXX01 [SEP] Another Product [SEP] $10.0 to $25.5")
    assert list(results[1]) == ["back to search", "next >", "b09qqldj93", "b07xxxxx01"]
    item = pages.item_page(INS, PRODUCT)
    assert text(item) == (
        f"Instruction: [SEP] {INS} [SEP] Back to Search [SEP] < Prev [SEP] color [SEP] black "
        "[SEP] dark brown [SEP] size [SEP] 18 inch [SEP] 22 inch [SEP] QUEEN CLIP-IN Hair "
        "Extension 22 Inch [SEP] Price: $19.99 [SEP] Rating: N.A. [SEP] Description [SEP] "
        "Features [SEP] Reviews [SEP] Buy Now")
    assert list(item[1]) == ["back to search", "< prev", "description", "features", "reviews",
                             "buy now", "black", "dark brown", "18 inch", "22 inch"]
    head = f"Instruction: [SEP] {INS} [SEP] Back to Search [SEP] < Prev"
    assert text(pages.sub_page(INS, PRODUCT, "Description")) == f"{head} [SEP] desc text"
    assert text(pages.sub_page(INS, PRODUCT, "Features")) == f"{head} [SEP] bp1 [SEP] bp2"
    assert text(pages.sub_page(INS, PRODUCT, "Reviews")) == head
    assert text(pages.sub_page(INS, PRODUCT, "Attributes")) == (
        f"{head} [SEP] natural looking [SEP] beauty [SEP] hair extensions [SEP] Beauty › Hair")
    for which in ("Description", "Features", "Reviews", "Attributes"):
        assert list(pages.sub_page(INS, PRODUCT, which)[1]) == ["back to search", "< prev"]


def test_results_page_two_offers_prev_and_always_next() -> None:
    page = pages.results_page(INS, [], 2, 0)
    assert text(page) == (f"Instruction: [SEP] {INS} [SEP] Back to Search [SEP] Page 2 (Total "
                          "results: 0) [SEP] < Prev [SEP] Next >")
    assert list(page[1]) == ["back to search", "< prev", "next >"]


def test_item_page_with_attributes_button() -> None:
    nodes, clickables = pages.item_page(INS, PRODUCT, show_attrs=True)
    assert nodes[-3:] == ["Reviews", "Attributes", "Buy Now"]
    assert list(clickables)[:7] == ["back to search", "< prev", "description", "features",
                                    "reviews", "attributes", "buy now"]


EDGE = load_products([{
    "asin": "B0EDGE0001", "name": "  Odd & <Weird> Title\twith tab  ", "full_description": "   ",
    "small_description": ["", "  spaced  ", "line\nbreak", " \n "], "pricing": "$1,234.50",
    "images": [], "product_category": "A › B", "query": " Q ", "category": "c",
    "customization_options": {"Color": [{"value": "Black/White"}, {"value": "reviews"}],
                              "Size": [{"value": "XL"}, {"value": "black | white"}]}}],
    {"B0EDGE0001": {"attributes": [" a ", "b"]}})[0]
EDGE["Reviews"] = [{"title": "Nice", "score": 4, "body": "good"},
                   {"title": "", "score": 2, "body": " "}]
EDGE_INS = "Find me x & <y> with color: black"
EDGE_HEAD = f"Instruction: [SEP] {EDGE_INS} [SEP] Back to Search [SEP] < Prev"


def test_edge_item_page_whitespace_specials_and_duplicate_clickables() -> None:
    nodes, clickables = pages.item_page(EDGE_INS, EDGE)
    assert pages.join(nodes) == (
        f"{EDGE_HEAD} [SEP] color [SEP] black | white [SEP] reviews [SEP] size [SEP] xl [SEP] "
        "black | white [SEP] Odd & <Weird> Title\twith tab [SEP] Price: $1234.5 [SEP] Rating: "
        "N.A. [SEP] Description [SEP] Features [SEP] Reviews [SEP] Buy Now")
    # a value shared by two groups keeps one entry (the later group's target); a value equal
    # to a button's text keeps the button's position
    assert list(clickables) == ["back to search", "< prev", "description", "features",
                                "reviews", "buy now", "black | white", "xl"]
    assert clickables["black | white"] == ("option", "size")


@pytest.mark.parametrize(("which", "tail"), [
    ("Description", " [SEP] "),  # whitespace without a newline -> one empty entry
    ("Features", " [SEP]  [SEP] spaced [SEP] line\nbreak"),
    ("Reviews", ' [SEP] "Nice" [SEP] 4 [SEP] good [SEP] "" [SEP] 2 [SEP] '),
    ("Attributes", " [SEP] a [SEP] b [SEP] c [SEP] q [SEP] A › B"),
])
def test_edge_sub_pages(which: str, tail: str) -> None:
    assert pages.join(pages.sub_page(EDGE_INS, EDGE, which)[0]) == EDGE_HEAD + tail


def test_done_page_renders_tojson_sorted_and_escaped() -> None:
    options = {"size": "xl", "color": "black & <white>", "é": "it's"}
    nodes, clickables = pages.done_page("B0EDGE0001", options, 0.6666666666666666)
    assert clickables == {}
    assert pages.join(nodes) == (
        "Thank you for shopping with us! [SEP] Your code: [SEP] None [SEP] (Paste it in your "
        "MTurk interface.) [SEP] Purchased [SEP] asin [SEP] B0EDGE0001 [SEP] options [SEP] "
        '{"color": "black \\u0026 \\u003cwhite\\u003e", "size": "xl", "\\u00e9": "it\\u0027s"} '
        "[SEP] attrs [SEP] None [SEP] category [SEP] None [SEP] query [SEP] None [SEP] product "
        "category [SEP] None [SEP] Target [SEP] asin [SEP] options [SEP] attrs [SEP] price upper "
        "[SEP] instuction text [SEP] category [SEP] product category [SEP] query [SEP] Goal "
        "[SEP] None [SEP] Reward [SEP] Your score (min 0.0, max 1.0) [SEP] 0.6666666666666666 "
        "[SEP] Reward Details [SEP] None")


@pytest.mark.parametrize(("value", "entries"), [
    ("", []), ("\n", []), ("  \n  ", []), ("   ", [""]), ("\t", [""]), (" x ", ["x"]),
    ("\xa0", [""]), ("a\nb", ["a\nb"]), (None, ["None"]), (4, ["4"]),
])
def test_text_node_follows_beautifulsoup_whitespace_rule(value: object, entries: list) -> None:
    assert pages.text_node(value) == entries
