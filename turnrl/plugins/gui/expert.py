"""Gold policies that read the page the way a text agent does: from ``Observation.text``.

An expert parses the instruction and the ref-tagged page lines (``dom.py``) and answers with
an action in the grammar; it never reads the answer from the page's JavaScript. One solver per
task type in ``SOLVERS``; ``EXPERT_TYPES`` are the types the solvers win at 100% over their
panel seeds (``tests/plugins/gui/test_expert.py`` plays every one; ``turnrl check gui`` runs on
them). A solver decides from the page's current state (is the box ticked, is the field filled)
rather than from a script, so a page that changed under it is handled by the next step.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from turnrl.core.types import Observation, Task

_LINE = re.compile(r"^(?P<indent> *)\[(?P<ref>-?\d+)\] (?P<tag>\S+)(?P<rest>.*)$")
_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_ID = re.compile(r"^ #(\S+)")
_LABEL = re.compile(r"^ " + _QUOTED)
_VALUE = re.compile(r" value=" + _QUOTED)
_SELECTED = re.compile(r" selected=" + _QUOTED)
_OPTIONS = re.compile(r" options: (.*)$")
_ORDINAL = {"1st": 1, "2nd": 2, "3rd": 3}


def _unquote(text: str) -> str:
    return text.replace('\\"', '"').replace("\\\\", "\\")


@dataclass(slots=True)
class Element:
    """One rendered element, read back from its line."""

    ref: int
    tag: str
    depth: int
    id: str = ""
    label: str = ""
    value: str | None = None
    checked: bool | None = None
    selected: str | None = None
    options: list[str] = field(default_factory=list)
    focused: bool = False


def parse_page(text: str) -> tuple[str, list[Element]]:
    """(instruction, elements) from an observation's text."""
    instruction, elements = "", []
    for line in text.splitlines():
        if line.startswith("Task: ") and not instruction:
            instruction = line[len("Task: "):]
            continue
        m = _LINE.match(line)
        if m is None:
            continue
        rest = m["rest"]
        el = Element(int(m["ref"]), m["tag"], len(m["indent"]) // 2)
        if (idm := _ID.match(rest)) is not None:
            el.id, rest = idm[1], rest[idm.end():]
        if (lm := _LABEL.match(rest)) is not None:
            el.label, rest = _unquote(lm[1]), rest[lm.end():]
        if (vm := _VALUE.search(rest)) is not None:
            el.value = _unquote(vm[1])
        flags = set(re.sub(_QUOTED, '""', rest).split())  # bare words, outside any quotes
        if "checked" in flags or "unchecked" in flags:
            el.checked = "checked" in flags
        if (sm := _SELECTED.search(rest)) is not None:
            el.selected = _unquote(sm[1])
        if (om := _OPTIONS.search(rest)) is not None:
            el.options = [_unquote(o) for o in re.findall(_QUOTED, om[1])]
        el.focused = "focused" in flags
        elements.append(el)
    return instruction, elements


class Page:
    """Lookups over the parsed elements, for the solvers."""

    def __init__(self, instruction: str, elements: list[Element]) -> None:
        self.instruction = instruction
        self.elements = elements

    def quoted(self) -> list[str]:
        return [_unquote(q) for q in re.findall(_QUOTED, self.instruction)]

    def find(self, *, tag: str | None = None, label: str | None = None,
             id: str | None = None) -> Element | None:
        for el in self.elements:
            if (tag is None or el.tag == tag) and (label is None or el.label == label) \
                    and (id is None or el.id == id):
                return el
        return None

    def by_tag(self, *tags: str) -> list[Element]:
        return [el for el in self.elements if el.tag in tags]

    def child(self, parent: Element, *tags: str) -> Element | None:
        """The first element under ``parent`` (deeper, before the next sibling) with a tag."""
        start = self.elements.index(parent)
        for el in self.elements[start + 1:]:
            if el.depth <= parent.depth:
                return None
            if el.tag in tags:
                return el
        return None

    def submit(self) -> Element:
        button = self.find(id="subbtn") or self.find(tag="button", label="Submit")
        if button is None:
            raise LookupError("no Submit button on the page")
        return button


Solver = Callable[[Page, dict], str]


def click(el: Element | None) -> str:
    if el is None:
        raise LookupError("the element to click is not on the page")
    return f"click({el.ref})"


def type_(el: Element | None, text: str) -> str:
    if el is None:
        raise LookupError("the field to type into is not on the page")
    return f"type({el.ref}, {json.dumps(text, ensure_ascii=False)})"


def fill_then_submit(page: Page, fields: list[tuple[Element | None, str]]) -> str:
    """Type each value whose field does not hold it yet, then press Submit."""
    for el, text in fields:
        if el is None:
            raise LookupError("a field to fill is not on the page")
        if el.value != text:
            return type_(el, text)
    return click(page.submit())


def _button_labelled(page: Page, _: dict) -> str:
    label = page.quoted()[0]
    return click(page.find(tag="button", label=label))


def _click_link(page: Page, _: dict) -> str:
    label = page.quoted()[0]
    return click(page.find(tag="span", label=label) or page.find(tag="a", label=label))


def _select_listed(page: Page, _: dict) -> str:
    """click-checkboxes / click-option: tick exactly the named boxes, then Submit."""
    m = re.match(r"Select (.*) and click Submit\.", page.instruction)
    if m is None:
        raise LookupError(f"unexpected instruction {page.instruction!r}")
    names = set() if m[1] == "nothing" else {
        w.strip() for w in re.split(r", | and ", m[1]) if w.strip()}
    for label in page.by_tag("label"):
        box = page.child(label, "input_checkbox", "input_radio")
        if box is not None and (label.label in names) != bool(box.checked):
            return click(box)
    return click(page.submit())


def _enter_text(page: Page, _: dict) -> str:
    field_ = page.by_tag("input_text")[0]
    return fill_then_submit(page, [(field_, page.quoted()[0])])


def _enter_text_case(page: Page, _: dict) -> str:
    word = page.quoted()[0]
    word = word.upper() if "upper case" in page.instruction else word.lower()
    return fill_then_submit(page, [(page.by_tag("input_text")[0], word)])


def _login(page: Page, _: dict) -> str:
    user, password = page.quoted()[:2]
    return fill_then_submit(page, [(page.find(id="username"), user),
                                   (page.find(id="password"), password)])


def _enter_password(page: Page, _: dict) -> str:
    password = page.quoted()[0]
    return fill_then_submit(page, [(page.find(id="password"), password),
                                   (page.find(id="verify"), password)])


def _focus_text(page: Page, _: dict) -> str:
    return click(page.by_tag("input_text")[0])


def _focus_nth(page: Page, _: dict) -> str:
    m = re.search(r"the (\w+) input textbox", page.instruction)
    if m is None:
        raise LookupError(f"unexpected instruction {page.instruction!r}")
    return click(page.by_tag("input_text")[_ordinal(m[1]) - 1])


def _choose_list(page: Page, _: dict) -> str:
    m = re.match(r"Select (.*) from the list and click Submit\.", page.instruction)
    if m is None:
        raise LookupError(f"unexpected instruction {page.instruction!r}")
    select = page.by_tag("select")[0]
    if select.selected != m[1]:
        return f"select({select.ref}, {json.dumps(m[1], ensure_ascii=False)})"
    return click(page.submit())


def _click_tab(page: Page, _: dict) -> str:
    m = re.search(r"Tab #(\d+)", page.instruction)
    if m is None:
        raise LookupError(f"unexpected instruction {page.instruction!r}")
    return click(page.find(tag="a", label=f"Tab #{m[1]}"))


def _click_test(page: Page, _: dict) -> str:
    m = re.search(r"button (\w+)\.", page.instruction)
    label = m[1] if m else "Click Me!"
    return click(page.find(tag="button", label=label))


def _button_sequence(page: Page, memo: dict) -> str:
    step = memo.get("clicked", 0)
    memo["clicked"] = step + 1
    return click(page.find(tag="button", label="ONE" if step == 0 else "TWO"))


def _autocomplete(page: Page, _: dict) -> str:
    """Type the prefix, pick a menu item that fits ("starts with A [and ends with B]")."""
    quoted = page.quoted()
    prefix, suffix = quoted[0], quoted[1] if " ends with " in page.instruction else ""

    def fits(text: str) -> bool:
        return text.lower().startswith(prefix.lower()) and text.lower().endswith(suffix.lower())

    box = page.find(id="tags")
    if box is None:
        raise LookupError("no #tags field")
    menu = [item for li in page.by_tag("li") if (item := page.child(li, "div")) is not None]
    if box.value and fits(box.value) and not menu:
        return click(page.submit())  # an item was picked and the menu closed
    for item in menu:
        if fits(item.label):
            return click(item)
    return type_(box, prefix)


def _collapsible(page: Page, memo: dict) -> str:
    if not memo.get("expanded"):
        memo["expanded"] = True
        return click(page.by_tag("h3")[0])
    return click(page.submit())


def _find_word(page: Page, _: dict) -> str:
    m = re.search(r"the (\w+) word", page.instruction)
    if m is None:
        raise LookupError(f"unexpected instruction {page.instruction!r}")
    words = page.by_tag("p")[0].label.split()
    word = re.sub(r"[^a-zA-Z]", "", words[_ordinal(m[1]) - 1])
    return fill_then_submit(page, [(page.find(id="answer-input"), word)])


def _read_table(page: Page, _: dict) -> str:
    m = re.search(r"the value of (.*) into the text field", page.instruction)
    if m is None:
        raise LookupError(f"unexpected instruction {page.instruction!r}")
    cells = page.by_tag("td", "th")
    for i, cell in enumerate(cells[:-1]):
        if cell.label == m[1]:
            return fill_then_submit(page, [(page.find(id="tt"), cells[i + 1].label)])
    raise LookupError(f"no table row {m[1]!r}")


def _copy_paste(page: Page, _: dict) -> str:
    source = page.find(id="to-copy")
    if source is None or source.value is None:
        raise LookupError("no #to-copy text area")
    return fill_then_submit(page, [(page.find(id="answer-input"), source.value)])


def _dialog_button(page: Page, _: dict) -> str:
    label = page.quoted()[0]
    if label == "x":  # the title bar's close button: an icon whose text is "Close"
        label = "Close"
    return click(page.find(tag="button", label=label))


def _form_sequence_2(page: Page, _: dict) -> str:
    m = re.search(r"Check the (\w+) radio button and enter the number \"(-?\d+)\" into the "
                  r"(\w+) textbox", page.instruction)
    if m is None:
        raise LookupError(f"unexpected instruction {page.instruction!r}")
    radio = page.by_tag("input_radio")[_ordinal(m[1]) - 1]
    if not radio.checked:
        return click(radio)
    box = page.by_tag("input_text")[_ordinal(m[3]) - 1]
    return fill_then_submit(page, [(box, m[2])])


def _arithmetic(page: Page, _: dict) -> str:
    problem = page.find(id="math-problem")
    m = re.fullmatch(r"\s*(-?\d+)\s*([-+x*/])\s*(-?\d+)\s*=\s*", problem.label if problem
                     else "")
    if m is None:
        raise LookupError("cannot read the math problem")
    a, op, b = int(m[1]), m[2], int(m[3])
    result = {"+": a + b, "-": a - b, "x": a * b, "*": a * b}.get(op)
    if result is None:
        raise LookupError(f"operator {op!r}")
    return fill_then_submit(page, [(page.find(id="math-answer"), str(result))])


def _ordinal(word: str) -> int:
    if word in _ORDINAL:
        return _ORDINAL[word]
    return int(re.sub(r"\D", "", word))


SOLVERS: dict[str, Solver] = {
    "click-button": _button_labelled,
    "unicode-test": _button_labelled,
    "click-dialog-2": _dialog_button,
    "click-link": _click_link,
    "click-checkboxes": _select_listed,
    "click-checkboxes-transfer": _select_listed,
    "click-option": _select_listed,
    "enter-text": _enter_text,
    "enter-text-dynamic": _enter_text,
    "enter-text-2": _enter_text_case,
    "login-user": _login,
    "enter-password": _enter_password,
    "focus-text": _focus_text,
    "focus-text-2": _focus_nth,
    "choose-list": _choose_list,
    "click-tab": _click_tab,
    "click-test": _click_test,
    "click-test-2": _click_test,
    "click-test-transfer": _click_test,
    "click-button-sequence": _button_sequence,
    "use-autocomplete-nodelay": _autocomplete,
    "click-collapsible-nodelay": _collapsible,
    "find-word": _find_word,
    "read-table": _read_table,
    "copy-paste": _copy_paste,
    "form-sequence-2": _form_sequence_2,
    "simple-arithmetic": _arithmetic,
}
"""Task type -> solver(page, memo) -> action."""

EXPERT_TYPES: tuple[str, ...] = tuple(SOLVERS)
"""The task types the experts solve (every panel seed; see the module docstring)."""


class GuiExpert:
    """``Expert`` for one gui task: reads each observation's text and returns an action."""

    def __init__(self, task: Task) -> None:
        self.task_type = str(task.data.get("type", ""))
        self.solver = SOLVERS.get(self.task_type)
        self.memo: dict = {}

    def act(self, observation: Observation) -> str:
        if self.solver is None:
            return "done()"  # no solver for this type: give up rather than guess
        instruction, elements = parse_page(observation.text)
        try:
            return self.solver(Page(instruction, elements), self.memo)
        except (LookupError, IndexError, ValueError):
            return "done()"
