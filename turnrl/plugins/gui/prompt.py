"""The prompt the ``gui`` plugin registers: the action grammar, the recent actions, the page.

Replies are read like verl-agent's (reason in ``<think>...</think>``, act in
``<action>...</action>``) with two differences a web page needs: the action keeps its case
(``type(7, "Jerald")`` must type a capital J; verl-agent lower-cases replies) and CJK text does
not void the format (``unicode-test`` has Japanese labels). A reply without action tags is sent
whole, flagged ``valid=False``; if it is a bare action (``click(4)``) the page still runs it.
The memory window shows the last ``history_length`` actions (page renderings are long; the
current one already shows the result of the last action on its first line).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from turnrl.core.context import ParsedAction, PromptTemplate, Turn, clip_observation
from turnrl.core.policy import Message
from turnrl.core.types import Observation

GRAMMAR = """\
Actions (exactly one per turn; [N] are the element numbers in the page listing):
  click(N)              click element [N]
  type(N, "text")       click text field [N] and replace its content by typing "text"
  select(N, "option")   choose the option "option" in drop-down [N]
  press("Enter")        press a key: "Enter", "Tab", "Backspace", "ArrowDown", a character,
                        or a combination such as "Control+a"
  click_xy(x, y)        click at pixel (x, y) of the screenshot (x right, y down)
  scroll(dx, dy)        turn the mouse wheel by (dx, dy) pixels where the pointer is
  done()                stop (the page scores what has been done so far)"""

INTRO = ("You are a web agent operating a web page in a browser. Complete the task given at "
         "the top of the page.")

INSTRUCTIONS = (
    "First reason step by step about the page inside <think> </think> tags. Then give "
    "exactly one action inside <action> </action> tags, e.g. <action>click(4)</action>.")

_ACTION = re.compile(r"<action>(.*?)</action>", re.DOTALL | re.IGNORECASE)


def render_gui(instruction: str, history: Sequence[Turn], observation: Observation,
               history_length: int) -> list[Message]:
    step = len(history)
    lines = [INTRO, "", GRAMMAR, ""]
    window = history[max(0, step - history_length):] if history_length else ()
    if window:
        first = step - len(window) + 1
        done = "\n".join(f"  step {first + i}: {t.action}" for i, t in enumerate(window))
        lines += [f"Your last {len(window)} action(s) of {step}:", done, ""]
    lines.append(f"Step {step + 1}. The page now:")
    lines.append(clip_observation(observation.text))
    if observation.images:
        lines.append("(A screenshot of the task area is attached; click_xy takes its pixels.)")
    lines += ["", INSTRUCTIONS]
    return [{"role": "user", "content": "\n".join(lines)}]


def parse_gui(text: str) -> ParsedAction:
    match = _ACTION.search(text)
    if match is None:
        return ParsedAction(text.strip(), False)
    lower = text.lower()
    return ParsedAction(match.group(1).strip(), "<think>" in lower and "</think>" in lower)


def format_gui(action: str) -> str:
    return f"<think> scripted </think> <action> {action} </action>"


GUI_TEMPLATE = PromptTemplate(render_gui, parse_gui, format_gui, stop=("</action>",))
"""The ``gui`` environment's template (``template="auto"`` picks it for ``gui``)."""
