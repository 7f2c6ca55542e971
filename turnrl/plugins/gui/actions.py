"""The action grammar: model text -> one ``Action``, or a one-line answer saying what is wrong.

    click(12)                 click element [12] of the page rendering (a real mouse click)
    type(7, "Jerald")         focus text field [7], replace its text by typing "Jerald"
    select(5, "Tana")         choose the option labelled "Tana" in drop-down [5]
    press("Enter")            press a key or a combination ("Tab", "ArrowDown", "Control+a")
    click_xy(80, 120)         click at pixel (x, y) of the screenshot
    scroll(0, 100)            turn the mouse wheel by (dx, dy) pixels where the pointer is
    done()                    stop: the episode ends with whatever the page has scored

An action is read as one Python call expression (``ast``; nothing is evaluated): strings in
single or double quotes with the usual escapes, numbers, keyword names as documented (``ref``,
``text``, ``option``, ``key``, ``x``, ``y``, ``dx``, ``dy``), ``[12]`` for a ref. Surrounding
backticks, whitespace and one trailing ``;`` or ``.`` are ignored. Anything else is answered,
never raised: the environment shows the message and flags ``valid_action=False``.
"""

from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass

MAX_TEXT = 256
"""Longest text ``type``/``select`` accept (MiniWoB's TEXT_MAX_LENGTH)."""

SPECIAL_KEYS = (
    "Backspace", "Tab", "Enter", "Escape", "Space", "PageUp", "PageDown", "End", "Home",
    "ArrowLeft", "ArrowUp", "ArrowRight", "ArrowDown", "Insert", "Delete",
    *(f"F{i}" for i in range(1, 13)),
)
MODIFIERS = ("Shift", "Control", "Alt", "Meta")
_KEY_NAMES = {k.lower(): k for k in (*SPECIAL_KEYS, *MODIFIERS)}
_KEY_NAMES.update({"esc": "Escape", "return": "Enter", "ctrl": "Control", "del": "Delete",
                   "up": "ArrowUp", "down": "ArrowDown", "left": "ArrowLeft",
                   "right": "ArrowRight", "cmd": "Meta"})

GRAMMAR_HELP = ('click(ref), type(ref, "text"), select(ref, "option"), press("Key"), '
                'click_xy(x, y), scroll(dx, dy), done()')


@dataclass(frozen=True, slots=True)
class Action:
    """One parsed action; which fields are set depends on ``kind``."""

    kind: str
    ref: int | None = None
    text: str | None = None
    x: float | None = None
    y: float | None = None

    def __str__(self) -> str:
        if self.kind in ("click",):
            return f"click({self.ref})"
        if self.kind in ("type", "select"):
            return f"{self.kind}({self.ref}, {_str(self.text)})"
        if self.kind == "press":
            return f"press({_str(self.text)})"
        if self.kind in ("click_xy", "scroll"):
            return f"{self.kind}({_num(self.x)}, {_num(self.y)})"
        return f"{self.kind}()"


class ActionError(ValueError):
    """The text is not a well-formed action; the message is shown to the agent."""


# name -> parameter names in order, and the kind of each
_SIGNATURES: dict[str, tuple[tuple[str, str], ...]] = {
    "click": (("ref", "ref"),),
    "type": (("ref", "ref"), ("text", "text")),
    "select": (("ref", "ref"), ("option", "text")),
    "press": (("key", "key"),),
    "click_xy": (("x", "number"), ("y", "number")),
    "scroll": (("dx", "number"), ("dy", "number")),
    "done": (),
}


def parse_action(text: str) -> Action:
    """The action in ``text``; raises ``ActionError`` with a message for the agent."""
    source = text.strip().strip("`").strip()
    if source.endswith((";", ".")) and not source.endswith(".."):
        source = source[:-1].strip().strip("`").strip()
    if not source:
        raise ActionError(f"the action is empty; use one of: {GRAMMAR_HELP}")
    if len(source) > 4 * MAX_TEXT:
        raise ActionError(f"the action is {len(source)} characters long; use one of: "
                          f"{GRAMMAR_HELP}")
    try:
        tree = ast.parse(source, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    if not isinstance(tree, ast.Call) or not isinstance(tree.func, ast.Name):
        raise ActionError(f"could not read {_short(source)} as an action; use one of: "
                          f"{GRAMMAR_HELP}")
    name = tree.func.id.lower()
    signature = _SIGNATURES.get(name)
    if signature is None:
        raise ActionError(f"unknown action {tree.func.id!r}; use one of: {GRAMMAR_HELP}")
    values = _bind(name, signature, tree)
    if name in ("click", "type", "select"):
        text_value = values[1] if len(values) > 1 else None
        return Action(name, ref=values[0], text=text_value)
    if name == "press":
        return Action("press", text=values[0])
    if name in ("click_xy", "scroll"):
        return Action(name, x=values[0], y=values[1])
    return Action("done")


def _bind(name: str, signature: tuple[tuple[str, str], ...], call: ast.Call) -> list:
    usage = f"{name}({', '.join(p for p, _ in signature)})"
    if len(call.args) + len(call.keywords) != len(signature):
        raise ActionError(f"{name}() takes {len(signature)} argument(s), got "
                          f"{len(call.args) + len(call.keywords)}: {usage}")
    raw: dict[str, ast.expr] = {}
    for (param, _), arg in zip(signature, call.args, strict=False):
        raw[param] = arg
    for kw in call.keywords:
        if kw.arg is None or kw.arg not in dict(signature) or kw.arg in raw:
            raise ActionError(f"{name}() got an unexpected argument {kw.arg!r}: {usage}")
        raw[kw.arg] = kw.value
    return [_convert(name, param, kind, raw[param]) for param, kind in signature]


def _convert(name: str, param: str, kind: str, node: ast.expr) -> object:
    if kind == "ref" and isinstance(node, ast.List) and len(node.elts) == 1:
        node = node.elts[0]  # click([12]) reads like the rendering's "[12]"
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise ActionError(f"{name}(): {param} must be a literal value") from None
    if kind == "ref":
        if isinstance(value, str) and value.strip().strip("[]").isdigit():
            value = int(value.strip().strip("[]"))
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ActionError(f"{name}(): {param} must be an element number from the page "
                              f"rendering (like 12 for [12]), got {value!r}")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value):
            raise ActionError(f"{name}(): {param} must be a number, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ActionError(f"{name}(): {param} must be a quoted string, got {value!r}")
    if kind == "key":
        return normalize_key(value)
    if len(value) > MAX_TEXT:
        raise ActionError(f"{name}(): {param} is {len(value)} characters; at most {MAX_TEXT}")
    return value


def normalize_key(key: str) -> str:
    """A key or ``+`` combination in Playwright's names (``"ctrl+a"`` -> ``"Control+a"``,
    MiniWoB's ``"<Enter>"`` -> ``"Enter"``); raises ``ActionError`` for an unknown key."""
    text = key.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if not text:
        raise ActionError('press(): the key is empty; e.g. press("Enter")')
    parts = ["+"] if text == "+" else text.split("+")
    names = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        name = _KEY_NAMES.get(part.lower())
        if name is not None and (last or name in MODIFIERS):
            names.append(name)
        elif last and len(part) == 1:
            names.append(part)
        else:
            raise ActionError(f"press(): unknown key {part!r} in {key!r}; keys are single "
                              f"characters, {', '.join(SPECIAL_KEYS[:15])}, F1-F12, "
                              f"combined with {'/'.join(MODIFIERS)} by '+'")
    return "+".join(names)


def _str(text: str | None) -> str:
    return json.dumps(text or "", ensure_ascii=False)


def _num(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _short(text: str, width: int = 60) -> str:
    return repr(text if len(text) <= width else text[: width - 3] + "...")
