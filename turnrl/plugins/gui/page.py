"""What one episode does to its page, through MiniWoB's JavaScript contract and Playwright.

These coroutines run on the browser pool's loop (``BrowserPool.run``). The contract (MiniWoB's
``core/core.js``): ``Math.seedrandom(seed)`` then ``core.startEpisodeReal()`` generates the
problem for that seed; ``core.getUtterance()`` is the instruction, ``core.getDOMInfo()`` the DOM
snapshot; the page's handlers call ``core.endEpisode(reward, timeProportional, reason)``, which
sets ``WOB_DONE_GLOBAL``, ``WOB_RAW_REWARD_GLOBAL`` (the task's reward) and
``WOB_REWARD_GLOBAL`` (that reward discounted by the time taken, when the task asks for it).

A reset first ends a running episode (``core.endEpisode(0)``, as MiniWoB's own reset does),
finishes leftover animations and takes focus and the pointer off the page, so a reused page
regenerates exactly the problem a fresh page would for the same seed (``tests/plugins/gui``
compares the two for every panel type). Actions are real input events (Playwright mouse and
keyboard), not JavaScript ``click()`` calls.
"""

from __future__ import annotations

import asyncio
from typing import Any

from turnrl.plugins.gui.actions import Action
from turnrl.plugins.gui.browser import Slot

NO_TIME_LIMIT_MS = 2**31 - 1
"""The longest ``setTimeout`` delay browsers honour (a larger one fires at once): MiniWoB's
episode timer is pushed out of reach unless the time-discounted reward is chosen."""

READY_JS = "typeof core !== 'undefined' && core.cover_div !== null"

START_JS = """([seed, maxTime]) => {
  if (core.EP_TIMER !== null) core.endEpisode(0, false, 'reset');
  if (window.jQuery) jQuery(':animated').stop(true, true);  // end the last episode's effects
  if (document.activeElement && document.activeElement !== document.body)
    document.activeElement.blur();
  Math.seedrandom(seed);
  // the page's own clock (core.js's 10 s, or what the task page set: 15-30 s for some),
  // kept from before the first start so a reused page still knows it
  if (window.TURNRL_PAGE_MAX_TIME === undefined)
    window.TURNRL_PAGE_MAX_TIME = core.EPISODE_MAX_TIME;
  core.EPISODE_MAX_TIME = maxTime === null ? window.TURNRL_PAGE_MAX_TIME : maxTime;
  core.startEpisodeReal();
  // episodes start only here: a click on the START cover (shown once the page ends an
  // episode, e.g. when its clock runs out mid-action) must not start an unseeded one
  core.cover_div.onclick = null;
  window.TURNRL_STARTED = true;  // gone if the page reloads or navigates (see OBSERVE_JS)
  return WOB_TASK_READY;
}"""

OBSERVE_JS = """async (settleMs) => {
  // a reloaded or different document lost the seeded problem (its START cover would start an
  // unseeded one): fail the step rather than play on
  if (window.TURNRL_STARTED !== true)
    throw new Error('the task page was reloaded or left during the episode');
  if (settleMs > 0) {
    // let timers set by the action's handlers run, and jQuery animations end
    const tick = (ms) => new Promise(r => setTimeout(r, ms));
    await tick(0); await tick(0);
    const end = Date.now() + settleMs;
    while (window.jQuery && jQuery(':animated').length && Date.now() < end) await tick(20);
    // images (<img> and CSS url() icons) decoded: until then an icon has no size, is left
    // out of the DOM snapshot and shifts the refs of everything after it
    const pending = [];
    for (const img of document.images) if (!img.complete) pending.push(img.decode());
    for (const el of document.querySelectorAll('#wrap *')) {
      const style = getComputedStyle(el);
      for (const value of [style.content, style.backgroundImage]) {
        const m = value && value.match(/url\\("?([^")]+)"?\\)/);
        if (m) { const img = new Image(); img.src = m[1]; pending.push(img.decode()); }
      }
    }
    if (pending.length) {
      await Promise.race([Promise.allSettled(pending), tick(settleMs)]);
      await new Promise(r => requestAnimationFrame(() => r()));
    }
  }
  const out = {done: !!WOB_DONE_GLOBAL, reward: +WOB_REWARD_GLOBAL,
               raw: +WOB_RAW_REWARD_GLOBAL, reason: WOB_REWARD_REASON};
  if (out.done) return out;
  let u = core.getUtterance();
  out.utterance = (u !== null && typeof u === 'object') ? String(u.utterance) : String(u);
  out.dom = core.getDOMInfo();
  const extra = {};
  for (const [ref, el] of Object.entries(core.previousDOMInfo)) {
    const d = {};
    if (el instanceof HTMLSelectElement) {
      d.options = Array.from(el.options).map(o => o.text.trim());
      d.selected = el.selectedIndex >= 0 ? el.options[el.selectedIndex].text.trim() : null;
    }
    if (el.placeholder) d.placeholder = el.placeholder;
    if (el.disabled) d.disabled = true;
    if (Object.keys(d).length) extra[ref] = d;
  }
  out.extra = extra;
  const wrap = document.getElementById('wrap');
  const r = wrap ? wrap.getBoundingClientRect() : {width: 160, height: 210};
  out.area = [Math.ceil(r.width) || 160, Math.ceil(r.height) || 210];
  return out;
}"""

TARGET_JS = """ref => {
  const el = (core.previousDOMInfo || {})[ref];
  if (!el || !el.isConnected) return {missing: true};
  let kind = el.tagName.toLowerCase();
  if (el instanceof HTMLSelectElement) kind = 'select';
  else if (el instanceof HTMLTextAreaElement || el.isContentEditable) kind = 'text';
  else if (el instanceof HTMLInputElement) {
    const t = (el.type || 'text').toLowerCase();
    kind = ['checkbox', 'radio', 'button', 'submit', 'reset', 'image', 'file', 'range',
            'color'].includes(t) ? t : 'text';
  }
  const out = {kind: kind};
  if (kind === 'select') {
    out.options = Array.from(el.options).map(o => o.text.trim());
    return out;
  }
  el.scrollIntoView({block: 'nearest', inline: 'nearest'});
  const r = el.getBoundingClientRect();
  const hits = (x, y) => {
    const h = document.elementFromPoint(x, y);
    return h !== null && (h === el || el.contains(h));
  };
  const fractions = [0.5, 0.25, 0.75, 0.1, 0.9];
  for (const fy of fractions) for (const fx of fractions) {
    const x = r.left + r.width * fx, y = r.top + r.height * fy;
    if (hits(x, y)) { out.x = x; out.y = y; return out; }
  }
  const h = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  if (h === null) { out.covered = 'nothing: it is outside the window'; return out; }
  const hr = h.dataset && h.dataset.wob_ref ? '[' + h.dataset.wob_ref + '] ' : '';
  const text = (h.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
  out.covered = hr + h.tagName.toLowerCase() + (text ? ' "' + text + '"' : '');
  return out;
}"""
"""One round trip for an element action: what the element is, and where a person would click
it -- its centre, else the first point of a 5x5 grid over it that no other element covers
(MiniWoB places some buttons over others); ``covered`` names what is on top otherwise."""

CHOOSE_JS = """([ref, index]) => {
  const el = core.previousDOMInfo[ref];
  el.focus();
  el.selectedIndex = index;
  el.dispatchEvent(new Event('input', {bubbles: true}));
  el.dispatchEvent(new Event('change', {bubbles: true}));
}"""
"""Pick an option the way a user's choice does: the value changes, then input and change."""

SELECT_TEXT_JS = "ref => { const el = core.previousDOMInfo[ref]; if (el.select) el.select(); }"

DONE_JS = "() => { if (!WOB_DONE_GLOBAL) core.endEpisode(0, false, 'agent called done()'); }"


class Rejected(Exception):
    """An action the page cannot carry out (no such element, covered, wrong kind); the
    message is shown to the agent. Browser faults are not this: they propagate."""


async def start(slot: Slot, url: str, seed: int, max_time_ms: int | None, fresh: bool,
                ready_timeout_s: float = 10.0) -> None:
    """Load ``url`` if needed (always when ``fresh``) and start the episode for ``seed``, with
    an episode clock of ``max_time_ms``, or the task page's own (``core.EPISODE_MAX_TIME`` as
    the page set it, MiniWoB's clock) when None."""
    page = slot.page
    if fresh or slot.url != url:
        slot.url = ""
        await page.goto(url, wait_until="load")
        await page.wait_for_function(READY_JS, timeout=ready_timeout_s * 1000)
        slot.url = url
    else:  # a reused page: no element hovered or focused, as on a fresh one
        await page.mouse.move(0, 0)
    ready = await page.evaluate(START_JS, [seed, max_time_ms])
    deadline = asyncio.get_running_loop().time() + ready_timeout_s
    while not ready:  # a task may build its problem asynchronously (WOB_TASK_READY)
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{url}: the task did not become ready (WOB_TASK_READY) within "
                               f"{ready_timeout_s:g}s")
        await asyncio.sleep(0.02)
        ready = await page.evaluate("WOB_TASK_READY")
    slot.episodes += 1


async def ended(slot: Slot) -> bool:
    """Whether the page has ended the episode (``WOB_DONE_GLOBAL``)."""
    return bool(await slot.page.evaluate("!!WOB_DONE_GLOBAL"))


async def observe(slot: Slot, *, screenshot: bool, settle_ms: int) -> dict[str, Any]:
    """The page's state: MiniWoB's globals, instruction, DOM snapshot, task area size and
    (``screenshot``) a PNG of the task area, taken before anything else can change it. Raises
    (a browser fault, not ``Rejected``) when the page was reloaded or left since ``start``."""
    state: dict[str, Any] = await slot.page.evaluate(OBSERVE_JS, settle_ms)
    if screenshot and not state["done"]:
        width, height = state["area"]
        state["png"] = await slot.page.screenshot(
            type="png", clip={"x": 0, "y": 0, "width": width, "height": height},
            animations="disabled", caret="hide")
    return state


async def perform(slot: Slot, action: Action, *, scale: float, area: tuple[int, int]) -> None:
    """Carry out ``action``; raises ``Rejected`` when the page cannot (see its message)."""
    from playwright.async_api import Error as PlaywrightError

    page = slot.page
    try:
        if action.kind == "done":
            await page.evaluate(DONE_JS)
        elif action.kind == "press":
            await page.keyboard.press(action.text)
        elif action.kind == "click_xy":
            x, y = action.x / scale, action.y / scale  # screenshot pixels -> CSS pixels
            if not (0 <= x < area[0] and 0 <= y < area[1]):
                raise Rejected(f"({action.x:g}, {action.y:g}) is outside the screenshot "
                               f"({round(area[0] * scale)}x{round(area[1] * scale)} pixels)")
            await page.mouse.click(x, y)
        elif action.kind == "scroll":
            await page.mouse.wheel(action.x, action.y)
        else:
            await _element_action(page, action)
    except PlaywrightError as exc:
        if _browser_gone(page, exc):
            raise
        raise Rejected(_first_line(exc)) from None


async def _element_action(page: Any, action: Action) -> None:
    target = await page.evaluate(TARGET_JS, action.ref)
    if target.get("missing"):
        raise Rejected(f"there is no element [{action.ref}] on the page")
    kind = target["kind"]
    if action.kind == "select":
        if kind != "select":
            raise Rejected(f"element [{action.ref}] ({kind}) is not a drop-down; "
                           f"select() works on select elements")
        wanted = action.text.strip()
        if wanted not in target["options"]:
            listed = " | ".join(f'"{o}"' for o in target["options"])
            raise Rejected(f'drop-down [{action.ref}] has no option "{wanted}"; its options: '
                           f"{listed}")
        await page.evaluate(CHOOSE_JS, [action.ref, target["options"].index(wanted)])
        return
    if action.kind == "type" and kind != "text":
        raise Rejected(f"element [{action.ref}] ({kind}) does not take text; type() works on "
                       f"text fields (use click() or select() here)")
    if "covered" in target:
        raise Rejected(f"element [{action.ref}] cannot be clicked: it is covered by "
                       f"{target['covered']}")
    await page.mouse.click(target["x"], target["y"])
    if action.kind == "type":
        await page.evaluate(SELECT_TEXT_JS, action.ref)  # typing replaces the field's text
        await page.keyboard.type(action.text)


def _browser_gone(page: Any, exc: Exception) -> bool:
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    if isinstance(exc, PlaywrightTimeout):
        return False
    name = type(exc).__name__
    return name == "TargetClosedError" or page.is_closed() or "has been closed" in str(exc)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    # Playwright prefixes the API name ("ElementHandle.click: Timeout 1000ms exceeded.");
    # the call log lines after it say why ("<div> intercepts pointer events")
    reasons = [line.strip(" -") for line in text[1:] if "intercepts pointer events" in line
               or "not visible" in line or "not enabled" in line or "not stable" in line]
    message = first.split(": ", 1)[-1]
    return f"{message} ({reasons[-1]})" if reasons else message
