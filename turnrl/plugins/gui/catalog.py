"""Which MiniWoB++ task types the panels use, and how each is played.

Left out, with the reason: tasks that need a drag, a hover or a text selection (the action
grammar has clicks, typing, keys and the wheel: ``drag-*``, ``draw-*``, ``hover-shape``,
``highlight-text*``, ``resize-textarea``, ``chase-circle``, ``moving-items``); tasks whose
problem depends on the clock or on timers rather than on the seed (``choose-date*`` and
``book-flight*`` show "today", ``stock-market``, ``terminal``, ``button-delay``,
``simon-says``); tasks whose generator draws a varying number of random numbers from the
seeded stream or leaks state between problems, so the same seed does not give the same problem
(``click-pie*``, ``click-dialog``, ``click-scroll-list``, ``search-engine``, ``phone-book``,
``social-media*``, ``order-food``, ``email-inbox-forward``, ``email-inbox-important``,
``email-inbox-forward-nl-turk``, ``scroll-text*``); and the ``flight.*`` pages (a whole
airline site in a frame). ``tests/plugins/gui`` checks, for every listed type, that a fresh
page and a reused one show the same problem for the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TaskType:
    name: str
    fresh_page: bool = False
    """Reload the page for every episode: the task keeps widget state (jQuery UI tabs,
    accordions, dialogs) that a reused page would carry into the next problem."""
    max_steps: int = 10


def _types(names: str, **kw: object) -> list[TaskType]:
    return [TaskType(n, **kw) for n in names.split()]  # type: ignore[arg-type]


TASK_TYPES: dict[str, TaskType] = {t.name: t for t in [
    *_types("""ascending-numbers bisect-angle buy-ticket choose-list circle-center click-button
        click-button-sequence click-checkboxes click-checkboxes-soft click-checkboxes-transfer
        click-color click-link click-menu click-menu-2 click-option click-shades click-shape
        click-test click-test-2 click-test-transfer click-widget copy-paste copy-paste-2
        count-shape count-sides email-inbox email-inbox-delete email-inbox-forward-nl
        email-inbox-nl-turk email-inbox-noscroll email-inbox-reply email-inbox-star-reply
        enter-date enter-password enter-text enter-text-2 enter-text-dynamic enter-time
        find-greatest find-midpoint find-word focus-text focus-text-2 form-sequence-2
        form-sequence-3 generate-number grid-coordinate guess-number hot-cold identify-shape
        login-user login-user-popup multi-orderings navigate-tree number-checkboxes odd-or-even
        read-table read-table-2 right-angle sign-agreement simple-algebra simple-arithmetic
        text-transform tic-tac-toe unicode-test use-autocomplete use-autocomplete-nodelay
        use-colorwheel use-colorwheel-2 use-spinner visual-addition"""),
    *_types("""click-collapsible click-collapsible-nodelay click-collapsible-2
        click-collapsible-2-nodelay click-tab click-tab-2 click-tab-2-easy click-tab-2-medium
        click-tab-2-hard click-dialog-2 multi-layouts""", fresh_page=True),
    TaskType("click-checkboxes-large", max_steps=15),
]}
"""The panel task types (name -> how it is played), in a fixed order."""

PANEL_TYPES: tuple[str, ...] = tuple(sorted(TASK_TYPES))
