"""``turnrl.make("alfworld", backend=...)``: picks the simulator or the real engine by name."""

from __future__ import annotations

import importlib
from typing import Any

BACKENDS = {
    "sim": "turnrl.plugins.alfworld.sim:AlfworldSim",
    "textworld": "turnrl.plugins.alfworld.textworld_backend:AlfworldTextWorld",
}


def make_env(*, backend: str = "sim", **options: Any) -> Any:
    """Build one ALFWorld environment. Options: ``max_steps`` (50), ``reward`` (``score`` = 1 on
    a win, ``verl`` = 10 x won), ``put_verb`` (``move`` / legacy ``put``), ``accept_legacy_put``."""
    target = BACKENDS.get(backend)
    if target is None:
        raise ValueError(f"alfworld has no backend {backend!r}; backends: {', '.join(BACKENDS)}")
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)(**options)


RESOURCES = {
    # pure Python, a step in well under a millisecond: several instances share a worker
    "sim": {"cpus": 0.125, "memory_mb": 64, "per_actor": 8},
    # parses PDDL and plans under the GIL (a core while it works), and its parser is not
    # thread-safe: one instance per worker process, which is how it uses more cores
    "textworld": {"cpus": 1, "memory_mb": 600, "per_actor": 1},
}


def resources(*, backend: str = "sim", **_: Any) -> dict[str, Any]:
    """What one instance needs on a cluster node (``core.resources``), by backend."""
    return RESOURCES.get(backend, RESOURCES["sim"])
