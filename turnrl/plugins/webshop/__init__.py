"""``webshop``: WebShop (Yao et al. 2022) offline -- the original text environment's pages,
``[SEP]`` text, search and exact reward over a seeded generated catalog (or the original data
files), fixed goal panels, an expert, verl-agent's prompt, and adapters to the original
``WebAgentTextEnv`` and AgentGym's WebShop server (extra ``webshop``).

Modules: ``vocab`` + ``generator`` (the catalog), ``catalog`` (loading, prices, goals, panels),
``original`` (the original data files), ``search`` (BM25), ``reward`` (the original formula),
``pages`` (text and clickables), ``sim`` (the environment), ``expert``, ``tasks``, ``prompt``,
``adapters``, ``cache``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from turnrl.core.hookspecs import hookimpl

RESOURCES = {
    # pure Python over an in-memory catalog and BM25 index (loaded once per worker process and
    # shared by its instances): light per instance, heavy per process
    "sim": {"cpus": 0.125, "memory_mb": 100, "per_actor": 8},
    # the original WebShop text env (its own catalog, spaCy and pyserini in each instance)
    "original": {"cpus": 0.5, "memory_mb": 1500, "per_actor": 1},
    # a client of an AgentGym server: the work happens on the server
    "agentgym": {"cpus": 0.02, "memory_mb": 10, "per_actor": 32},
}
"""One instance on a cluster node by ``backend`` (``core.resources``)."""


def resources(*, backend: str = "sim", **_: Any) -> dict[str, Any]:
    return RESOURCES.get(backend, RESOURCES["sim"])


@hookimpl
def turnrl_register_envs(register: Callable[..., None]) -> None:
    register(
        "webshop",
        "turnrl.plugins.webshop.env:make_env",
        tasks="turnrl.plugins.webshop.tasks:make_tasks",
        expert="turnrl.plugins.webshop.expert:WebShopExpert",
        splits=("train", "valid", "test"),
        description="WebShop shopping (search, pick, choose options, buy); exact reward, "
                    "generated catalog offline",
        backends=("sim", "original", "agentgym"),
        tiers=("small", "full"),
        eval_split="test",
        prompt="turnrl.plugins.webshop.prompt:render_prompt",
        vocabulary="turnrl.plugins.webshop.tasks:vocabulary",
        check_options={"max_tasks": 100, "expert_min_success": 0.95},
        resources=resources,
    )
