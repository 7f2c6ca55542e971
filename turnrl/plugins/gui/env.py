"""``GuiEnv``: one MiniWoB++ episode in a browser context lent by the process's browser pool.

Observation: ``text`` is the feedback on the last action, the instruction and the page rendered
as ref-tagged lines (``dom.py``); ``images`` holds a PNG screenshot of the task area (base64).
``observation="text"`` drops the screenshot, ``observation="screenshot"`` the page lines (the
instruction stays: MiniWoB shows it above the task area). ``state_key`` hashes the page lines.

Steps: the reply is parsed (``actions.py``); a malformed one, or one the page cannot carry out
(no such element, a covered button), is answered with a message and ``valid_action=False`` and
costs a step. The episode ends when the page ends it (``terminated``, reward from the chosen
processor, ``won`` when the raw reward reaches ``success_threshold``), on ``done()``, or after
``max_steps`` actions (``truncated``). The last observation after the end carries no
screenshot: the page has already moved on to MiniWoB's START cover by then. Once the page has
ended the episode (its clock ran out) actions are skipped, as MiniWoB's own ``perform`` does. A
page that reloads or navigates mid-episode, or a browser that dies, fails the step (raised:
the engine counts it ``env_error``) and the context is not reused.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from turnrl.core.types import Observation, Task, Transition
from turnrl.plugins.gui import page as page_ops
from turnrl.plugins.gui.actions import Action, ActionError, parse_action
from turnrl.plugins.gui.browser import BrowserConfig, BrowserPool, Slot, get_pool
from turnrl.plugins.gui.catalog import TASK_TYPES, TaskType
from turnrl.plugins.gui.dom import render_dom, state_key
from turnrl.plugins.gui.rewards import TIMED_REWARDS, get_reward

OBSERVATIONS = ("both", "text", "screenshot")


class GuiEnv:
    """A MiniWoB++ task page in Chromium (see the module docstring for the options)."""

    def __init__(self, *, observation: str = "both", reward: str = "raw",
                 reward_threshold: float = 1.0, success_threshold: float = 1.0,
                 max_steps: int | None = None, screenshot_scale: float = 1.0,
                 coords: bool = False, settle_ms: int = 1000,
                 executable: str = "", html_root: str = "",
                 extra_args: tuple[str, ...] | list[str] = (),
                 pool: BrowserPool | None = None) -> None:
        if observation not in OBSERVATIONS:
            raise ValueError(f"gui: observation must be one of {', '.join(OBSERVATIONS)}, "
                             f"got {observation!r}")
        if max_steps is not None and max_steps < 1:
            raise ValueError(f"gui: max_steps must be >= 1, got {max_steps}")
        if not 0.25 <= screenshot_scale <= 4:
            raise ValueError(f"gui: screenshot_scale must be in [0.25, 4], got "
                             f"{screenshot_scale}")
        self.reward_name = reward
        self._reward = get_reward(reward)
        self.reward_threshold = float(reward_threshold)
        self.success_threshold = float(success_threshold)
        self.observation_mode = observation
        self.max_steps_option = max_steps
        self.scale = float(screenshot_scale)
        self.coords = coords
        self.settle_ms = int(settle_ms)
        self.pool = pool or get_pool(BrowserConfig(
            executable=executable, html_root=html_root, extra_args=tuple(extra_args),
            screenshot_scale=self.scale))
        self._slot: Slot | None = None
        self._clean = True
        """False while a browser call is in flight or after one failed: the context is then
        closed on ``close`` instead of being reused."""
        self._task: Task | None = None
        self._type: TaskType | None = None
        self._t = 0
        self._max_steps = 10
        self._over = False
        self._state: dict[str, Any] = {}
        self.closed = False

    # ------------------------------------------------------------------ Env API
    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        if self.closed:
            raise RuntimeError("GuiEnv.reset called after close()")
        name = str(task.data.get("type", ""))
        task_type = TASK_TYPES.get(name) or TaskType(name)
        page = Path(self.pool.config.html_root, "miniwob", f"{name}.html")
        if not name or "/" in name or name.startswith(".") or not page.is_file():
            raise ValueError(f"gui task {task.id}: no task page for task_type {name!r} "
                             f"(looked for {page})")
        self._task, self._type = task, task_type
        self._t, self._over = 0, False
        self._max_steps = self.max_steps_option or task_type.max_steps
        # the discounted reward runs the task page's own clock (core.js's 10 s unless the page
        # sets another, e.g. 30 s for book-flight), as MiniWoB does; the others run none
        max_time = None if self.reward_name in TIMED_REWARDS else page_ops.NO_TIME_LIMIT_MS
        self._state = await self._browser(self._start, name, task_type.fresh_page,
                                          task.seed if seed is None else seed, max_time)
        if self._state["done"]:
            raise RuntimeError(f"gui task {task.id}: the page ended its episode at once")
        return self._observe(None)

    async def step(self, action: str) -> Transition:
        if self._task is None:
            raise RuntimeError("GuiEnv.step called before reset()")
        if self._over:
            return Transition(Observation(text="The episode is over.", state_key="episode-over"),
                              terminated=True, info={"valid_action": False, "won": False})
        self._t += 1
        try:
            parsed = parse_action(action)
        except ActionError as exc:
            # the page may have ended the episode meanwhile (its clock ran out): report it
            self._state = await self._browser(self._look)
            return self._transition(f"Invalid action: {exc}.", valid=False)
        state, error = await self._browser(self._act, parsed)
        if state is not None:
            self._state = state
        if error is not None:
            return self._transition(f"Invalid action {parsed}: {error}.", valid=False)
        return self._transition(f"Last action: {parsed}.", valid=True)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        slot, self._slot = self._slot, None
        if slot is not None and not self.pool.closed:
            await self.pool.run(self.pool.release, slot, self._clean)

    # ------------------------------------------------------------------ browser side
    async def _browser(self, fn: Any, *args: Any) -> Any:
        """Run ``fn`` on the pool's loop; if it fails or is cancelled (a timeout), the
        context is not reused."""
        self._clean = False
        result = await self.pool.run(fn, *args)
        self._clean = True
        return result

    async def _start(self, name: str, fresh: bool, seed: int, max_time: int | None
                     ) -> dict[str, Any]:
        if self._slot is None:
            self._slot = await self.pool.acquire()
        url = f"{self.pool.base_url}/miniwob/{name}.html"  # the server starts with the pool
        await page_ops.start(self._slot, url, seed, max_time, fresh)
        return await page_ops.observe(self._slot, screenshot=self._wants_screenshot,
                                      settle_ms=self.settle_ms)

    async def _act(self, action: Action) -> tuple[dict[str, Any] | None, str | None]:
        assert self._slot is not None
        area = tuple(self._state.get("area") or (160, 210))
        error: str | None = None
        # an episode the page has already ended (its clock ran out) takes no action, as in
        # MiniWoB's ``perform``: a click would hit the START cover and start a new problem
        if not await page_ops.ended(self._slot):
            try:
                await page_ops.perform(self._slot, action, scale=self.scale, area=area)
            except page_ops.Rejected as exc:
                error = str(exc)
        return await self._look(), error

    async def _look(self) -> dict[str, Any]:
        assert self._slot is not None
        return await page_ops.observe(self._slot, screenshot=self._wants_screenshot,
                                      settle_ms=self.settle_ms)

    @property
    def _wants_screenshot(self) -> bool:
        return self.observation_mode != "text"

    # ------------------------------------------------------------------ observations
    def _transition(self, feedback: str, *, valid: bool) -> Transition:
        state = self._state
        record = {"done": bool(state["done"]), "raw_reward": float(state.get("raw", 0.0)),
                  "env_reward": float(state.get("reward", 0.0))}
        assert self._type is not None
        info: dict[str, Any] = {"valid_action": valid, "task_type": self._type.name,
                                "won": record["done"]
                                and record["raw_reward"] >= self.success_threshold}
        if record["done"]:
            info.update(raw_reward=record["raw_reward"], env_reward=record["env_reward"],
                        reason=str(state.get("reason") or ""))
            reward = self._reward(record, self.reward_threshold)
            self._over = True
            text = (f"{feedback}\nThe episode is over: the page scored "
                    f"{record['raw_reward']:g}.")
            return Transition(Observation(text=text, state_key="episode-over"), reward=reward,
                              terminated=True, info=info)
        truncated = self._t >= self._max_steps
        if truncated:
            self._over = True
        return Transition(self._observe(feedback), reward=0.0, truncated=truncated, info=info)

    def _observe(self, feedback: str | None) -> Observation:
        state = self._state
        lines = render_dom(state.get("dom"), state.get("extra"),
                           coords=self.scale if self.coords else None)
        parts = [feedback] if feedback else []
        parts.append(f"Task: {state.get('utterance', '')}")
        if self.observation_mode == "screenshot":
            width, height = state.get("area") or (160, 210)
            parts.append(f"(The page is in the screenshot: {round(width * self.scale)}x"
                         f"{round(height * self.scale)} pixels.)")
        else:
            parts.append("Page:")
            parts.extend(lines)
        png = state.get("png")
        images = (base64.b64encode(png).decode("ascii"),) if png else ()
        key = state_key(str(state.get("utterance", "")), lines)
        return Observation(text="\n".join(parts), state_key=key, images=images)



BACKENDS = {
    "playwright": "turnrl.plugins.gui.env:GuiEnv",
    "miniwob-gym": "turnrl.plugins.gui.miniwob_gym:MiniwobGymEnv",
}
"""``backend=`` of ``gui``: the Playwright pool (default) or MiniWoB's gymnasium environment."""


def make_env(*, backend: str = "playwright", **options: Any) -> Any:
    """The factory registered for ``gui``: ``backend`` picks the implementation."""
    from turnrl.core.host import import_target

    target = BACKENDS.get(backend)
    if target is None:
        raise ValueError(f"gui has no backend {backend!r}; backends: {', '.join(BACKENDS)}")
    return import_target(target)(**options)
