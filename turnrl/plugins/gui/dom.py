"""The text a text agent reads: MiniWoB's own DOM snapshot rendered as compact, ref-tagged lines.

The snapshot is ``core.getDOMInfo()`` (MiniWoB's observation code, the one its gymnasium
environment uses), so element refs are MiniWoB's: numbered in document order when first seen,
kept by each element for the whole episode (stored on the element), restarted every episode.
Only visible elements are in it (zero-size ones are dropped by MiniWoB). We print one line per
element that says something or can be acted on, indented under the printed ancestors::

    [4] button "Submit"
    [7] label "BB2"
      [8] input_checkbox unchecked
    [9] input_text value="Jer" focused
    [11] select "Tana" options: "Tana" | "Lula" | "Kyle"

Containers with no text of their own are left out (their children move up). Text split
around child elements (MiniWoB's "t" pseudo-elements) is joined into the parent's label.
``state_key`` hashes these lines, so two episodes that reach the same page share a key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

INTERACTIVE = frozenset({
    "a", "button", "label", "select", "option", "textarea", "img", "svg", "circle", "rect",
    "polygon", "ellipse", "path", "canvas", "li", "td", "th", "h1", "h2", "h3",
})
"""Tags printed even without text (things one clicks, or table cells that may be empty)."""

MAX_LABEL = 300
"""Longest label printed per element (long paragraphs are cut, marked with "...")."""


def render_dom(dom: Mapping[str, Any] | None, extra: Mapping[str, Any] | None = None, *,
               coords: float | None = None) -> list[str]:
    """Lines for the DOM snapshot ``dom`` (``core.getDOMInfo()``); ``extra`` maps ref ->
    details the snapshot lacks (a drop-down's options, a field's placeholder). With ``coords``
    (the screenshot's scale) each line ends with its centre in screenshot pixels, ``@(x,y)``,
    the coordinates ``click_xy`` takes."""
    lines: list[str] = []
    if dom:
        for child in dom.get("children") or ():
            _walk(child, 0, lines, extra or {}, coords)
    return lines


def _walk(node: Mapping[str, Any], depth: int, lines: list[str], extra: Mapping[str, Any],
          coords: float | None) -> None:
    tag = str(node.get("tag", "")).lower()
    if tag == "t":  # a text fragment: printed as part of its parent's label
        return
    children = node.get("children") or ()
    label = node.get("text")
    if label is None:
        label = " ".join(str(c.get("text", "")) for c in children if c.get("tag") == "t")
    label = " ".join(str(label).split())
    details = extra.get(str(node.get("ref"))) or {}
    shown = bool(label) or "value" in node or tag in INTERACTIVE or tag.startswith("input") \
        or bool(details)
    if shown:
        lines.append("  " * depth + _line(node, tag, label, details, coords))
        depth += 1
    for child in children:
        _walk(child, depth, lines, extra, coords)


def _line(node: Mapping[str, Any], tag: str, label: str, details: Mapping[str, Any],
          coords: float | None) -> str:
    parts = [f"[{node.get('ref')}] {tag}"]
    if node.get("id"):
        parts.append(f"#{node['id']}")
    if label:
        parts.append(_quote(label if len(label) <= MAX_LABEL else label[:MAX_LABEL] + "..."))
    if "value" in node:
        value = node["value"]
        if isinstance(value, bool):
            parts.append("checked" if value else "unchecked")
        else:
            parts.append(f"value={_quote(str(value))}")
    if details.get("placeholder"):
        parts.append(f"placeholder={_quote(details['placeholder'])}")
    if "options" in details:
        if details.get("selected") is not None:
            parts.append(f"selected={_quote(details['selected'])}")
        parts.append("options: " + " | ".join(_quote(o) for o in details["options"]))
    if details.get("disabled"):
        parts.append("disabled")
    if node.get("focused"):
        parts.append("focused")
    if coords:
        x = (node.get("left", 0) + node.get("width", 0) / 2) * coords
        y = (node.get("top", 0) + node.get("height", 0) / 2) * coords
        parts.append(f"@({round(x)},{round(y)})")
    return " ".join(parts)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def state_key(instruction: str, lines: list[str]) -> str:
    """A short stable fingerprint of the instruction and the rendered page (GiGPO/HGPO match
    steps by it)."""
    text = "\n".join([instruction, *lines])
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
