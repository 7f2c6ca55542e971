"""``gui``: MiniWoB++ web tasks in a real Chromium, with a screenshot and a text rendering of
the page, for vision and text agents.

The task pages come from the ``miniwob`` wheel and are served by the plugin's own aiohttp
server on 127.0.0.1; Playwright's async API drives Debian's Chromium (``/usr/bin/chromium``),
one browser per process and many contexts (one per concurrent episode), on a loop of its own.
Install: ``pip install 'turnrl[gui]'`` and ``apt-get install chromium``.

Modules: ``catalog`` (task types), ``tasks`` (panels), ``browser`` (the pool, flags that keep
Chromium off the network), ``server`` (the page server), ``page`` (MiniWoB's JavaScript
contract and the input events), ``dom`` (the text rendering), ``actions`` (the action grammar),
``rewards`` (MiniWoB's reward processors), ``env`` (the ``Env``), ``expert`` (DOM-reading gold
policies), ``prompt`` (the prompt template documenting the grammar).
"""

from __future__ import annotations

from collections.abc import Callable

from turnrl.core.hookspecs import hookimpl


@hookimpl
def turnrl_register_envs(register: Callable[..., None]) -> None:
    from turnrl.plugins.gui.expert import EXPERT_TYPES

    register(
        "gui",
        "turnrl.plugins.gui.env:make_env",
        tasks="turnrl.plugins.gui.tasks:make_tasks",
        expert="turnrl.plugins.gui.expert:GuiExpert",
        splits=("train", "valid", "test"),
        description="MiniWoB++ web tasks in Chromium: screenshot + DOM text, click/type/keys",
        template="turnrl.plugins.gui.prompt:GUI_TEMPLATE",
        backends=("playwright", "miniwob-gym"),
        check_options={"marks": ["browser", "slow"],
                       "task_options": {"tasks": list(EXPERT_TYPES)},
                       "max_tasks": len(EXPERT_TYPES), "timeout": 60},
    )
