"""The page state machine, against the original text environment's rules (web_agent_text_env.py
``step`` / ``SimServer.receive``), on a generated small-tier task."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import turnrl
from turnrl.core.types import Task
from turnrl.plugins.webshop.catalog import CatalogSpec, get_catalog
from turnrl.plugins.webshop.expert import unreachable
from turnrl.plugins.webshop.sim import WebShopSim, page_name, parse_action


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def task() -> Task:
    """A test-panel goal whose product has two option groups (and can score 1)."""
    tasks = turnrl.tasks("webshop", "test")
    return next(t for t in tasks if len(t.data["goal"]["goal_options"]) == 2
                and not unreachable(t.data["goal"]))


@pytest.fixture(scope="module")
def product(task: Task) -> dict[str, Any]:
    return get_catalog(CatalogSpec(tier="small")).by_asin[task.data["goal"]["asin"]]


class Session:
    """A tiny driver: one env, each step's transition kept."""

    def __init__(self, task: Task, **options: Any) -> None:
        self.env = WebShopSim(**options)
        self.obs = run(self.env.reset(task))
        self.last: Any = None

    def do(self, action: str) -> Any:
        self.last = run(self.env.step(action))
        self.obs = self.last.observation
        return self.last


def query_for(product: dict[str, Any]) -> str:
    return product["Title"].lower()


def test_reset_shows_the_search_page(task: Task) -> None:
    s = Session(task)
    ins = task.data["goal"]["instruction_text"]
    assert s.obs.text == f"WebShop [SEP] Instruction: [SEP] {ins} [SEP] Search"
    assert s.obs.actions == ("search[<your query>]", "click[search]")
    assert s.obs.state_key == "search"


def test_click_search_is_listed_but_rejected(task: Task) -> None:
    s = Session(task)
    before = s.obs
    tr = s.do("click[search]")
    assert tr.info["valid_action"] is False
    assert tr.observation == before
    assert tr.reward == 0
    assert not tr.done


@pytest.mark.parametrize("action", ["", "search[]", "search", "buy", "click[nothing]",
                                    " search[x]", "Search[x]", "click[ search ]",
                                    "search[a\nb]"])
def test_malformed_actions_are_no_ops(task: Task, action: str) -> None:
    s = Session(task)
    tr = s.do(action)
    assert tr.info["valid_action"] is False
    assert tr.observation.state_key == "search"


def test_parse_action_regex_quirks() -> None:
    assert parse_action("click[buy now] thanks") == ("click", "buy now")
    assert parse_action("search[a[b]]") == ("search[a", "b]")  # not a search at all
    assert parse_action("nothing") == ("nothing", None)
    assert page_name("/item_sub_page/1/B0/kw/1/Description/{}") == "item_sub_page"
    assert page_name("/search_results/1/item_page/1") == "search_results"


def test_search_lowercases_and_pages(task: Task, product: dict[str, Any]) -> None:
    s = Session(task)
    tr = s.do(f"search[{product['Title'].upper()}]")
    assert tr.info["valid_action"] is True
    assert s.obs.state_key == f"results|{query_for(product)}|1"
    assert s.obs.text.split(" [SEP] ")[3].startswith("Page 1 (Total results: ")
    assert f"click[{product['asin'].lower()}]" in s.obs.actions
    assert "click[< prev]" not in s.obs.actions
    s.do("click[next >]")
    assert s.obs.state_key == f"results|{query_for(product)}|2"
    assert "click[< prev]" in s.obs.actions
    s.do("click[< prev]")
    assert s.obs.state_key == f"results|{query_for(product)}|1"


def test_next_is_offered_past_the_last_page(task: Task) -> None:
    s = Session(task)
    s.do("search[zzzz-no-such-word]")
    assert "Page 1 (Total results: 0) [SEP] Next >" in s.obs.text
    s.do("click[next >]")
    assert s.obs.text.endswith("Page 2 (Total results: 0) [SEP] < Prev [SEP] Next >")


def test_options_are_remembered_and_cleared_on_the_way_back(
        task: Task, product: dict[str, Any]) -> None:
    s = Session(task)
    s.do(f"search[{query_for(product)}]")
    s.do(f"click[{product['asin'].lower()}]")
    asin = product["asin"]
    assert s.obs.state_key == f"item|{asin}|{{}}"
    (name1, values1), (name2, values2) = list(product["options"].items())[:2]
    s.do(f"click[{values1[0]}]")
    s.do(f"click[{values2[-1]}]")
    chosen = {name1: values1[0], name2: values2[-1]}
    assert s.obs.state_key == f"item|{asin}|{json.dumps(chosen, sort_keys=True)}"
    s.do(f"click[{values1[-1]}]")  # a second click in a group replaces the first
    chosen[name1] = values1[-1]
    assert json.loads(s.obs.state_key.split("|", 2)[2]) == chosen
    s.do("click[description]")  # sub-pages keep the options
    assert s.obs.state_key == f"description|{asin}|{json.dumps(chosen, sort_keys=True)}"
    assert s.obs.actions == ("click[back to search]", "click[< prev]")
    s.do("click[< prev]")
    assert s.obs.state_key.startswith(f"item|{asin}|")
    assert json.loads(
        s.obs.state_key.split("|", 2)[2]) == chosen
    s.do("click[< prev]")  # back to the results clears them (search_results resets options)
    assert s.obs.state_key == f"results|{query_for(product)}|1"
    s.do(f"click[{product['asin'].lower()}]")
    assert s.obs.state_key == f"item|{asin}|{{}}"
    s.do("click[back to search]")
    assert s.obs.state_key == "search"


def test_search_works_from_any_page(task: Task, product: dict[str, Any]) -> None:
    s = Session(task)
    s.do(f"search[{query_for(product)}]")
    s.do(f"click[{product['asin'].lower()}]")
    assert "search[<your query>]" not in s.obs.actions  # not advertised...
    tr = s.do("search[anything else]")  # ...but executed
    assert tr.info["valid_action"] is True
    assert s.obs.state_key == "results|anything else|1"


def test_buying_the_goal_scores_one(task: Task, product: dict[str, Any]) -> None:
    s = Session(task)
    goal = task.data["goal"]
    s.do(f"search[{query_for(product)}]")
    s.do(f"click[{product['asin'].lower()}]")
    for value in goal["goal_options"].values():
        s.do(f"click[{value}]")
    tr = s.do("click[buy now]")
    assert tr.terminated
    assert not tr.truncated
    assert tr.reward == 1.0
    assert tr.info["task_score"] == 1.0
    assert tr.info["won"] is True
    assert tr.info["reward_info"]["r_type"] == 1.0
    assert tr.observation.actions == ()
    assert tr.observation.state_key.startswith("done|")
    assert tr.observation.text.startswith("Thank you for shopping with us! [SEP] Your code:")
    assert " [SEP] 1.0 [SEP] Reward Details [SEP] None" in tr.observation.text


def test_partial_purchase_and_verl_reward(task: Task, product: dict[str, Any]) -> None:
    for mode in ("score", "verl"):
        s = Session(task, reward=mode)
        s.do(f"search[{query_for(product)}]")
        s.do(f"click[{product['asin'].lower()}]")
        tr = s.do("click[buy now]")  # no options chosen
        goal = task.data["goal"]
        expected = (len(goal["attributes"]) + 0 + 1) / (len(goal["attributes"]) + 2 + 1)
        assert tr.info["task_score"] == pytest.approx(expected)
        assert tr.info["won"] is False
        assert tr.reward == (pytest.approx(expected) if mode == "score" else 0.0)
    won = Session(task, reward="verl")
    won.do(f"search[{query_for(product)}]")
    won.do(f"click[{product['asin'].lower()}]")
    for value in task.data["goal"]["goal_options"].values():
        won.do(f"click[{value}]")
    assert won.do("click[buy now]").reward == 10.0


def test_truncation_after_max_steps(task: Task) -> None:
    s = Session(task, max_steps=3)
    assert not s.do("click[search]").done
    assert not s.do("search[a]").done
    tr = s.do("click[next >]")
    assert tr.truncated
    assert not tr.terminated
    assert tr.reward == 0.0
    default = WebShopSim()
    assert default.max_steps == 15


def test_lenient_actions_snap_spacing_only(task: Task, product: dict[str, Any]) -> None:
    strict = Session(task)
    assert strict.do(f"search [ {query_for(product)} ]").info["valid_action"] is False
    s = Session(task, lenient_actions=True)
    assert s.do(f"search [ {query_for(product)} ]").info["valid_action"] is True
    assert s.do(f"click [ {product['asin'].lower()} ]").info["valid_action"] is True
    value = next(iter(product["options"].values()))[0]
    spaced = " ".join(value.replace(".", " . ").split())
    assert s.do(f"click [ {spaced} ]").info["valid_action"] is True
    assert json.loads(s.obs.state_key.split("|", 2)[2]) == {
        next(iter(product["options"])): value}
    assert s.do("click [ no such thing ]").info["valid_action"] is False


def test_special_search_prefixes(task: Task, product: dict[str, Any]) -> None:
    s = Session(task)
    s.do(f"search[<q> {product['query']}]")
    catalog = get_catalog(CatalogSpec(tier="small"))
    same_query = [p for p in catalog.products if p["query"] == product["query"]]
    assert f"(Total results: {len(same_query)})" in s.obs.text
    s.do(f"search[<c> {product['category']}]")
    same_cat = [p for p in catalog.products if p["category"] == product["category"]]
    assert f"(Total results: {len(same_cat)})" in s.obs.text
    s.do(f"search[<a> {product['Attributes'][0]}]")
    with_attr = [p for p in catalog.products if product["Attributes"][0] in p["Attributes"]]
    assert f"(Total results: {len(with_attr)})" in s.obs.text
    s.do("search[<r>]")
    assert "(Total results: 50)" in s.obs.text


def test_same_seed_same_random_search(task: Task) -> None:
    a, b = Session(task), Session(task)
    assert a.do("search[<r>]").observation == b.do("search[<r>]").observation


def test_non_webshop_task_is_refused() -> None:
    env = WebShopSim()
    with pytest.raises(ValueError, match="not a WebShop task"):
        run(env.reset(Task(env="webshop", id="x", data={})))
    with pytest.raises(ValueError, match="max_steps"):
        WebShopSim(max_steps=0)
    with pytest.raises(ValueError, match="reward"):
        WebShopSim(reward="dense")
