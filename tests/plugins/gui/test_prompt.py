"""The gui prompt: documents the grammar, keeps the action's case, shows recent actions."""

from __future__ import annotations

from turnrl.core.context import ContextBuilder, Turn
from turnrl.core.host import PluginHost
from turnrl.core.types import Observation
from turnrl.plugins.gui.actions import parse_action
from turnrl.plugins.gui.prompt import GRAMMAR, GUI_TEMPLATE, parse_gui

PAGE = Observation(text='Task: Enter "Jerald".\nPage:\n[5] input_text value=""',
                   images=("AAAA",))


def test_the_gui_environment_picks_its_template() -> None:
    from turnrl.core.context import resolve_template

    host = PluginHost(builtins=("turnrl.plugins.gui",), entry_point_group=None).load()
    assert resolve_template("auto", host.env("gui")) is GUI_TEMPLATE


def test_prompt_documents_every_action_of_the_grammar() -> None:
    content = GUI_TEMPLATE.render("", [], PAGE, 2)[0]["content"]
    assert GRAMMAR in content
    for example in ('click(N)', 'type(N, "text")', 'select(N, "option")', 'press("Enter")',
                    "click_xy(x, y)", "scroll(dx, dy)", "done()"):
        assert example in content
        name = example.split("(")[0]
        assert name in ("click", "type", "select", "press", "click_xy", "scroll", "done")
    assert "[5] input_text" in content
    assert "screenshot of the task area is attached" in content
    # every documented example with concrete values parses
    for action in ('click(4)', 'type(5, "text")', 'select(5, "option")', 'press("Enter")',
                   'press("Control+a")', "click_xy(3, 4)", "scroll(0, 100)", "done()"):
        parse_action(action)


def test_memory_window_shows_the_last_actions() -> None:
    history = [Turn("p1", "click(1)"), Turn("p2", 'type(2, "a")'), Turn("p3", "click(3)")]
    content = GUI_TEMPLATE.render("", history, PAGE, 2)[0]["content"]
    assert "Your last 2 action(s) of 3:\n  step 2: type(2, \"a\")\n  step 3: click(3)" in content
    assert "Step 4. The page now:" in content
    assert "step 1:" not in GUI_TEMPLATE.render("", history, PAGE, 2)[0]["content"]
    assert "action(s)" not in GUI_TEMPLATE.render("", history, PAGE, 0)[0]["content"]


def test_replies_keep_their_case_and_cjk_is_fine() -> None:
    parsed = parse_gui('<think>ヘルプ is the label</think><action> type(5, "Jerald") </action>')
    assert parsed.action == 'type(5, "Jerald")'
    assert parsed.valid
    untagged = parse_gui("  click(4) ")
    assert untagged.action == "click(4)"
    assert not untagged.valid
    no_think = parse_gui("<action>done()</action>")
    assert no_think.action == "done()"
    assert not no_think.valid
    assert parse_gui(GUI_TEMPLATE.format_action('type(5, "X")')).action == 'type(5, "X")'


def test_builder_attaches_the_screenshot_to_the_gui_prompt() -> None:
    messages = ContextBuilder(GUI_TEMPLATE, images=True).messages("", [], PAGE)
    assert messages[0]["content"][0] == {"type": "image", "image": "AAAA"}
