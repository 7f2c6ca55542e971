"""``toy-env``: a tiny grid-navigation puzzle, and the template for writing an environment plugin.

Read this package top to bottom before writing your own plugin. It shows the three things a
plugin provides: an async ``Env`` (``env.py``), fixed task panels built from stable seeds
(``tasks.py``) and an optional expert (gold) policy (``expert.py``), registered through the
``turnrl_register_envs`` hook below. A third-party package does exactly the same and points the
``turnrl`` entry-point group at its plugin module.

It is not a benchmark: it exists for fast tests, the CPU quickstart and first-time users.
"""

from __future__ import annotations

from collections.abc import Callable

from turnrl.core.hookspecs import hookimpl


@hookimpl
def turnrl_register_envs(register: Callable[..., None]) -> None:
    register(
        "toy-env",
        "turnrl.plugins.toy.env:GridEnv",  # imported on first use: registration stays cheap
        tasks="turnrl.plugins.toy.tasks:make_tasks",
        expert="turnrl.plugins.toy.expert:GridExpert",
        splits=("train", "valid", "test"),
        # A pure-Python puzzle that answers in microseconds: many instances share a worker.
        resources={"cpus": 0.01, "memory_mb": 2, "per_actor": 64},
        description="Grid navigation with walls; a template plugin for tests and the quickstart",
    )
