"""One Chromium per pool, many browser contexts, all driven on the pool's own event loop thread.

Why the pool has an event loop of its own: Playwright's objects belong to the loop that created
them, while turnrl's callers come and go with loops of their own (each ``asyncio.run`` of
``turnrl check``, the rollout engine, ``turnrl play``, tests). A browser living in the caller's
loop would be relaunched for every loop and could not be shut down cleanly when that loop ends.
So a pool runs Playwright (async API), the task-page server and every browser call on one
private loop in a daemon thread; callers ``await pool.run(fn, ...)``, which only waits on a
future, so their event loop stays free while Chromium works. Chromium starts once per process
and pool configuration, not per episode; contexts (one per concurrent episode) are handed back
after an episode and reused by the next.

Faults: when Chromium dies (crash, OOM, ``kill``), Playwright reports the browser disconnected;
calls in flight fail (their episodes end ``env_error``), and the next ``acquire`` launches a
fresh browser. A context whose episode failed or timed out (a page stuck in a script) is closed,
never reused. ``shutdown_pools()`` (also run at exit) closes every browser and kills what is left.

Network: Chromium is started with the flags in ``OFFLINE_ARGS`` (the spec's set plus a DNS
block, a dead proxy and loopback URLs for the Google services Debian's build calls), so nothing
but the pool's own 127.0.0.1 server is ever contacted; ``tests/plugins/gui`` checks it against
Chromium's own net log.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.util
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_EXECUTABLE = "/usr/bin/chromium"
"""Debian's Chromium (``apt-get install chromium``); ``TURNRL_CHROMIUM`` overrides it.
Playwright's own browser download is never used."""

DEAD_URL = "http://127.0.0.1:9"
"""Port 9 (discard) is on Chromium's unsafe-port list: requests sent here fail before any
socket is opened."""

OFFLINE_ARGS: tuple[str, ...] = (
    # the spec's flags (Playwright adds --headless and --no-sandbox and a fresh profile dir)
    "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    # no name is ever resolved (no DNS packet), except the loopback address the pages use
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    # anything not on loopback would go through a proxy that cannot be reached
    f"--proxy-server={DEAD_URL}",
    # Debian's build ships Google API keys: point the services that still call out (account
    # list, autofill server, device check-in) at the dead loopback URL. Not --disable-features:
    # a second --disable-features flag replaces Playwright's own list instead of adding to it.
    f"--gaia-url={DEAD_URL}", f"--autofill-server-url={DEAD_URL}/",
    f"--gcm-checkin-url={DEAD_URL}",
    # --disable-component-update still lets this build's component updater ask
    # update.googleapis.com for updates a minute or so after launch (seen in CI on a loaded
    # machine): its update server is the dead URL too
    f"--component-updater=url-source={DEAD_URL}/",
)

VIEWPORT = {"width": 500, "height": 320}
"""MiniWoB's window (``constants.py``: WINDOW_WIDTH/HEIGHT); the task area is its top-left."""


def miniwob_html_root() -> str:
    """The task pages shipped in the ``miniwob`` wheel (found without importing the package,
    whose import pulls gymnasium in)."""
    spec = importlib.util.find_spec("miniwob")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the gui environment needs the MiniWoB++ pages from the `miniwob` package: "
            "pip install 'turnrl[gui]'")
    return str(Path(next(iter(spec.submodule_search_locations))) / "html")


@dataclass(frozen=True, slots=True)
class BrowserConfig:
    """What makes two pools different (one pool per distinct configuration and process)."""

    executable: str = ""
    html_root: str = ""
    extra_args: tuple[str, ...] = ()
    screenshot_scale: float = 1.0
    headless: bool = True
    launch_timeout_s: float = 60.0

    def resolved(self) -> BrowserConfig:
        return BrowserConfig(
            executable=self.executable or os.environ.get("TURNRL_CHROMIUM", DEFAULT_EXECUTABLE),
            html_root=self.html_root or miniwob_html_root(), extra_args=tuple(self.extra_args),
            screenshot_scale=float(self.screenshot_scale), headless=self.headless,
            launch_timeout_s=self.launch_timeout_s)


@dataclass(slots=True)
class Slot:
    """One browser context with its page, lent to one episode at a time."""

    context: Any
    page: Any
    generation: int
    url: str = ""
    """The task page loaded in ``page`` (a reset of the same task reuses it)."""
    episodes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class BrowserPool:
    """A Chromium process, its task-page server and a free list of contexts, on a private loop."""

    MAX_IDLE = 64
    """Idle contexts kept for reuse; more are closed (each holds a renderer, ~20-60 MB)."""

    def __init__(self, config: BrowserConfig) -> None:
        self.config = config.resolved()
        self.launches = 0
        """Browser launches so far (a restart after a crash adds one)."""
        self.browser_pid: int | None = None
        """PID of the running Chromium's main process (crash tests kill it)."""
        self.base_url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="turnrl-gui-browser")
        self._thread.start()
        self._closed = False
        # state below is touched only on the pool's loop
        self._playwright: Any = None
        self._browser: Any = None
        self._generation = 0
        self._idle: list[Slot] = []
        self._server: Any = None
        self._launch_lock: asyncio.Lock | None = None

    # ------------------------------------------------------------------ any thread
    @property
    def closed(self) -> bool:
        return self._closed

    async def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``fn(*args)`` on the pool's loop and await it from the caller's loop.
        Cancelling the caller (a timeout) cancels the work on the pool's loop too."""
        if self._closed:
            raise RuntimeError("the browser pool is shut down")
        future = asyncio.run_coroutine_threadsafe(fn(*args), self._loop)
        return await asyncio.wrap_future(future)

    def run_sync(self, fn: Callable[..., Awaitable[T]], *args: Any, timeout: float = 60) -> T:
        """``run`` for synchronous callers (not from the pool's own thread)."""
        return asyncio.run_coroutine_threadsafe(fn(*args), self._loop).result(timeout)

    def close(self, timeout: float = 20.0) -> None:
        """Close every context and the browser, stop the server and the loop (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout)
        except Exception as exc:  # a stuck browser must not stop the process from exiting
            log.warning("gui browser pool did not shut down cleanly: %s", exc)
        finally:
            self._kill_browser()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
            if not self._thread.is_alive():
                self._loop.close()

    # ------------------------------------------------------------------ pool loop
    async def acquire(self) -> Slot:
        """A context for one episode: an idle one of the live browser, else a new one."""
        await self._ensure_browser()
        while self._idle:
            slot = self._idle.pop()
            if slot.generation == self._generation and not slot.page.is_closed():
                return slot
            await self._close_slot(slot)
        context = await self._browser.new_context(
            viewport=VIEWPORT, device_scale_factor=self.config.screenshot_scale)
        page = await context.new_page()
        return Slot(context, page, self._generation)

    async def release(self, slot: Slot, reuse: bool) -> None:
        """Hand a context back: kept for the next episode if ``reuse`` and the browser that
        made it still runs, else closed."""
        if (reuse and slot.generation == self._generation and self._browser is not None
                and self._browser.is_connected() and not slot.page.is_closed()
                and len(self._idle) < self.MAX_IDLE):
            self._idle.append(slot)
            return
        await self._close_slot(slot)

    async def _close_slot(self, slot: Slot) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(slot.context.close(), 10)

    async def _ensure_browser(self) -> None:
        if self._launch_lock is None:
            self._launch_lock = asyncio.Lock()
        async with self._launch_lock:
            if self._server is None:
                from turnrl.plugins.gui.server import start_server

                self._server, self.base_url = await start_server(self.config.html_root)
            if self._browser is not None and self._browser.is_connected():
                return
            if self._browser is not None:  # it died: forget it and everything it made
                log.warning("gui: Chromium (pid %s) is gone; starting a new one",
                            self.browser_pid)
                self._kill_browser()
                self._browser = None
                self._idle.clear()
            await self._launch()

    async def _launch(self) -> None:
        try:
            from playwright.async_api import async_playwright
        except ModuleNotFoundError as exc:
            raise ModuleNotFoundError(
                "the gui environment needs Playwright: pip install 'turnrl[gui]'") from exc
        executable = self.config.executable
        if not Path(executable).exists():
            raise FileNotFoundError(
                f"no Chromium at {executable}: install Debian's (apt-get install -y chromium) "
                "or point TURNRL_CHROMIUM at one")
        if self._playwright is None:
            self._playwright = await async_playwright().start()
        before = _chromium_main_pids()
        self._browser = await self._playwright.chromium.launch(
            executable_path=executable, headless=self.config.headless,
            args=[*OFFLINE_ARGS, *self.config.extra_args],
            timeout=self.config.launch_timeout_s * 1000)
        self._generation += 1
        self.launches += 1
        started = _chromium_main_pids() - before
        self.browser_pid = min(started) if started else None

    async def _shutdown(self) -> None:
        for slot in self._idle:
            await self._close_slot(slot)
        self._idle.clear()
        if self._browser is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._browser.close(), 10)
            self._browser = None
        if self._playwright is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._playwright.stop(), 10)
            self._playwright = None
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.cleanup()
            self._server = None

    def _kill_browser(self) -> None:
        """Kill the recorded Chromium main process if it is still there (its children follow)."""
        pid, self.browser_pid = self.browser_pid, None
        if pid is not None and pid in _chromium_main_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _chromium_main_pids() -> set[int]:
    """Main Chromium processes started below this process (Playwright's driver launches them
    with ``--remote-debugging-pipe``; renderers and helpers carry ``--type=``). Linux /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), ()):
            todo.append(child)
            try:
                with open(f"/proc/{child}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if b"--remote-debugging-pipe" in argv and not any(a.startswith(b"--type=")
                                                               for a in argv):
                found.add(child)
    return found


_POOLS: dict[BrowserConfig, BrowserPool] = {}
_POOLS_LOCK = threading.Lock()


def get_pool(config: BrowserConfig | None = None) -> BrowserPool:
    """The process-wide pool for ``config`` (made on first use; the browser starts lazily)."""
    key = (config or BrowserConfig()).resolved()
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None or pool.closed:
            pool = _POOLS[key] = BrowserPool(key)
        return pool


def shutdown_pools() -> None:
    """Close every pool of this process: browsers, servers, loops. Run at interpreter exit."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.close()


atexit.register(shutdown_pools)
