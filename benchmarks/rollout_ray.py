"""In-process vs the Ray executor: the same rollouts, side by side, in one run.

    python benchmarks/rollout_ray.py [--levels 128,512] [--steps 10] [--repeats 3]
                                     [--alfworld 32] [--cpus 2] [--address ADDR]
                                     [--per-actor 64] [--window 0.002] [--nodes N]

1. A 50 ms environment (each step awaits 50 ms: an engine on another machine, a browser) at
   each level of concurrent episodes (``level`` episodes of ``--steps`` steps, all in flight),
   played in-process and through Ray actors; steps/s of each, their ratio, and the ideal
   (``level / 0.05``). Claim: Ray >= 0.8 x in-process at 512 episodes.
2. Per-call overhead: a 0 ms environment, one episode at a time (latency of one environment
   call through Ray minus in-process), and ``max(levels)`` episodes at once (throughput,
   where batching spreads a Ray round trip over many calls).
3. ALFWorld (simulator) played by its expert (``scripted:gold``): steps/s both ways.

Each measurement is the median of ``--repeats`` runs, in-process and Ray alternating, after one
warm-up run each (the Ray pool's actors start once, as in a training run). The Ray cluster is
a private local one (``--cpus``), or with ``--nodes N`` a head and N worker nodes as separate
processes (``LocalCluster``), unless ``--address`` names one. Numbers are for the machine
named in the output; on a shared machine they move with its load (printed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any, ClassVar

from turnrl.core.rollout import RolloutConfig, run_groups
from turnrl.core.types import Observation, Task, Transition
from turnrl.inference import make_policy

STEP_S = 0.05


class SlowEnv:
    """Waits ``STEP_S`` per step, as if the environment ran on another machine."""

    # Waiting costs no CPU: hundreds of instances share one worker process.
    resources: ClassVar[dict[str, float]] = {"cpus": 0.001, "memory_mb": 1, "per_actor": 64}

    def __init__(self, steps: int, step_s: float = STEP_S) -> None:
        self.steps = steps
        self.step_s = step_s

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        self.t = 0
        return Observation("waiting", state_key="0", actions=("wait", "go"))

    async def step(self, action: str) -> Transition:
        if self.step_s:
            await asyncio.sleep(self.step_s)
        self.t += 1
        return Transition(Observation(f"t={self.t}", state_key=str(self.t),
                                      actions=("wait", "go")),
                          terminated=self.t >= self.steps, info={"won": self.t >= self.steps})

    async def close(self) -> None:
        return None


PER_ACTOR = 64
"""Instances per Ray worker process (``--per-actor``): the environment's own declaration."""


def slow_factory(steps: int, step_s: float) -> Callable[[], SlowEnv]:
    def make() -> SlowEnv:
        return SlowEnv(steps, step_s)

    make.resources = {**SlowEnv.resources, "per_actor": PER_ACTOR}  # type: ignore[attr-defined]
    return make


async def timed(env: Any, tasks: list[Task], policy: Any, cfg: RolloutConfig,
                executor: Any) -> tuple[int, float]:
    t0 = time.perf_counter()
    groups = await run_groups(env, tasks, policy, config=cfg, executor=executor)
    dt = time.perf_counter() - t0
    eps = [e for g in groups for e in g.episodes]
    bad = [e for e in eps if e.status not in ("ok", "truncated")]
    if bad:
        raise SystemExit(f"{len(bad)} episodes failed: {bad[0].status}: {bad[0].error}")
    return sum(len(e.steps) for e in eps), dt


async def side_by_side(env: Any, tasks: list[Task], policy: Any, cfg: RolloutConfig,
                       executor: Any, repeats: int) -> dict[str, float]:
    """Median steps/s in-process and through Ray (alternating; one warm-up each)."""
    rates: dict[str, list[float]] = {"inprocess": [], "ray": []}
    for i in range(repeats + 1):
        for name, ex in (("inprocess", None), ("ray", executor)):
            steps, dt = await timed(env, tasks, policy, cfg, ex)
            if i:
                rates[name].append(steps / dt)
    return {name: statistics.median(r) for name, r in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="128,512")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--alfworld", type=int, default=32, help="ALFWorld episodes (0: skip)")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster")
    parser.add_argument("--address", default=None, help="join this Ray cluster instead")
    parser.add_argument("--nodes", type=int, default=0,
                        help="start a LocalCluster: a head and N worker nodes of --cpus each "
                             "(separate processes on loopback) instead of one local node")
    parser.add_argument("--window", type=float, default=0.002, help="batch_window_s")
    parser.add_argument("--per-actor", type=int, default=64,
                        help="instances of the 50 ms / 0 ms environment per Ray worker process")
    args = parser.parse_args()
    global PER_ACTOR  # a benchmark knob, read by slow_factory
    PER_ACTOR = args.per_actor
    levels = [int(x) for x in args.levels.split(",")]

    from turnrl.executors.ray import RayExecutor

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, no GPU, Python "
          f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f} at start")
    t0 = time.perf_counter()
    cluster = None
    if args.nodes:
        from turnrl.executors.ray.cluster import LocalCluster

        cluster = LocalCluster(head_cpus=0, workers=[{"num_cpus": args.cpus}] * args.nodes)
        cluster.start()
    try:
        address = cluster.address if cluster else args.address or "local"
        executor = RayExecutor(address=address,
                               num_cpus=args.cpus if address == "local" else None,
                               batch_window_s=args.window, log_to_driver=False)
        if cluster:
            import ray

            cluster.wait_for_nodes(ray, args.nodes + 1)
        print(f"Ray cluster up in {time.perf_counter() - t0:.1f} s "
              f"({executor.connection.mode}, {len(executor.connection.nodes())} node(s))")
        policy = make_policy("scripted:random")
        try:
            asyncio.run(run_all(args, levels, executor, policy))
        finally:
            executor.close()
    finally:
        if cluster:
            cluster.stop()
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


async def run_all(args: argparse.Namespace, levels: list[int], executor: Any,
                  policy: Any) -> None:
    print(f"\n1. {STEP_S * 1000:.0f} ms environment, {args.steps} steps per episode, median of "
          f"{args.repeats}")
    print(f"{'episodes':>9} {'in-process':>11} {'ray':>9} {'ray/in':>7} {'ideal':>8}")
    for level in levels:
        tasks = [Task(env="slow", id=f"slow-{i}") for i in range(level)]
        cfg = RolloutConfig(max_concurrent_episodes=level, max_concurrent_requests=level)
        factory = slow_factory(args.steps, STEP_S)
        r = await side_by_side(factory, tasks, policy, cfg, executor, args.repeats)
        report_pool(executor, factory)
        print(f"{level:>9} {r['inprocess']:>11,.1f} {r['ray']:>9,.1f} "
              f"{r['ray'] / r['inprocess']:>7.3f} {level / STEP_S:>8,.0f}", flush=True)

    print("\n2. per-call overhead (0 ms environment)")
    one = [Task(env="fast", id="fast-0")]
    cfg1 = RolloutConfig(max_concurrent_episodes=1, max_concurrent_requests=1)
    factory = slow_factory(200, 0.0)
    r = await side_by_side(factory, one, policy, cfg1, executor, args.repeats)
    report_pool(executor, factory)
    per_in, per_ray = 1e6 / r["inprocess"], 1e6 / r["ray"]
    print(f"  one episode at a time: in-process {per_in:,.0f} us/step, ray {per_ray:,.0f} "
          f"us/step -> one Ray round trip adds {per_ray - per_in:,.0f} us per environment call")
    level = max(levels)
    many = [Task(env="fast", id=f"fast-{i}") for i in range(level)]
    cfgn = RolloutConfig(max_concurrent_episodes=level, max_concurrent_requests=level)
    factory = slow_factory(args.steps, 0.0)
    r = await side_by_side(factory, many, policy, cfgn, executor, args.repeats)
    report_pool(executor, factory)
    print(f"  {level} episodes at once: in-process {r['inprocess']:,.0f} steps/s, ray "
          f"{r['ray']:,.0f} steps/s -> {1e6 / r['ray'] - 1e6 / r['inprocess']:,.1f} us "
          f"per call amortised over a batch")

    if args.alfworld:
        from turnrl.core.host import get_host

        host = get_host()
        tasks = host.tasks("alfworld", "valid_seen")[: args.alfworld]
        gold = make_policy("scripted:gold", env="alfworld")
        cfg = RolloutConfig(max_concurrent_episodes=len(tasks),
                            max_concurrent_requests=len(tasks))
        r = await side_by_side("alfworld", tasks, gold, cfg, executor, args.repeats)
        print(f"\n3. ALFWorld (sim), expert policy, {len(tasks)} episodes: in-process "
              f"{r['inprocess']:,.1f} steps/s, ray {r['ray']:,.1f} steps/s, ray/in "
              f"{r['ray'] / r['inprocess']:.3f}")
        report_pool(executor, "alfworld")
    sys.stdout.flush()


def report_pool(executor: Any, env: Any) -> None:
    """Note where the pool ran and how well calls were batched, then free its actors."""
    pool = executor.pool(env, host=None) if not isinstance(env, str) else \
        executor.pools.get((env, "{}"))
    if pool is not None:
        sent = sum(link.exchanges for link in pool.links)
        print(f"      [{executor.summary(env)}; {sent:,} exchanges]", flush=True)
    executor.release(env)


if __name__ == "__main__":
    main()
