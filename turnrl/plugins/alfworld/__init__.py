"""``alfworld``: ALFWorld text households — a faithful pure-Python simulator (default backend),
the real TextWorld PDDL engine (``backend="textworld"``, extra ``alfworld``), seeded task
panels in two tiers, and a gold planner.

Modules: ``catalog`` (ALFRED object/receptacle data), ``generator`` (seeded households and
goals), ``world`` + ``text`` (the domain's rules and the grammar's strings), ``sim`` (the
simulator ``Env``), ``expert`` (the planner), ``pddl_export`` + ``textworld_backend`` (the real
engine), ``official`` (``$ALFWORLD_DATA`` games), ``prompt`` (verl-agent's prompt and projection).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from turnrl.core.hookspecs import hookimpl


@hookimpl
def turnrl_register_envs(register: Callable[..., None]) -> None:
    register(
        "alfworld",
        "turnrl.plugins.alfworld.env:make_env",  # backends import on first use
        tasks="turnrl.plugins.alfworld.tasks:make_tasks",
        expert="turnrl.plugins.alfworld.expert:AlfworldExpert",
        splits=("train", "valid_seen", "valid_unseen"),
        description="ALFWorld text households (6 task types); sim or real TextWorld engine",
        backends=("sim", "textworld"),
        tiers=("tiny", "standard"),
        prompt="turnrl.plugins.alfworld.prompt:render_prompt",
        resources=_resources,  # per backend: see env.RESOURCES
    )


def _resources(**options: Any) -> dict[str, Any]:
    from turnrl.plugins.alfworld.env import resources

    return resources(**options)
