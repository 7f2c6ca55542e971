"""Over the real pages: the experts win every panel seed of their task types (through the
rollout engine and through ``turnrl check gui``), and every panel type shows the same problem
for the same seed on a fresh page and on a reused one."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from turnrl.core.host import get_host
from turnrl.core.rollout import RolloutConfig, run_groups
from turnrl.core.types import Task
from turnrl.inference.scripted import make_scripted_policy
from turnrl.plugins.gui.browser import BrowserConfig, BrowserPool
from turnrl.plugins.gui.catalog import PANEL_TYPES
from turnrl.plugins.gui.env import GuiEnv
from turnrl.plugins.gui.expert import EXPERT_TYPES
from turnrl.plugins.gui.tasks import SEEDS_PER_TYPE, SPLITS, make_tasks

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("chromium")]


def test_experts_win_every_panel_seed_of_their_types() -> None:
    host = get_host()
    tasks = [t for split in SPLITS for t in make_tasks(split, tasks=EXPERT_TYPES)]
    policy = make_scripted_policy("gold", host=host)
    groups = asyncio.run(run_groups("gui", tasks, policy, config=RolloutConfig(
        max_concurrent_episodes=4, env_options={"observation": "text"})))
    episodes = [e for g in groups for e in g.episodes]
    per_type_seeds = sum(SEEDS_PER_TYPE.values())
    assert len(episodes) == len(EXPERT_TYPES) * per_type_seeds
    lost = [(e.task.id, e.status, e.error, [s.action for s in e.steps])
            for e in episodes if not (e.status == "ok" and e.won)]
    assert lost == []
    per_type = Counter(e.task.data["type"] for e in episodes if e.won)
    assert per_type == dict.fromkeys(EXPERT_TYPES, per_type_seeds)


def test_turnrl_check_gui_passes(capsys: pytest.CaptureFixture[str]) -> None:
    from turnrl.cli import main

    assert main(["check", "gui", "--max-tasks", "6"]) == 0
    out = capsys.readouterr().out
    assert "gui passes every check" in out
    assert "expert solved" in out


def test_same_seed_same_problem_on_fresh_and_reused_pages() -> None:
    """For every panel type: a page loaded for the task, and a page that played another seed
    of the type first, give identical observations (text, state key, screenshot bytes)."""
    pool = BrowserPool(BrowserConfig())

    async def compare(task_type: str) -> list[str]:
        seed, other = make_tasks("test", tasks=[task_type], seeds=2)
        fresh, reused = GuiEnv(pool=pool), GuiEnv(pool=pool)
        try:
            first = await fresh.reset(seed)
            await reused.reset(other)
            await reused.step("click_xy(80, 150)")  # disturb the page a little
            second = await reused.reset(seed)
            again = await fresh.reset(seed)
        finally:
            await fresh.close()
            await reused.close()
        return [f"{task_type}: {what}" for what, obs in (("reused", second), ("again", again))
                if obs != first]

    async def all_types() -> list[str]:
        found: list[str] = []
        for task_type in PANEL_TYPES:
            found += await compare(task_type)
        return found

    try:
        assert asyncio.run(all_types()) == []
    finally:
        pool.close()


def test_unknown_task_page_is_an_error_not_a_hang() -> None:
    async def go():
        env = GuiEnv()
        try:
            await env.reset(Task(env="gui", id="x", data={"type": "no-such-task"}))
        finally:
            await env.close()
    with pytest.raises(ValueError, match="no task page for task_type 'no-such-task'"):
        asyncio.run(asyncio.wait_for(go(), 60))
