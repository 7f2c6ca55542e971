"""``code``: multi-turn programming with test feedback, every answer run in a sandbox.

Modules: ``problems`` (the three test formats and the JSONL loader), ``shipped`` (65 problems
written for turnrl), ``tasks`` (panels: turnrl set for train/valid, HumanEval for test),
``judge`` (runs all tests in one sandbox run and applies the peers' comparison rules),
``harness_main`` (the in-sandbox test runner), ``env`` (the multi-turn ``Env``), ``expert``
(canonical solutions). Options: ``sandbox`` (default ``bwrap``; ``docker`` for a real engine),
``max_turns``, ``reward``, ``test_timeout``; task options ``source`` (a JSONL file),
``formats``, ``n``.
"""

from __future__ import annotations

from collections.abc import Callable

from turnrl.core.hookspecs import hookimpl


@hookimpl
def turnrl_register_envs(register: Callable[..., None]) -> None:
    register(
        "code",
        "turnrl.plugins.code.env:CodeEnv",
        tasks="turnrl.plugins.code.tasks:make_tasks",
        expert="turnrl.plugins.code.expert:CodeExpert",
        splits=("train", "valid", "test"),
        description="Multi-turn Python programming with test feedback (turnrl set + HumanEval)",
        check_options={"timeout": 120, "marks": ["slow"]},
        template="raw",  # answers are multi-line code: the whole reply goes to the env
    )
