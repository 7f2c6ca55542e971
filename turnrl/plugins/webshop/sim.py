"""``WebShopSim``: the original text environment's page state machine, in-process and offline.

One instance plays one session, the way ``WebAgentTextEnv.step`` and ``SimServer.receive``
do (web_agent_site/envs/web_agent_text_env.py), quirks included:

* ``(.+)\\[(.+)\\]`` splits an action (``re.match``: leading text is part of the name, text
  after the last ``]`` is ignored); the argument is lower-cased.
* ``search[...]`` with a non-empty argument runs from **any** page (only the search page
  advertises it); keywords are the argument split on single spaces.
* ``click[x]`` runs iff ``x`` is one of the current page's clickables and is not ``search``
  (listed on the search page, always rejected). Anything else is a no-op: same page, reward 0,
  ``valid_action=False``; the step still counts.
* Routing of a click uses the page name read from the current URL, built like the original's
  (so a query containing ``item_page`` confuses it exactly as it confuses the original).
* Results show 10 per page; ``Next >`` is always offered (past the last page it shows an empty
  page), ``< Prev`` from page 2; every page change re-runs the search (``<r>`` re-draws).
* Going back to the results (``< Prev`` on an item) clears the chosen options; options are
  kept across Description/Features/Reviews; ``Back to Search`` resets the session.
* ``Buy Now`` ends the episode with the original's score (``reward.get_reward``) in
  ``info["task_score"]``; reward = the score (default) or verl-agent's ``10 x (score == 1)``
  (``reward="verl"``). ``won`` = score 1. Truncation after ``max_steps`` (15, verl-agent's).

``lenient_actions=True`` (off by default; not the original's behaviour) first rewrites an action
that only differs from an admissible one in whitespace -- ``click [ 3 . 4 fl oz ]`` ->
``click[3.4 fl oz]``, ``search [ a , b ]`` -> ``search[a , b]`` -- for models whose tokenizer
cannot reproduce spacing (the CPU quickstart's word-level tiny model).

``state_key`` = page + product + chosen options (+ query and page number on results): the
state without history, for GiGPO/HGPO step matching. ``Observation.actions`` is the list
verl-agent shows its model: ``search[<your query>]`` where the page has a search bar, then
``click[x]`` for every clickable (``click[search]`` included, as there).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from typing import Any

from turnrl.core.types import Observation, Task, Transition
from turnrl.plugins.webshop import pages
from turnrl.plugins.webshop.catalog import Catalog, get_catalog

REWARDS = ("score", "verl")
MAX_STEPS = 15
PRODUCT_WINDOW = 10
SEARCH_PLACEHOLDER = "search[<your query>]"
SUB_PAGES = ("Description", "Features", "Reviews", "Attributes")
_ACTION = re.compile(r"(.+)\[(.+)\]")
_LOOSE = re.compile(r"\s*(search|click)\s*\[\s*(.*?)\s*\]\s*", re.DOTALL)
_SPACE = re.compile(r"\s+")
MAX_EAGER_NOUNS = 20_000
"""Catalogs up to this size get every title's nouns in one spaCy pass (then cached on disk);
larger ones (the original's 1.18M products) compute a title's nouns when it is first bought."""


def parse_action(action: str) -> tuple[str, str | None]:
    """``engine.parse_action``: ``(name, argument)``, argument None when the pattern fails."""
    m = _ACTION.match(action)
    if m is None:
        return action, None
    return m.group(1), m.group(2)


def page_name(url: str | None) -> str | None:
    """``SimServer.get_page_name``: the first page name found in the URL."""
    if url is None:
        return None
    for name in ("search_results", "item_page", "item_sub_page", "done"):
        if name in url:
            return name
    return ""


def prepare(catalog: Catalog) -> None:
    """Everything a session may need, loaded or built once per process (disk-cached)."""
    catalog.search_engine()
    if len(catalog.products) <= MAX_EAGER_NOUNS:
        catalog.ensure_nouns()


class WebShopSim:
    """Async ``Env`` for one WebShop session over a catalog (from the task's data)."""

    def __init__(self, *, max_steps: int = MAX_STEPS, reward: str = "score",
                 show_attrs: bool = False, lenient_actions: bool = False) -> None:
        if max_steps < 1:
            raise ValueError(f"webshop max_steps must be >= 1, got {max_steps}")
        if reward not in REWARDS:
            raise ValueError(f"webshop reward must be one of {list(REWARDS)}, got {reward!r}")
        self.max_steps = max_steps
        self.reward_mode = reward
        self.show_attrs = show_attrs
        self.lenient_actions = lenient_actions
        self.catalog: Catalog | None = None
        self.goal: dict[str, Any] = {}
        self.closed = False
        self.t = 0

    # ------------------------------------------------------------------ episode API
    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        if self.closed:
            raise RuntimeError("WebShopSim.reset called after close()")
        try:
            spec, goal = task.data["catalog"], task.data["goal"]
        except KeyError as exc:
            raise ValueError(f"task {task.id} is not a WebShop task (no {exc} in its data)"
                             ) from None
        catalog = await asyncio.to_thread(get_catalog, spec)
        if not catalog.prepared:
            await asyncio.to_thread(prepare, catalog)
            catalog.prepared = True
        self.catalog = catalog
        self.goal = goal
        self.instruction = goal["instruction_text"]
        self.session_id = str(task.data.get("goal_index", task.id))
        self.rng = random.Random(task.seed if seed is None else seed)
        self.t = 0
        self._results_memo: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        self._index()
        return self._observe()

    async def step(self, action: str) -> Transition:
        if self.catalog is None:
            raise RuntimeError("WebShopSim.step called before reset()")
        self.t += 1
        if self.lenient_actions:
            action = self._snap(action)
        name, arg = parse_action(action)
        if arg is not None:
            arg = arg.lower()
        score, done, valid = 0.0, False, True
        if name == "search" and arg is not None and arg != "":
            self._search(arg.split(" "), 1)
        elif name == "click" and arg in self.clickables and arg != "search":
            valid = self._click(arg)
            if self.view == "done":
                score, done = self.score, True
        else:
            valid = False
        won = done and score == 1.0
        reward = (10.0 if won else 0.0) if self.reward_mode == "verl" else score if done else 0.0
        info: dict[str, Any] = {"won": won, "valid_action": valid,
                                "task_score": score if done else 0.0,
                                "page": page_name(self.url) or "search"}
        if done:
            info["reward_info"] = self.reward_info
        return Transition(observation=self._observe(), reward=reward, terminated=done,
                          truncated=not done and self.t >= self.max_steps, info=info)

    async def close(self) -> None:
        self.closed = True

    def _snap(self, action: str) -> str:
        """``lenient_actions``: the admissible action this one differs from only in spaces."""
        m = _LOOSE.fullmatch(action)
        if m is None:
            return action
        name, arg = m.group(1), m.group(2)
        if name == "click" and arg.lower() not in self.clickables:
            squeezed = _SPACE.sub("", arg.lower())
            hits = [c for c in self.clickables if _SPACE.sub("", c) == squeezed]
            if len(hits) == 1:
                arg = hits[0]
        return f"{name}[{arg}]"

    # ------------------------------------------------------------------ the server side
    def _index(self) -> None:
        """The search page; clears the session (reset, ``Back to Search``)."""
        self.keywords: list[str] | None = None
        self.page: int | None = None
        self.asin: str | None = None
        self.asins: set[str] = set()
        self.options: dict[str, str] = {}
        self.url = f"/{self.session_id}"
        self.view, self.sub = "search", None
        self.nodes, self.clickables = pages.search_page(self.instruction)

    def _results(self, keywords: list[str]) -> list[dict[str, Any]]:
        key = tuple(keywords)
        if keywords[0] == "<r>" or key not in self._results_memo:
            assert self.catalog is not None
            found = self.catalog.search_engine().search(keywords, rng=self.rng)
            if keywords[0] == "<r>":
                return found
            self._results_memo[key] = found
        return self._results_memo[key]

    def _search(self, keywords: list[str], page: int) -> None:
        self.keywords, self.page = keywords, page
        self.asin, self.options = None, {}
        found = self._results(keywords)
        shown = found[(page - 1) * PRODUCT_WINDOW:page * PRODUCT_WINDOW]
        self.url = f"/search_results/{self.session_id}/{'+'.join(keywords)}/{page}"
        self.view, self.sub = "results", None
        self.nodes, self.clickables = pages.results_page(self.instruction, shown, page,
                                                         len(found))

    def _click(self, name: str) -> bool:
        where = page_name(self.url)
        if name == "buy now":
            self._done()
        elif name == "back to search":
            self._index()
        elif name == "next >" and where == "search_results":
            assert self.keywords is not None
            assert self.page is not None
            self._search(self.keywords, self.page + 1)
        elif name == "< prev" and where == "search_results":
            assert self.keywords is not None
            assert self.page is not None
            self._search(self.keywords, self.page - 1)
        elif name == "< prev" and where == "item_sub_page":
            return self._item(name)
        elif name == "< prev" and where == "item_page":
            assert self.keywords is not None
            assert self.page is not None
            self._search(self.keywords, self.page)
        elif name in [s.lower() for s in SUB_PAGES]:
            self._sub(next(s for s in SUB_PAGES if s.lower() == name))
        else:
            return self._item(name)
        return True

    def _item(self, name: str) -> bool:
        target = self.clickables[name]
        if target == pages.LINK:
            self.asin = name.upper()
            self.asins.add(self.asin)
        elif isinstance(target, tuple):
            self.options[target[1].lower()] = name
        assert self.catalog is not None
        product = self.catalog.by_asin.get(self.asin or "")
        if product is None:  # the original raises here (a URL quirk); answer as a no-op
            return False
        keywords = "+".join(self.keywords or [])
        self.url = (f"/item_page/{self.session_id}/{self.asin}/{keywords}/{self.page}/"
                    f"{json.dumps(self.options)}")
        self.view, self.sub = "item", None
        self.nodes, self.clickables = pages.item_page(self.instruction, product,
                                                      show_attrs=self.show_attrs)
        return True

    def _sub(self, which: str) -> None:
        assert self.catalog is not None
        product = self.catalog.by_asin[self.asin or ""]
        keywords = "+".join(self.keywords or [])
        self.url = (f"/item_sub_page/{self.session_id}/{self.asin}/{keywords}/{self.page}/"
                    f"{which}/{self.options}")
        self.view, self.sub = "sub", which
        self.nodes, self.clickables = pages.sub_page(self.instruction, product, which)

    def _done(self) -> None:
        from turnrl.plugins.webshop.reward import get_reward

        assert self.catalog is not None
        assert self.asin is not None
        product = self.catalog.by_asin[self.asin]
        price = self.catalog.prices[self.asin]
        score, info = get_reward(product, self.goal, price=price, options=self.options,
                                 verbose=True)
        self.score = float(score)
        self.reward_info = {k: (bool(v) if isinstance(v, bool) else float(v))
                            for k, v in info.items()}
        self.url = f"/done/{self.session_id}/{self.asin}/{self.options}"
        self.view, self.sub = "done", None
        self.nodes, self.clickables = pages.done_page(self.asin, self.options, self.score)

    # ------------------------------------------------------------------ observation
    def available_actions(self) -> dict[str, Any]:
        """The original's ``get_available_actions()``."""
        return {"has_search_bar": self.view == "search", "clickables": list(self.clickables)}

    def state_key(self) -> str:
        options = json.dumps(self.options, sort_keys=True)
        if self.view == "search":
            return "search"
        if self.view == "results":
            return f"results|{' '.join(self.keywords or [])}|{self.page}"
        page = self.sub.lower() if self.view == "sub" and self.sub else self.view
        return f"{page}|{self.asin}|{options}"

    def _observe(self) -> Observation:
        actions = [SEARCH_PLACEHOLDER] if self.view == "search" else []
        actions += [f"click[{c}]" for c in self.clickables]
        return Observation(text=pages.join(self.nodes), state_key=self.state_key(),
                           actions=tuple(actions))
