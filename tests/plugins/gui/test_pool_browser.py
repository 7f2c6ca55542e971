"""The browser pool: one Chromium for many episodes and event loops, recovery after Chromium
is killed mid-episode, a hanging page cut off by the engine's timeout, and no network traffic
beyond 127.0.0.1 (checked in Chromium's own net log)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from pathlib import Path

import pytest

from tests.plugins.gui import netlog
from turnrl.core.policy import Completion
from turnrl.core.rollout import RolloutConfig, run_groups
from turnrl.core.types import Task
from turnrl.plugins.gui.browser import BrowserConfig, BrowserPool, miniwob_html_root
from turnrl.plugins.gui.expert import GuiExpert
from turnrl.plugins.gui.prompt import format_gui
from turnrl.plugins.gui.tasks import make_tasks

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]


class Gold:
    """The gui expert as a rollout policy, with a hook run before chosen (episode, step)s."""

    wants_prompt = False

    def __init__(self, before=None) -> None:
        self.experts: dict[str, GuiExpert] = {}
        self.before = before or {}

    async def generate(self, requests):
        out = []
        for r in requests:
            expert = self.experts.setdefault(r.episode_id, GuiExpert(r.task))
            step = len(expert.memo.setdefault("seen", []))
            expert.memo["seen"].append(step)
            hook = self.before.get((r.episode_id.split("/")[0], step))
            if hook is not None:
                hook()
            out.append(Completion(format_gui(expert.act(r.observation))))
        return out

    async def close(self) -> None:
        return None


@pytest.fixture
def own_pool():
    """A pool of this test's own (the session's shared pool stays untouched)."""
    pools: list[BrowserPool] = []

    def make(**kw) -> BrowserPool:
        pools.append(BrowserPool(BrowserConfig(**kw)))
        return pools[-1]

    yield make
    for pool in pools:
        pool.close()


def test_one_browser_for_many_episodes_and_event_loops(own_pool) -> None:
    pool = own_pool()
    tasks = make_tasks("train", tasks=["click-button", "enter-text"], seeds=2)
    for _ in range(3):  # three separate event loops, as three `asyncio.run` callers would be
        groups = asyncio.run(run_groups("gui", tasks, Gold(), config=RolloutConfig(
            max_concurrent_episodes=2, env_options={"pool": pool})))
        assert all(e.status == "ok" and e.won for g in groups for e in g.episodes)
    assert pool.launches == 1
    slots = pool.run_sync(_idle_slots, pool)
    assert 1 <= len(slots) <= 2  # contexts went back to the pool and were reused
    assert sum(slots) == 3 * len(tasks)


async def _idle_slots(pool: BrowserPool) -> list[int]:
    return [slot.episodes for slot in pool._idle]


def test_chromium_killed_mid_episode(own_pool) -> None:
    """The episode in flight ends env_error with the steps it made; the next ones succeed on a
    new browser."""
    pool = own_pool()
    tasks = make_tasks("train", tasks=["login-user"], seeds=3)  # 3 actions per episode
    killed: list[int] = []

    def kill() -> None:
        assert pool.browser_pid is not None
        killed.append(pool.browser_pid)
        os.kill(pool.browser_pid, signal.SIGKILL)

    first = tasks[0].id
    policy = Gold(before={(f"{first}@{tasks[0].seed}", 2): kill})
    groups = asyncio.run(run_groups("gui", tasks, policy, config=RolloutConfig(
        max_concurrent_episodes=1, env_timeout_s=30, env_options={"pool": pool})))
    episodes = [e for g in groups for e in g.episodes]
    crashed, *rest = episodes
    assert crashed.status == "env_error", crashed.error
    assert "closed" in crashed.error.lower()
    assert len(crashed.steps) == 2
    assert all(s.valid for s in crashed.steps)
    assert [e.status for e in rest] == ["ok", "ok"]
    assert all(e.won for e in rest)
    assert pool.launches == 2
    assert pool.browser_pid not in (None, killed[0])
    assert not Path(f"/proc/{killed[0]}").exists() or \
        Path(f"/proc/{killed[0]}/stat").read_text().split()[2] == "Z"


def test_a_page_reloaded_mid_episode_fails_the_step(own_pool) -> None:
    """A task page that navigates or reloads mid-episode has lost its seeded problem (its START
    cover would start an unseeded one): the step fails, counted as env_error with the steps
    made; the context is not reused and the next episode is fine."""
    pool = own_pool()
    tasks = make_tasks("train", tasks=["login-user"], seeds=2)

    async def reload_pages() -> None:
        for context in pool._browser.contexts:
            for page in context.pages:
                await page.reload()

    first = tasks[0].id
    policy = Gold(before={(f"{first}@{tasks[0].seed}", 1): lambda: pool.run_sync(reload_pages)})
    groups = asyncio.run(run_groups("gui", tasks, policy, config=RolloutConfig(
        max_concurrent_episodes=1, env_timeout_s=30, env_options={"pool": pool})))
    reloaded, after = [e for g in groups for e in g.episodes]
    assert reloaded.status == "env_error", (reloaded.status, reloaded.error)
    assert "reloaded or left" in reloaded.error
    assert len(reloaded.steps) == 1
    assert after.status == "ok"
    assert after.won
    assert pool.launches == 1


HANG_PAGE = """<!DOCTYPE html><html><head>
<link rel="stylesheet" type="text/css" href="../core/core.css">
<script src="../core/core.js"></script>
<script>
var genProblem = function() {
  d3.select('#query').html('Press the button.');
  d3.select('#area').html('<button id="subbtn">Hang</button>');
  d3.select('#subbtn').on('click', function() { while (true) {} });
};
window.onload = function() { core.startEpisode(); };
</script><script src="../core/d3.v3.min.js"></script></head>
<body><div id="wrap"><div id="query"></div><div id="area"></div></div></body></html>"""


def test_a_hanging_page_is_cut_off_by_the_engines_timeout(own_pool, tmp_path: Path) -> None:
    root = tmp_path / "html"
    shutil.copytree(Path(miniwob_html_root()) / "core", root / "core")
    (root / "miniwob").mkdir()
    (root / "miniwob" / "hang.html").write_text(HANG_PAGE)
    shutil.copy(Path(miniwob_html_root()) / "miniwob" / "click-test.html", root / "miniwob")
    pool = own_pool(html_root=str(root))
    hang = Task(env="gui", id="hang", data={"type": "hang"})
    click = Task(env="gui", id="click-test", data={"type": "click-test"})

    class ClickTheButton:
        wants_prompt = False

        async def generate(self, requests):
            return [Completion(format_gui("click(4)")) for _ in requests]

        async def close(self) -> None:
            return None

    groups = asyncio.run(run_groups("gui", [click, hang, click, click], ClickTheButton(),
                                    config=RolloutConfig(max_concurrent_episodes=1,
                                                         env_timeout_s=5,
                                                         env_options={"pool": pool})))
    before, hung, *after = [e for g in groups for e in g.episodes]
    assert before.status == "ok"
    assert before.won
    assert hung.status == "timeout"
    assert "env.step timed out after 5s" in hung.error
    assert [e.status for e in after] == ["ok", "ok"]
    assert all(e.won for e in after)
    assert pool.launches == 1  # the stuck context was closed, the browser kept


def test_no_request_leaves_loopback(own_pool, tmp_path: Path) -> None:
    """Episodes on form pages (which make Debian's Chromium call Google's autofill and account
    services unless told otherwise), plus a page script that tries to reach the internet:
    Chromium's own net log shows no URL, connection, datagram or DNS lookup off loopback."""
    log_path = tmp_path / "net.json"
    pool = own_pool(extra_args=(f"--log-net-log={log_path}",))
    tasks = make_tasks("train", tasks=["login-user", "enter-text", "choose-list"], seeds=1)
    seen_by_pages: list[str] = []

    async def episodes():
        groups = await run_groups("gui", tasks, Gold(), config=RolloutConfig(
            max_concurrent_episodes=1, env_options={"pool": pool}))
        assert all(e.won for g in groups for e in g.episodes)
        await pool.run(_try_to_leave, pool, seen_by_pages)

    asyncio.run(episodes())
    pool.close()
    log = netlog.load(log_path)
    # the page script's two fetches are the only requests for outside URLs, and neither they
    # nor anything else opened a connection, sent a datagram or looked up a name
    assert sorted(netlog.outside(log)) == sorted(
        f"{kind} {url}" for kind in ("CORS_REQUEST", "URL_REQUEST_START_JOB")
        for url in ("http://example.com/", "http://93.184.215.14/"))
    loopback = [u for u in seen_by_pages if u.startswith("http://127.0.0.1:")]
    assert loopback
    assert len(seen_by_pages) == len(loopback) + 2
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = {e["params"]["url"] for e in log["events"]
            if names.get(e["type"]) == "URL_REQUEST_START_JOB" and "url" in e.get("params", {})}
    assert any("/miniwob/login-user.html" in u for u in urls)  # the log did record the pages


async def _try_to_leave(pool: BrowserPool, seen: list[str]) -> None:
    """A page script that fetches an outside name and an outside address: both must fail
    without a connection (the net log is checked afterwards)."""
    slot = await pool.acquire()
    slot.context.on("request", lambda request: seen.append(request.url))
    await slot.page.goto(f"{pool.base_url}/miniwob/click-test.html")
    results = await slot.page.evaluate("""async () => {
        const out = [];
        for (const url of ['http://example.com/', 'http://93.184.215.14/']) {
            try { await fetch(url, {mode: 'no-cors'}); out.push('reached ' + url); }
            catch (e) { out.push('failed'); }
        }
        return out;
    }""")
    assert results == ["failed", "failed"]
    await pool.release(slot, reuse=False)
