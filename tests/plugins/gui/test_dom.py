"""The page rendering, from a DOM snapshot written by hand in ``core.getDOMInfo()``'s shape."""

from __future__ import annotations

from turnrl.plugins.gui.dom import render_dom, state_key


def el(ref, tag, *children, **kw):
    return {"ref": ref, "tag": tag, "children": list(children), "left": 10, "top": 20,
            "width": 40, "height": 10, **kw}


SNAPSHOT = el(1, "BODY", el(2, "DIV", el(3, "DIV",
    el(4, "LABEL", el(5, "INPUT_checkbox", value=True, id="ch0"),
       el(-1, "t", text="BB2")),
    el(6, "INPUT_text", value='say "hi"', focused=True, id="tt"),
    el(7, "SELECT", id="options"),
    el(8, "P", text="A   paragraph\n of text."),
    el(9, "DIV", el(10, "SPAN", text="inner")),
    el(11, "BUTTON", text="Submit", id="subbtn"),
    id="area"), id="wrap"))
EXTRA = {"7": {"options": ["Tana", "Lula"], "selected": "Lula"},
         "6": {"placeholder": "name"}}


def test_rendering_lines() -> None:
    assert render_dom(SNAPSHOT, EXTRA) == [
        '[4] label "BB2"',
        "  [5] input_checkbox #ch0 checked",
        '[6] input_text #tt value="say \\"hi\\"" placeholder="name" focused',
        '[7] select #options selected="Lula" options: "Tana" | "Lula"',
        '[8] p "A paragraph of text."',
        '[10] span "inner"',
        '[11] button #subbtn "Submit"',
    ]


def test_coordinates_are_in_screenshot_pixels() -> None:
    lines = render_dom(SNAPSHOT, EXTRA, coords=2.0)
    assert lines[-1] == '[11] button #subbtn "Submit" @(60,50)'  # centre (30, 25) x 2


def test_long_labels_are_cut() -> None:
    lines = render_dom(el(1, "BODY", el(2, "P", text="w " * 400)))
    assert lines[0].endswith('..."')
    assert len(lines[0]) < 330


def test_state_key_depends_on_page_and_instruction_only() -> None:
    lines = render_dom(SNAPSHOT, EXTRA)
    assert state_key("Click.", lines) == state_key("Click.", list(lines))
    assert state_key("Click.", lines) != state_key("Type.", lines)
    assert state_key("Click.", lines) != state_key("Click.", lines[:-1])
    assert len(state_key("x", [])) == 16


def test_empty_snapshot() -> None:
    assert render_dom(None) == []
    assert render_dom(el(1, "BODY")) == []
