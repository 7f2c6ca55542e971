"""The generated catalog, the original's loading rules, goals, panels, and the loader for the
original data files (on small files of their shape written here)."""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import pytest

import turnrl
from turnrl.plugins.webshop.catalog import (
    CatalogSpec,
    build_catalog,
    get_catalog,
    load_products,
    parse_pricing,
)
from turnrl.plugins.webshop.generator import generate

RECORD_FIELDS = {"asin", "name", "full_description", "small_description", "pricing", "images",
                 "product_category", "query", "category", "customization_options"}


def test_generated_records_have_the_originals_fields() -> None:
    items, attributes = generate(50, seed=0)
    assert len({i["asin"] for i in items}) == 50
    for item in items:
        assert set(item) == RECORD_FIELDS
        assert re.fullmatch(r"B0[0-9A-Z]{8}", item["asin"])
        assert re.fullmatch(r"\$\d+\.\d\d(\$\d+\.\d\d)?", item["pricing"])
        assert " › " in item["product_category"]
        assert item["category"] in {"beauty", "electronics", "fashion", "food", "furniture"}
        record = attributes[item["asin"]]
        assert record["attributes"]
        if "instruction" in record:
            assert record["instruction"].startswith("Find me ")
            assert set(record["instruction_attributes"]) <= set(record["attributes"])


def test_generation_is_seeded_and_small_is_a_prefix_of_full() -> None:
    small, _ = generate(200, seed=0)
    assert generate(200, seed=0)[0] == small
    assert generate(300, seed=0)[0][:200] == small
    assert generate(200, seed=1)[0] != small


def test_tiers() -> None:
    assert len(get_catalog(CatalogSpec(tier="small")).products) == 200
    assert len(get_catalog(CatalogSpec(tier="full")).products) >= 2000
    with pytest.raises(ValueError, match="no tier 'huge'"):
        build_catalog(CatalogSpec(tier="huge"))
    with pytest.raises(ValueError, match="no catalog source"):
        build_catalog(CatalogSpec(source="web"))


def test_load_products_rules() -> None:
    raw = {"asin": "B0TEST0001", "name": "N", "full_description": "D", "small_description": "one",
           "pricing": "$1,299.99$1,499.00", "images": ["img"], "product_category": "A › B",
           "query": "  Some Query ", "category": "c",
           "customization_options": {"Color": [{"value": " Black/White ", "image": "x"}],
                                     "Size": None}}
    dup = dict(raw)
    bad = dict(raw, asin="TOO-LONG-ASIN")
    (p,) = load_products([raw, dup, bad], {})
    assert p["Title"] == "N"
    assert p["Description"] == "D"
    assert p["BulletPoints"] == ["one"]
    assert p["pricing"] == [1299.99, 1499.0]
    assert p["Price"] == "$1299.99 to $1499.0"
    assert p["options"] == {"color": ["black | white"]}
    assert p["option_to_image"] == {"black | white": "x"}
    assert p["Attributes"] == ["DUMMY_ATTR"]
    assert p["Rating"] == "N.A."
    assert p["Reviews"] == []
    assert p["query"] == "some query"
    assert p["MainImage"] == "img"
    assert p["instruction_text"] is None
    assert parse_pricing("") == ([100.0], "$100.0")
    assert parse_pricing("$19.99") == ([19.99], "$19.99")
    assert parse_pricing("$10$25.5") == ([10.0, 25.5], "$10.0 to $25.5")


def test_synthetic_goals_follow_the_original_rules() -> None:
    catalog = get_catalog(CatalogSpec(tier="small"))
    by_asin = catalog.by_asin
    with_instruction = [p for p in catalog.products if p.get("instruction_text")]
    expected = sum(math.prod(len(v) for v in p["options"].values()) for p in with_instruction)
    assert len(catalog.goals) == expected
    for goal in catalog.goals[:200]:
        p = by_asin[goal["asin"]]
        options = goal["goal_options"]
        assert list(options) == sorted(p["options"])
        assert tuple(options.values()) in set(itertools.product(*(p["options"][k]
                                                                   for k in sorted(options))))
        option_text = ", and ".join(f"{k}: {v}" for k, v in options.items())
        price = catalog.prices[goal["asin"]]
        assert goal["price_upper"] > price
        assert goal["price_upper"] in [10.0 * i for i in range(1, 100)][:99]
        candidates = [x for x in (10.0 * i for i in range(1, 100)) if x > price][:4]
        assert goal["price_upper"] in candidates[1:]  # the larger of two distinct draws
        assert goal["instruction_text"] == (
            f"{p['instruction_text']}{' with ' + option_text if option_text else ''}"
            f", and price lower than {goal['price_upper']:.2f} dollars")
        assert goal["attributes"] == p["instruction_attributes"]
        assert goal["name"] == p["Title"]
        assert goal["query"] == p["query"]
        assert 0 < goal["weight"] <= 1


def test_panels_are_fixed_and_disjoint() -> None:
    panels = {s: turnrl.tasks("webshop", s) for s in ("train", "valid", "test")}
    assert [len(panels[s]) for s in ("test", "valid")] == [100, 200]
    ids = [t.id for ts in panels.values() for t in ts]
    assert len(ids) == len(set(ids))
    assert panels["test"][0].id == "webshop-small-00000"
    assert panels["valid"][0].data["goal_index"] == 100
    again = turnrl.tasks("webshop", "test")
    assert [t.to_dict() for t in again] == [t.to_dict() for t in panels["test"]]
    json.dumps([t.to_dict() for t in panels["test"]])  # JSON-safe
    full = turnrl.tasks("webshop", "test", tier="full")
    assert len(full) == 500
    assert full[0].id == "webshop-full-00000"
    assert turnrl.tasks("webshop", "valid", tier="full")[0].data["goal_index"] == 500
    assert len(turnrl.tasks("webshop", "train", n=7)) == 7


def test_task_option_errors() -> None:
    with pytest.raises(ValueError, match="unknown options"):
        turnrl.tasks("webshop", "test", colour="red")
    with pytest.raises(FileNotFoundError, match="needs the original data files"):
        turnrl.tasks("webshop", "test", source="original")


def test_index_tasks_for_adapters() -> None:
    tasks = turnrl.tasks("webshop", "valid", source="index", num_goals=700)
    assert [t.data for t in tasks[:2]] == [{"goal_index": 500}, {"goal_index": 501}]
    assert len(tasks) == 200
    assert len(turnrl.tasks("webshop", "train", source="index")) == 6910 - 1500


# ------------------------------------------------------------------ the original data files
ITEMS = [
    {"asin": "B07DJJXGB5", "name": "Tea Tree Body Scrub", "full_description": "A scrub.",
     "small_description": ["Tea tree oil", "Natural"], "pricing": "$12.99",
     "images": ["https://example.invalid/a.jpg"],
     "product_category": "Beauty & Personal Care › Skin Care › Scrubs & Body Treatments",
     "query": "body scrub", "category": "beauty",
     "customization_options": {"Size": [{"value": "8 Oz", "image": None},
                                        {"value": "16 Oz", "image": None}],
                               "Scent": [{"value": "Mint/Lime", "image": None}]}},
    {"asin": "B08X2PKKB2", "name": "Rose Gold Travel Bottles", "full_description": "Bottles.",
     "small_description": "Leak proof", "pricing": "$8.00$15.00", "images": ["b"],
     "product_category": "Beauty & Personal Care › Tools & Accessories › Refillable Containers",
     "query": "travel bottles", "category": "beauty", "customization_options": {}},
    {"asin": "B0NOINSTR1", "name": "No Instruction", "full_description": "", "pricing": "",
     "small_description": [""], "images": ["c"], "product_category": "A › B", "query": "x",
     "category": "beauty", "customization_options": None},
]
ATTRS = {
    "B07DJJXGB5": {"attributes": ["tea tree", "essential oils", "natural ingredients"],
                   "instruction": "Find me scrubs & body treatments with tea tree, natural "
                                  "ingredients",
                   "instruction_attributes": ["tea tree", "natural ingredients"]},
    "B08X2PKKB2": {"attributes": ["rose gold", "easy carry"],
                   "instruction": "Find me easy carry refillable containers with rose gold",
                   "instruction_attributes": ["easy carry", "rose gold"]},
    "B0NOINSTR1": {"attributes": []},
}
HUMAN = {"B07DJJXGB5": [
    {"instruction": "i want a tea tree body scrub in 16 oz.", "instruction_attributes":
     ["tea tree"], "instruction_options": ["16 oz"]},
    {"instruction": "no attributes", "instruction_attributes": [], "instruction_options": []}]}


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TURNRL_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "items_shuffle_1000.json").write_text(json.dumps(ITEMS))
    (tmp_path / "items_ins_v2_1000.json").write_text(json.dumps(ATTRS))
    (tmp_path / "items_human_ins.json").write_text(json.dumps(HUMAN))
    return tmp_path


def test_original_files_synthetic_goals(data_dir: Path) -> None:
    spec = CatalogSpec(source="original", tier="small", data_dir=str(data_dir))
    catalog = build_catalog(spec)
    assert [p["asin"] for p in catalog.products] == [i["asin"] for i in ITEMS]
    assert catalog.by_asin["B07DJJXGB5"]["options"] == {"size": ["8 oz", "16 oz"],
                                                        "scent": ["mint | lime"]}
    assert catalog.by_asin["B0NOINSTR1"]["Price"] == "$100.0"
    assert 8.0 <= catalog.prices["B08X2PKKB2"] <= 15.0
    texts = sorted(g["instruction_text"].split(", and price")[0] for g in catalog.goals)
    assert texts == [
        "Find me easy carry refillable containers with rose gold",
        "Find me scrubs & body treatments with tea tree, natural ingredients with scent: mint "
        "| lime, and size: 16 oz",
        "Find me scrubs & body treatments with tea tree, natural ingredients with scent: mint "
        "| lime, and size: 8 oz"]
    tasks = turnrl.tasks("webshop", "test", source="original", data_dir=str(data_dir))
    assert len(tasks) == 3
    assert tasks[0].id.startswith("webshop-original-small-")


def test_original_files_human_goals_and_play(data_dir: Path) -> None:
    tasks = turnrl.tasks("webshop", "test", source="original", data_dir=str(data_dir),
                         human_goals=True)
    assert len(tasks) == 1  # the instruction without attributes is skipped, as in the original
    goal = tasks[0].data["goal"]
    assert goal["goal_options"] == ["16 oz"]
    assert goal["weight"] == 1
    assert goal["instruction_text"].startswith("i want a tea tree body scrub in 16 oz, and")
    from turnrl.core.checker import check_env

    report = check_env("webshop", split="test", task_options={"source": "original",
                                                "data_dir": str(data_dir),
                                                "human_goals": True})
    assert report.ok, report.format()


def test_original_files_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"items_shuffle_1000\.json"):
        build_catalog(CatalogSpec(source="original", data_dir=str(tmp_path)))
    (tmp_path / "items_shuffle_1000.json").write_text("{not json")
    (tmp_path / "items_ins_v2_1000.json").write_text("{}")
    with pytest.raises(ValueError, match="not valid JSON"):
        build_catalog(CatalogSpec(source="original", data_dir=str(tmp_path)))
    with pytest.raises(ValueError, match="tiers small, full"):
        build_catalog(CatalogSpec(source="original", tier="tiny", data_dir=str(tmp_path)))
