"""``werewolf``: a seeded multi-agent Werewolf game with LSPO's rules and observation format,
variants by option, two reward modes, rule-based bots, and a TextArena SecretMafia adapter.

Modules: ``rules`` (the rule set and presets), ``game`` (the state machine), ``log`` (each
seat's LSPO-format log), ``actions`` (legal actions and strict parsing), ``rewards`` (sparse
and LSPO-shaped), ``env`` (the ``MultiAgentEnv``), ``tasks`` (seed panels), ``view`` + ``bots``
(rule-based players that read only their observation), ``prompt`` (LSPO's action prompts),
``invariants`` (the rules as checks, run by ``turnrl check werewolf`` and the property tests),
``textarena_env`` + ``textarena_dialect`` (TextArena's ``SecretMafia-v0``, extra
``textarena``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from turnrl.core.hookspecs import hookimpl

# ``scripted:random`` is the built-in uniformly random legal action (seeded by the sampling
# seed), the same player as the bots' ``random`` style; the registry only adds the others.
RESOURCES = {"cpus": 0.05, "memory_mb": 30, "per_actor": 16}
"""One game on a cluster node (``core.resources``): pure-Python rules whose steps take
microseconds, so many games share a worker process."""

_BOTS = {name: f"turnrl.plugins.werewolf.bots:{name}" for name in ("basic", "bus", "quiet")}


@hookimpl
def turnrl_register_envs(register: Callable[..., None]) -> None:
    register(
        "werewolf",
        "turnrl.plugins.werewolf.env:WerewolfEnv",
        tasks="turnrl.plugins.werewolf.tasks:make_tasks",
        expert="turnrl.plugins.werewolf.bots:basic",
        splits=("train", "valid", "test"),
        multi_agent=True,
        description="Werewolf, 7 seats (LSPO rules; TextArena rules, witch, guard, majority "
                    "exile by option); sparse or LSPO-shaped rewards",
        bots=_BOTS,
        prompt="turnrl.plugins.werewolf.prompt:render_prompt",
        checks=("turnrl.plugins.werewolf.invariants:check_random_games",),
        check_options={"max_tasks": 32},
        resources=RESOURCES,
    )
    if importlib.util.find_spec("textarena") is None:  # the adapter needs the textarena extra
        return
    register(
        "secretmafia",
        "turnrl.plugins.werewolf.textarena_env:SecretMafiaEnv",
        tasks="turnrl.plugins.werewolf.textarena_env:make_tasks",
        expert="turnrl.plugins.werewolf.textarena_env:basic",
        splits=("train", "valid", "test"),
        multi_agent=True,
        description="TextArena 0.7.4 SecretMafia-v0, 7 players, through turnrl's multi-agent "
                    "contract (needs the textarena extra)",
        bots={name: f"turnrl.plugins.werewolf.textarena_env:{name}"
              for name in ("basic", "bus", "quiet")},
        check_options={"max_tasks": 8},
        resources=RESOURCES,
    )
