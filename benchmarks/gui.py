"""The gui environment's costs in a real Chromium: browser start, reset, step with a screenshot,
and expert episodes per second at 1, 4 and 16 concurrent episodes (ratios to 1).

    python benchmarks/gui.py [--tasks-per-type 3] [--repeats 3] [--concurrency 1 4 16]

* browser start: a fresh pool's first context (page server, Playwright driver, Chromium launch,
  one context), median of ``--repeats`` fresh pools, each closed after.
* reset: median over the expert panel of a reset that reuses the context's page (same task
  type, another seed) and of one that loads another task page.
* step: median time of an expert's step with the screenshot (``observation="both"``) and
  without (``"text"``), same tasks, same actions.
* episodes/s: the rollout engine plays the same expert episodes (scripted gold policy) at each
  concurrency on one warm pool; best of ``--repeats`` runs per concurrency, interleaved, with
  the ratio to concurrency 1 next to each. Next to it, the CPU time the whole process tree
  (Python, Playwright's driver, Chromium and its renderers) spent per episode: a number the
  machine's other load does not move, and the ceiling on episodes/s is cores / CPU per episode.

The load average is printed before and after: on a shared machine the numbers move with it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from typing import Any

from turnrl.core.host import get_host
from turnrl.core.rollout import RolloutConfig, run_groups
from turnrl.inference.scripted import make_scripted_policy
from turnrl.plugins.gui.browser import BrowserConfig, BrowserPool, shutdown_pools
from turnrl.plugins.gui.env import GuiEnv
from turnrl.plugins.gui.expert import EXPERT_TYPES, GuiExpert
from turnrl.plugins.gui.tasks import make_tasks


def browser_start(repeats: int) -> float:
    times = []
    for _ in range(repeats):
        pool = BrowserPool(BrowserConfig())
        start = time.perf_counter()
        slot = pool.run_sync(pool.acquire, timeout=120)
        times.append(time.perf_counter() - start)
        pool.run_sync(pool.release, slot, False)
        pool.close()
    return statistics.median(times)


async def resets_and_steps(tasks: list[Any], pool: BrowserPool) -> dict[str, float]:
    timings: dict[str, list[float]] = {"reset_reuse": [], "reset_load": [], "step_both": [],
                                       "step_text": []}
    for mode in ("both", "text"):
        env = GuiEnv(pool=pool, observation=mode)
        try:
            previous = None
            for task in tasks:
                start = time.perf_counter()
                obs = await env.reset(task)
                elapsed = time.perf_counter() - start
                if mode == "both":
                    same = previous == task.data["type"]
                    timings["reset_reuse" if same else "reset_load"].append(elapsed)
                    if not same:  # and once more on the page just loaded
                        start = time.perf_counter()
                        obs = await env.reset(task)
                        timings["reset_reuse"].append(time.perf_counter() - start)
                previous = task.data["type"]
                expert = GuiExpert(task)
                for _ in range(12):
                    action = expert.act(obs)
                    start = time.perf_counter()
                    tr = await env.step(action)
                    timings[f"step_{mode}"].append(time.perf_counter() - start)
                    obs = tr.observation
                    if tr.done:
                        break
        finally:
            await env.close()
    return {k: statistics.median(v) for k, v in timings.items() if v}


def tree_cpu_seconds() -> float:
    """User + system CPU time of this process and every process below it (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, list[int]] = {}
    times: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry))
            times[int(entry)] = int(fields[11]) + int(fields[12])  # utime + stime
    total, todo = 0, [os.getpid()]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0)
        todo += parents.get(pid, [])
    return total / tick


async def episodes_per_second(tasks: list[Any], pool: BrowserPool,
                              concurrency: int) -> tuple[float, float]:
    """(episodes/s, CPU seconds of the process tree per episode)."""
    policy = make_scripted_policy("gold", host=get_host())
    cpu = tree_cpu_seconds()
    start = time.perf_counter()
    groups = await run_groups("gui", tasks, policy, config=RolloutConfig(
        max_concurrent_episodes=concurrency, env_options={"pool": pool}))
    elapsed = time.perf_counter() - start
    episodes = [e for g in groups for e in g.episodes]
    lost = [e.task.id for e in episodes if not e.won]
    if lost:
        raise SystemExit(f"expert lost {lost[:3]}: the measurement would be wrong")
    return len(episodes) / elapsed, (tree_cpu_seconds() - cpu) / len(episodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks-per-type", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    tasks = make_tasks("train", tasks=EXPERT_TYPES, seeds=args.tasks_per_type)
    by_type = sorted(tasks, key=lambda t: (t.data["type"], t.seed))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
          f"no GPU; load average {os.getloadavg()[0]:.1f}")
    print(f"tasks: {len(tasks)} ({len(EXPERT_TYPES)} expert task types x "
          f"{args.tasks_per_type} seeds)")
    print(f"browser start (server + driver + Chromium + context): "
          f"{browser_start(args.repeats):.2f} s")
    pool = BrowserPool(BrowserConfig())
    try:
        t = asyncio.run(resets_and_steps(by_type, pool))
        print(f"reset, page reused: {t['reset_reuse'] * 1000:.0f} ms   "
              f"reset, new task page: {t['reset_load'] * 1000:.0f} ms")
        print(f"step with screenshot: {t['step_both'] * 1000:.0f} ms   "
              f"step, text only: {t['step_text'] * 1000:.0f} ms")
        best: dict[int, float] = dict.fromkeys(args.concurrency, 0.0)
        cpu: dict[int, list[float]] = {c: [] for c in args.concurrency}
        asyncio.run(episodes_per_second(tasks[:8], pool, max(args.concurrency)))  # warm
        for _ in range(args.repeats):
            for c in args.concurrency:
                rate, seconds = asyncio.run(episodes_per_second(tasks, pool, c))
                best[c] = max(best[c], rate)
                cpu[c].append(seconds)
        base = best[args.concurrency[0]]
        for c in args.concurrency:
            print(f"concurrency {c:>3}: {best[c]:6.2f} episodes/s   "
                  f"x{best[c] / base:.2f} vs concurrency {args.concurrency[0]}   "
                  f"CPU {statistics.median(cpu[c]):.3f} s/episode")
    finally:
        pool.close()
        shutdown_pools()
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
