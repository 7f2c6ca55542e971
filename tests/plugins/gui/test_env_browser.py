"""gui episodes in a real Chromium: observations, every action form, rewards, limits, modes."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.plugins.gui.conftest import png_size
from turnrl.core.types import Task
from turnrl.plugins.gui.env import GuiEnv
from turnrl.plugins.gui.expert import parse_page

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]


def task(task_type: str, seed: int = 7) -> Task:
    return Task(env="gui", id=f"t-{task_type}-{seed}", seed=seed, data={"type": task_type})


def run(body, **options):
    async def go():
        env = GuiEnv(**options)
        try:
            return await body(env)
        finally:
            await env.close()
    return asyncio.run(go())


def ref_of(text: str, tag: str, label: str | None = None) -> int:
    _, elements = parse_page(text)
    for el in elements:
        if el.tag == tag and (label is None or el.label == label):
            return el.ref
    raise AssertionError(f"no {tag} {label!r} in:\n{text}")


def test_click_the_named_button_wins() -> None:
    async def body(env):
        obs = await env.reset(task("click-button"))
        label = re.search(r'Click on the "(.*)" button', obs.text)[1]
        assert obs.text.startswith(f'Task: Click on the "{label}" button.\nPage:\n')
        assert png_size(obs.images[0]) == (160, 210)
        assert re.fullmatch(r"[0-9a-f]{16}", obs.state_key)
        tr = await env.step(f"click({ref_of(obs.text, 'button', label)})")
        assert tr.terminated
        assert not tr.truncated
        assert tr.reward == 1.0
        assert tr.info == {"valid_action": True, "task_type": "click-button", "won": True,
                           "raw_reward": 1.0, "env_reward": tr.info["env_reward"],
                           "reason": tr.info["reason"]}
        assert tr.observation.images == ()  # the page shows MiniWoB's START cover by now
        assert "The episode is over: the page scored 1." in tr.observation.text
        again = await env.step("click(1)")
        assert again.terminated
        assert again.info["valid_action"] is False
    run(body)


@pytest.mark.parametrize(("reward", "expected"), [("raw", -1.0), ("binary", -1.0),
                                                    ("thresholded", -1.0)])
def test_a_wrong_click_loses(reward: str, expected: float) -> None:
    async def body(env):
        obs = await env.reset(task("click-button", 1039953128))  # four buttons
        label = re.search(r'Click on the "(.*)" button', obs.text)[1]
        _, elements = parse_page(obs.text)
        wrong = next(e for e in elements if e.tag == "button" and e.label != label)
        tr = await env.step(f"click({wrong.ref})")
        assert tr.terminated
        assert tr.reward == expected
        assert tr.info["won"] is False
        assert tr.info["raw_reward"] == -1.0
    run(body, reward=reward)


def test_discounted_reward_is_scaled_by_the_time_taken() -> None:
    async def body(env):
        obs = await env.reset(task("click-button"))
        label = re.search(r'Click on the "(.*)" button', obs.text)[1]
        await asyncio.sleep(1.0)  # a tenth of MiniWoB's 10-second clock
        tr = await env.step(f"click({ref_of(obs.text, 'button', label)})")
        assert tr.info["raw_reward"] == 1.0
        assert 0.5 < tr.reward < 0.91
        assert tr.reward == tr.info["env_reward"]
    run(body, reward="discounted")


def test_discounted_reward_runs_the_task_pages_own_clock() -> None:
    """MiniWoB discounts by (and times out at) the clock a task page sets itself, e.g. 20 s for
    click-checkboxes-large, not core.js's 10 s default; a page reused after a raw episode
    (whose clock is switched off) still gets its own back."""
    async def clock(env):
        async def read(slot):
            return await slot.page.evaluate("core.EPISODE_MAX_TIME")
        return await env.pool.run(read, env._slot)

    async def body(env):
        await env.reset(task("click-button"))
        assert await clock(env) == 10_000  # core.js's default
        await env.reset(task("click-checkboxes-large"))
        assert await clock(env) == 20_000  # the page's `core.EPISODE_MAX_TIME = 20000`
        slot = env._slot
        await env.close()  # the page goes back to the pool ...
        raw = GuiEnv(reward="raw", pool=env.pool)
        try:
            await raw.reset(task("click-checkboxes-large"))
            assert raw._slot is slot  # ... and is reused, its clock switched off
            assert await clock(raw) == 2**31 - 1
        finally:
            await raw.close()
        again = GuiEnv(reward="discounted", pool=env.pool)
        try:
            await again.reset(task("click-checkboxes-large"))
            assert again._slot is slot
            assert await clock(again) == 20_000
        finally:
            await again.close()
    run(body, reward="discounted")


@pytest.mark.parametrize("action", ["click_xy(80, 105)", "no action at all"])
def test_a_timed_out_episode_stays_lost(action: str) -> None:
    """The page's clock runs out while the model thinks: MiniWoB ends the episode with -1 and
    shows its START cover. The next step must report that end -- not click the cover (which
    starts a new problem and a new clock, so the -1 was lost and the next problem could be
    won) and not answer from the page as it was before the timeout."""
    async def time_out(slot):  # what core.js's episode timer does when it fires
        await slot.page.evaluate("core.endEpisode(-1, false, 'timed out')")

    async def body(env):
        await env.reset(task("click-button"))
        await env.pool.run(time_out, env._slot)
        tr = await env.step(action)
        assert tr.terminated
        assert tr.reward == -1.0
        assert tr.info["raw_reward"] == -1.0
        assert tr.info["reason"] == "timed out"
        assert tr.info["won"] is False
    run(body, reward="discounted", max_steps=1)


def test_the_start_cover_never_starts_an_episode() -> None:
    """The clock can run out while an action is under way (after the check that skips actions
    on an ended episode): the click then lands on MiniWoB's START cover, which must not start
    a new, unseeded problem and clock."""
    async def time_out_mid_click(slot):
        await slot.page.evaluate("core.endEpisode(-1, false, 'timed out')")
        await slot.page.mouse.click(80, 105)  # where the button was; the cover is there now

    async def body(env):
        await env.reset(task("click-button"))
        await env.pool.run(time_out_mid_click, env._slot)
        tr = await env.step("click_xy(80, 105)")
        assert tr.terminated
        assert tr.reward == -1.0
        assert tr.info["reason"] == "timed out"
    run(body, reward="discounted")


def test_typing_selecting_and_keys() -> None:
    async def body(env):
        obs = await env.reset(task("login-user"))
        user, password = re.findall(r'"([^"]*)"', obs.text.splitlines()[0])[:2]
        user_ref = ref_of(obs.text, "input_text")
        tr = await env.step(f'type({user_ref}, "wrong")')
        tr = await env.step(f'type({user_ref}, "{user}")')  # typing replaces the content
        assert f'input_text #username value="{user}" focused' in tr.observation.text
        tr = await env.step('press("Tab")')  # focus moves on to the password field
        assert "input_password #password value=\"\" focused" in tr.observation.text
        tr = await env.step(f'type({ref_of(tr.observation.text, "input_password")}, '
                            f'"{password}")')
        tr = await env.step('press("Enter")')  # not how this form submits: nothing happens
        assert not tr.done
        assert tr.info["valid_action"]
        tr = await env.step(f"click({ref_of(tr.observation.text, 'button', 'Login')})")
        assert tr.terminated
        assert tr.info["won"]
        obs = await env.reset(task("choose-list"))
        wanted = re.search(r"Select (.*) from the list", obs.text)[1]
        tr = await env.step(f'select({ref_of(obs.text, "select")}, "{wanted}")')
        assert f'selected="{wanted}"' in tr.observation.text
        tr = await env.step(f"click({ref_of(tr.observation.text, 'button', 'Submit')})")
        assert tr.info["won"]
    run(body, observation="text")


def test_click_xy_at_the_rendered_coordinates_with_a_scaled_screenshot() -> None:
    async def body(env):
        obs = await env.reset(task("click-button", 11))
        assert png_size(obs.images[0]) == (320, 420)
        label = re.search(r'Click on the "(.*)" button', obs.text)[1]
        line = next(x for x in obs.text.splitlines() if f'button "{label}"' in x)
        x, y = re.search(r"@\((\d+),(\d+)\)", line).groups()
        tr = await env.step(f"click_xy({x}, {y})")
        assert tr.info["won"]
    run(body, screenshot_scale=2.0, coords=True)


def test_scroll_moves_the_page_and_done_forfeits() -> None:
    async def body(env):
        await env.reset(task("click-checkboxes-large", 3))
        tr = await env.step("scroll(0, 120)")
        assert tr.info["valid_action"]
        assert not tr.done
        tr = await env.step("done()")
        assert tr.terminated
        assert tr.info["valid_action"]
        assert tr.reward == -1.0
        assert tr.info["raw_reward"] == 0.0
        assert tr.info["reason"] == "agent called done()"
    run(body, reward="binary")


def test_malformed_and_impossible_actions_are_answered() -> None:
    async def body(env):
        obs = await env.reset(task("enter-text"))
        button = ref_of(obs.text, "button", "Submit")
        answers = {}
        for action in ("look", "click(999)", f'type({button}, "x")', f'select({button}, "a")',
                       'press("Hyper")', "click_xy(500, 20)", "click([3"):
            tr = await env.step(action)
            assert tr.info["valid_action"] is False
            assert not tr.done
            assert tr.observation.state_key == obs.state_key
            assert tr.observation.images == obs.images
            answers[action] = tr.observation.text.splitlines()[0]
        assert answers["look"].startswith("Invalid action: could not read 'look'")
        assert "there is no element [999] on the page" in answers["click(999)"]
        assert "does not take text" in answers[f'type({button}, "x")']
        assert "is not a drop-down" in answers[f'select({button}, "a")']
        assert "unknown key 'Hyper'" in answers['press("Hyper")']
        assert "outside the screenshot (160x210 pixels)" in answers["click_xy(500, 20)"]
    run(body)


def test_a_covered_element_is_clicked_where_it_shows_or_refused() -> None:
    """click-test-2 may put button TWO over part of ONE: a click lands on ONE's visible part."""
    async def body(env):
        wins = 0
        for seed in range(12):
            obs = await env.reset(task("click-test-2", seed))
            tr = await env.step(f"click({ref_of(obs.text, 'button', 'ONE')})")
            wins += tr.info["won"]
        assert wins == 12
    run(body, observation="text")


def test_max_steps_truncates() -> None:
    async def body(env):
        await env.reset(task("enter-text"))
        first = await env.step("nothing")
        second = await env.step("nothing")
        assert not first.done
        assert second.truncated
        assert not second.terminated
    run(body, max_steps=2)


def test_observation_modes() -> None:
    t = task("enter-text")

    async def reset(env):
        return await env.reset(t)

    both = run(reset)
    text = run(reset, observation="text")
    shot = run(reset, observation="screenshot")
    assert text.images == ()
    assert text.text == both.text
    assert len(shot.images) == 1
    assert shot.images == both.images
    assert "Page:" not in shot.text
    assert "[5]" not in shot.text
    assert shot.text.splitlines()[0] == both.text.splitlines()[0]  # the instruction stays
    assert "160x210 pixels" in shot.text
    assert both.state_key == text.state_key == shot.state_key


def test_same_task_same_problem_and_seed_override() -> None:
    t = task("click-checkboxes", 21)

    async def reset(env, seed=None):
        return await env.reset(t, seed=seed)

    first, second = run(reset), run(reset)
    assert first == second  # text, state key and screenshot bytes
    other = run(lambda env: reset(env, 22))
    assert other.text != first.text


def test_options_are_checked() -> None:
    for kwargs, says in (({"observation": "pixels"}, "observation must be one of"),
                         ({"reward": "fast"}, "no reward 'fast'"),
                         ({"max_steps": 0}, "max_steps must be >= 1"),
                         ({"screenshot_scale": 10}, "screenshot_scale")):
        with pytest.raises(ValueError, match=says):
            GuiEnv(**kwargs)
