"""Blocking engines off the event loop: 32 concurrent episodes on ALFWorld's real TextWorld
engine, with the engine's calls inline on the loop (as before) and on worker threads
(``OffLoopEnv``, what ``blocking = True`` gives), side by side in one run.

    python benchmarks/rollout_blocking.py [--episodes 32] [--max-steps 5]

Reports wall time, environment steps/s, the ratio threads/inline, and how long the event loop
was unresponsive: a heartbeat task sleeps 10 ms in a loop and records its worst lateness (with
the engine inline, one reset holds the loop for ~1 s, so no timeout, model batch or progress
update can run in it). Policy: the gold planner (scripted, no model), ``valid_seen`` tiny tier.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time

from turnrl.core.host import get_host
from turnrl.core.rollout import RolloutConfig, run_groups
from turnrl.inference import make_policy
from turnrl.plugins.alfworld.textworld_backend import AlfworldTextWorld


async def heartbeat(lateness: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        t = time.perf_counter()
        await asyncio.sleep(0.01)
        lateness.append(time.perf_counter() - t - 0.01)


async def play(episodes: int, max_steps: int, *, threads: bool) -> dict[str, float]:
    AlfworldTextWorld.blocking = threads  # the declaration under test
    host = get_host()
    tasks = host.tasks("alfworld", "valid_seen", tier="tiny")[:episodes]
    cfg = RolloutConfig(max_concurrent_episodes=episodes, max_concurrent_requests=episodes,
                        max_steps=max_steps, env_timeout_s=600,
                        env_options={"backend": "textworld"})
    lateness: list[float] = []
    stop = asyncio.Event()
    beat = asyncio.create_task(heartbeat(lateness, stop))
    t0 = time.perf_counter()
    groups = await run_groups("alfworld", tasks, make_policy("scripted:gold"), config=cfg,
                              host=host)
    wall = time.perf_counter() - t0
    stop.set()
    await beat
    eps = [e for g in groups for e in g.episodes]
    assert all(e.status in ("ok", "truncated") for e in eps), {e.status for e in eps}
    steps = sum(len(e.steps) for e in eps)
    return {"wall_s": wall, "steps": steps, "steps_per_s": steps / wall,
            "max_loop_stall_ms": 1000 * max(lateness, default=0.0)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--episodes", type=int, default=32)
    p.add_argument("--max-steps", type=int, default=5)
    args = p.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; {args.episodes} concurrent TextWorld episodes, "
          f"<= {args.max_steps} steps each, gold policy")
    # warm the engine's one-time imports and caches so neither mode pays them
    asyncio.run(play(1, 1, threads=False))
    results = {}
    for mode, threads in (("inline", False), ("threads", True)):
        results[mode] = r = asyncio.run(play(args.episodes, args.max_steps, threads=threads))
        print(f"{mode:>8}: {r['wall_s']:6.1f} s wall, {r['steps']} steps, "
              f"{r['steps_per_s']:5.2f} steps/s, event loop stalled up to "
              f"{r['max_loop_stall_ms']:7.1f} ms")
    a, b = results["inline"], results["threads"]
    print(f"threads/inline: throughput x{b['steps_per_s'] / a['steps_per_s']:.2f}, "
          f"worst loop stall x{b['max_loop_stall_ms'] / max(a['max_loop_stall_ms'], 1e-9):.3f}")


if __name__ == "__main__":
    main()
