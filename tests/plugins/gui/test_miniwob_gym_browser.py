"""Parity with MiniWoB++'s own gymnasium environment (Selenium, Debian's chromium-driver): for
the same task and seed, the reference implementation and the Playwright backend show the same
instruction and the same page lines, and the experts win through the adapter too."""

from __future__ import annotations

import asyncio
import os

import pytest

from turnrl.plugins.gui.env import make_env
from turnrl.plugins.gui.expert import EXPERT_TYPES, GuiExpert
from turnrl.plugins.gui.miniwob_gym import _POOL, DEFAULT_CHROMEDRIVER
from turnrl.plugins.gui.tasks import make_tasks

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("chromium"),
              pytest.mark.skipif(not os.path.exists(DEFAULT_CHROMEDRIVER),
                                 reason="no chromedriver (apt-get install chromium-driver)")]

# the gymnasium observation has no drop-down options: pages with a <select> differ there
WITHOUT_SELECT = [t for t in EXPERT_TYPES if t != "choose-list"]


def test_same_problem_and_page_lines_as_the_reference_environment() -> None:
    async def compare() -> list[str]:
        differences = []
        for task in make_tasks("valid", tasks=WITHOUT_SELECT, seeds=1):
            ours, reference = make_env(), make_env(backend="miniwob-gym")
            try:
                a, b = await ours.reset(task), await reference.reset(task)
                if (a.text, a.state_key) != (b.text, b.state_key):
                    differences.append(f"{task.id}:\n{a.text}\n---\n{b.text}")
                assert len(b.images) == 1
            finally:
                await ours.close()
                await reference.close()
                _POOL.close()  # one Chromium per task type: do not keep 26 of them
        return differences

    assert asyncio.run(compare()) == []


@pytest.mark.parametrize("task_type", ["click-button", "click-checkboxes", "login-user",
                                       "use-autocomplete-nodelay", "find-word"])
def test_experts_win_through_the_adapter(task_type: str) -> None:
    async def play() -> list[bool]:
        won = []
        env = make_env(backend="miniwob-gym", observation="text")
        try:
            for task in make_tasks("test", tasks=[task_type], seeds=2):
                expert, obs = GuiExpert(task), await env.reset(task)
                for _ in range(10):
                    tr = await env.step(expert.act(obs))
                    obs = tr.observation
                    if tr.done:
                        break
                won.append(bool(tr.info["won"]))
        finally:
            await env.close()
            _POOL.close()
        return won

    assert asyncio.run(play()) == [True, True]


def test_adapter_answers_bad_input() -> None:
    async def go():
        env = make_env(backend="miniwob-gym")
        try:
            await env.reset(make_tasks("test", tasks=["click-button"], seeds=1)[0])
            bad = await env.step("look")
            no_key = await env.step('press("F7")')
            return bad, no_key
        finally:
            await env.close()
            _POOL.close()

    bad, no_key = asyncio.run(go())
    assert bad.info["valid_action"] is False
    assert "could not read 'look'" in bad.observation.text
    assert "cannot press '<F7>'" in no_key.observation.text
    with pytest.raises(ValueError, match="no backend 'selenium'"):
        make_env(backend="selenium")
