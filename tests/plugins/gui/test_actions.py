"""The gui action grammar: every action form, its normalisations, and clear answers for junk."""

from __future__ import annotations

import pytest

from turnrl.core.checker import MALFORMED_ACTIONS
from turnrl.plugins.gui.actions import Action, ActionError, normalize_key, parse_action


@pytest.mark.parametrize(("text", "expected"), [
    ("click(12)", Action("click", ref=12)),
    ("  `click([12])`; ", Action("click", ref=12)),
    ("click(ref=3)", Action("click", ref=3)),
    ("Click('7')", Action("click", ref=7)),
    ('type(7, "Jerald")', Action("type", ref=7, text="Jerald")),
    ("type(7, 'it\\'s \"quoted\"')", Action("type", ref=7, text='it\'s "quoted"')),
    ('type(text="x y", ref=2)', Action("type", ref=2, text="x y")),
    ('type(4, "")', Action("type", ref=4, text="")),
    ('select(5, "Czech Republic")', Action("select", ref=5, text="Czech Republic")),
    ('press("Enter")', Action("press", text="Enter")),
    ('press("<Enter>")', Action("press", text="Enter")),
    ('press("ctrl+a")', Action("press", text="Control+a")),
    ('press("shift+TAB")', Action("press", text="Shift+Tab")),
    ('press("x")', Action("press", text="x")),
    ('press("+")', Action("press", text="+")),
    ("click_xy(80, 120.5)", Action("click_xy", x=80.0, y=120.5)),
    ("scroll(0, -100)", Action("scroll", x=0.0, y=-100.0)),
    ("done()", Action("done")),
    ("done().", Action("done")),
])
def test_well_formed_actions(text: str, expected: Action) -> None:
    assert parse_action(text) == expected


@pytest.mark.parametrize(("text", "says"), [
    ("", "empty"),
    ("look", "could not read"),
    ("click", "could not read"),
    ("click(", "could not read"),
    ("wait()", "unknown action 'wait'"),
    ("click()", "takes 1 argument"),
    ("click(1, 2)", "takes 1 argument"),
    ("click(0)", "element number"),
    ("click(-3)", "element number"),
    ("click(True)", "element number"),
    ("click('abc')", "element number"),
    ("click(2.5)", "element number"),
    ("type(3)", "takes 2 argument"),
    ("type(3, 4)", "quoted string"),
    ("type(3, text=x)", "literal"),
    ("type(3, stuff='a')", "unexpected argument 'stuff'"),
    ("type(3, 'a', text='b')", "takes 2 argument"),
    ('type(3, "' + "a" * 300 + '")', "at most 256"),
    ('press("Foo")', "unknown key 'Foo'"),
    ('press("Foo+a")', "unknown key 'Foo'"),
    ('press("")', "empty"),
    ("click_xy(1)", "takes 2 argument"),
    ("click_xy('a', 2)", "must be a number"),
    ("click_xy(float('nan'), 2)", "literal"),
    ("scroll(1e999, 0)", "must be a number"),
    ("__import__('os').system('ls')", "could not read"),
    ("click(1); click(2)", "could not read"),
])
def test_malformed_actions_are_answered(text: str, says: str) -> None:
    with pytest.raises(ActionError, match=None) as info:
        parse_action(text)
    assert says in str(info.value), str(info.value)


def test_the_checkers_malformed_actions_are_answered_not_raised_otherwise() -> None:
    for text in MALFORMED_ACTIONS:
        with pytest.raises(ActionError):
            parse_action(text)


def test_actions_print_in_the_grammar_and_parse_back() -> None:
    for action in (Action("click", ref=3), Action("type", ref=2, text='say "hi" ヘルプ'),
                   Action("select", ref=9, text="A"), Action("press", text="Control+a"),
                   Action("click_xy", x=10.0, y=20.5), Action("scroll", x=0.0, y=-50.0),
                   Action("done")):
        assert parse_action(str(action)) == action


def test_key_names() -> None:
    assert normalize_key("ArrowDown") == "ArrowDown"
    assert normalize_key("down") == "ArrowDown"
    assert normalize_key("Control+Shift+ArrowLeft") == "Control+Shift+ArrowLeft"
    assert normalize_key("esc") == "Escape"
    with pytest.raises(ActionError):
        normalize_key("a+b")  # only modifiers may come before '+'
