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

from turnrl.core.hookspecs import hookimpl


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
    )
