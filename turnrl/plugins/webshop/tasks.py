"""``turnrl.tasks("webshop", split, ...)``: fixed panels of goals, by goal index.

Options: ``tier`` (``small`` | ``full``), ``source`` (``generated`` | ``original`` |
``index``), ``seed`` (the generated catalog's), ``goal_seed`` (233: the shuffle seed),
``human_goals``, ``data_dir`` (``original``), ``num_goals`` (``index``), ``n`` (first n).

``index`` tasks carry only a goal index (``{"goal_index": i}``): for the adapters, whose
environment (the original ``WebAgentTextEnv`` or AgentGym's server) holds its own goals; their
panels use the original's boundaries over ``num_goals`` goals (6,910 with the original's
1,000-product files and synthetic goals).
"""

from __future__ import annotations

from typing import Any

from turnrl.core.types import Task
from turnrl.plugins.webshop.catalog import PANELS, SPLITS, CatalogSpec, get_catalog

ORIGINAL_1K_GOALS = 6910


def make_tasks(split: str, *, tier: str = "small", source: str = "generated", seed: int = 0,
               goal_seed: int = 233, human_goals: bool = False, data_dir: str | None = None,
               num_goals: int = ORIGINAL_1K_GOALS, n: int | None = None,
               **unknown: Any) -> list[Task]:
    if unknown:
        raise ValueError(f"webshop tasks got unknown options {sorted(unknown)}; options: tier, "
                         "source, seed, goal_seed, human_goals, data_dir, num_goals, n")
    if split not in SPLITS:
        raise ValueError(f"webshop has no split {split!r}; splits: {', '.join(SPLITS)}")
    if n is not None and n < 0:
        raise ValueError(f"webshop task count must be >= 0, got {n}")
    if source == "index":
        lo, hi = PANELS["full"][split]
        indices = range(min(lo, num_goals), num_goals if hi is None else min(hi, num_goals))
        chosen = indices if n is None else indices[:n]
        return [Task(env="webshop", id=f"webshop-index-{i:05d}", split=split, seed=i,
                     data={"goal_index": i}) for i in chosen]
    spec = CatalogSpec(source=source, tier=tier, seed=seed, data_dir=data_dir,
                       human_goals=human_goals, goal_seed=goal_seed)
    catalog = get_catalog(spec)
    indices = catalog.panel(split)
    chosen = indices if n is None else indices[:n]
    spec_data = spec.to_dict()
    prefix = "webshop" if source == "generated" else f"webshop-{source}"
    kind = "-human" if human_goals else ""
    return [Task(env="webshop", id=f"{prefix}-{tier}{kind}-{i:05d}", split=split, seed=i,
                 data={"catalog": spec_data, "goal_index": i,
                       "instruction": catalog.goals[i]["instruction_text"],
                       "goal": catalog.goals[i]})
            for i in chosen]


def vocabulary(*, tier: str = "small", source: str = "generated", seed: int = 0,
               goal_seed: int = 233, human_goals: bool = False, data_dir: str | None = None,
               **_: Any) -> list[str]:
    """Every text of a catalog a model may read or write (titles, ASINs as shown and as
    clicked, prices, options, descriptions, attributes, instructions): the tiny model's
    vocabulary source (``turnrl.inference.tiny``), so no product word is ``<unk>``."""
    if source == "index":
        return []
    catalog = get_catalog(CatalogSpec(source=source, tier=tier, seed=seed, data_dir=data_dir,
                                      human_goals=human_goals, goal_seed=goal_seed))
    texts: list[str] = []
    for p in catalog.products:
        texts += [p["asin"], p["asin"].lower(), p["Title"], p["Price"], p["Description"],
                  p["category"], p["query"], p["product_category"], *p["BulletPoints"],
                  *p["Attributes"]]
        for name, values in p["options"].items():
            texts += [name, *values]
    texts += [g["instruction_text"] for g in catalog.goals]
    return texts
