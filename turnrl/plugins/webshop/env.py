"""``turnrl.make("webshop", backend=...)``: the offline simulator or an adapter, by name."""

from __future__ import annotations

import importlib
from typing import Any

BACKENDS = {
    "sim": "turnrl.plugins.webshop.sim:WebShopSim",
    "original": "turnrl.plugins.webshop.adapters:OriginalWebShop",
    "agentgym": "turnrl.plugins.webshop.adapters:AgentGymWebShop",
}


def make_env(*, backend: str = "sim", **options: Any) -> Any:
    """One WebShop environment. ``sim`` options: ``max_steps`` (15), ``reward`` (``score`` =
    the task score on a purchase, ``verl`` = 10 x (score == 1)), ``show_attrs`` (False: the
    item page's ``Attributes`` button, off in the original text env), ``lenient_actions``
    (False; True accepts actions that differ from an admissible one only in spacing).
    ``original``: ``webshop_path`` (a WebShop checkout) plus ``WebAgentTextEnv`` keyword
    arguments; ``agentgym``: ``url`` of an AgentGym WebShop server. See ``adapters.py``."""
    target = BACKENDS.get(backend)
    if target is None:
        raise ValueError(f"webshop has no backend {backend!r}; backends: {', '.join(BACKENDS)}")
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)(**options)
