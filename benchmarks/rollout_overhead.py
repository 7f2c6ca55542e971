"""Host overhead of the rollout engine: engine vs. a bare loop, same env, same policy, same tasks.

    python benchmarks/rollout_overhead.py [--env toy-env|alfworld ...] [--tasks N]
        [--group-size K] [--env-option backend=textworld]

Both sides play the environment's train panel with its expert (the gold policy), so they take
the same actions and the same number of steps. The bare loop calls ``reset`` / ``expert.act``
/ ``step`` / ``close`` directly, one episode after another. The engine does everything it does
in training: groups, concurrency bounds, a deadline on every call, the prompt template's
format/parse round trip of the action, Step records, per-episode metrics, the episode-end
hook. Prints steps/s of both and the ratio (engine / bare).

Three reference rows (the claim's baseline stays the plain bare loop): the bare loop keeping a
``Step`` per step and an ``Episode`` per episode, as any trainer must, separates the cost of
holding the data (allocation, garbage collection over a growing heap) from the engine's own
work; the bare loop acting through the scripted policy's ``Policy.generate`` and the
template's parser (what serving any model backend takes) instead of calling the expert gives
the cost of the policy interface; and the *floor* does both plus the per-request sampling seed
-- the least any engine meeting the issue's other requirements can do. floor/bare is the
ceiling of the claimed ratio; engine/floor is what the engine's own work costs. Best of
``--repeats`` interleaved runs each.

It also prints the engine's own cost per step, measured with a null environment and a null
policy (both answer instantly), which is what the ratio depends on: ratio ~= t_env /
(t_env + t_engine). toy-env is the worst case (a step plus the expert's BFS costs tens of
microseconds), as is ALFWorld's pure-Python simulator (default backend); the real TextWorld
engine (``--env-option backend=textworld``) costs milliseconds per step.

Each loop's time in the garbage collector is reported too (``gc.callbacks``, read only, no
effect on the loops): keeping records makes the collector run more often over a growing heap,
a cost the bare loop never pays. ``--env`` may be repeated; a summary row per environment and a
PASS/FAIL verdict on the claim (engine/bare >= 0.9, flagged when even the floor misses it)
close the output.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import platform
import time
from typing import Any

import turnrl
from turnrl.core.context import resolve_template
from turnrl.core.policy import Completion, GenerationRequest, SamplingParams
from turnrl.core.rollout import RolloutConfig, run_groups
from turnrl.core.rollout_gc import frozen_heap
from turnrl.core.rollout_sampling import seed_from, seed_prefix, seeded_sampling
from turnrl.core.types import Episode, Observation, Step, Task, Transition
from turnrl.inference import make_policy

ENV_OPTIONS: dict[str, Any] = {}


async def bare(env_name: str, tasks: list[Task], group_size: int) -> int:
    host = turnrl.get_host()
    spec = host.env(env_name)
    steps = 0
    for task in tasks:
        for _ in range(group_size):
            expert = spec.expert(task)
            env = host.make(env_name, **ENV_OPTIONS)
            obs = await env.reset(task, seed=task.seed)
            while True:
                tr = await env.step(expert.act(obs))
                steps += 1
                obs = tr.observation
                if tr.done:
                    break
            await env.close()
    return steps


async def bare_recording(env_name: str, tasks: list[Task], group_size: int) -> int:
    """The bare loop, but keeping what any trainer must keep: a ``Step`` per step, an
    ``Episode`` per episode (heap frozen as the engine does). Separates the cost of holding
    the data (allocation, GC) from the engine's own work."""
    host = turnrl.get_host()
    spec = host.env(env_name)
    episodes = []
    with frozen_heap():
        for task in tasks:
            for k in range(group_size):
                expert = spec.expert(task)
                env = host.make(env_name, **ENV_OPTIONS)
                obs = await env.reset(task, seed=task.seed)
                steps = []
                while True:
                    action = expert.act(obs)
                    tr = await env.step(action)
                    steps.append(Step(obs, action, tr.reward, tr.done, True, obs.state_key,
                                      [], [], [], 1, dict(tr.info)))
                    obs = tr.observation
                    if tr.done:
                        break
                await env.close()
                episodes.append(Episode(f"{task.id}/{k}", task.id, task, steps=steps))
    return sum(len(e.steps) for e in episodes)


async def bare_policy(env_name: str, tasks: list[Task], group_size: int) -> int:
    """The bare loop, but acting through the scripted policy's ``Policy.generate`` (a request
    per step, the reply parsed by the template, parses cached as the engine caches them)
    instead of calling the expert: the cost of the policy interface alone, which any engine
    serving model backends pays."""
    host = turnrl.get_host()
    parse = functools.lru_cache(maxsize=1024)(resolve_template("auto", host.env(env_name)).parse)
    policy = make_policy("scripted:gold")
    sampling = SamplingParams()
    steps = 0
    for task in tasks:
        for k in range(group_size):
            env = host.make(env_name, **ENV_OPTIONS)
            obs = await env.reset(task, seed=task.seed)
            episode_id = f"{task.id}/{k}"
            while True:
                (reply,) = await policy.generate([GenerationRequest(
                    [], sampling, None, obs, task, episode_id)])
                tr = await env.step(parse(reply.text).action)
                steps += 1
                obs = tr.observation
                if tr.done:
                    break
            policy.end_episode(episode_id)
            await env.close()
    return steps


async def floor(env_name: str, tasks: list[Task], group_size: int) -> int:
    """The least any engine can do and still meet the issue's other requirements, one episode
    after another with no scheduling, timeouts, bounds, hooks or store: act through the Policy
    interface with a per-request sampling seed (deterministic sampling), parse the reply,
    keep a ``Step`` per step (with the reply and the env's info) and an ``Episode`` per
    episode, heap frozen as the engine does. Its rate over the bare loop's is the ceiling of
    the ratio the claim asks for."""
    host = turnrl.get_host()
    parse = functools.lru_cache(maxsize=1024)(resolve_template("auto", host.env(env_name)).parse)
    policy = make_policy("scripted:gold")
    sampling = seeded_sampling(SamplingParams())
    episodes = []
    with frozen_heap():
        for task in tasks:
            for k in range(group_size):
                env = host.make(env_name, **ENV_OPTIONS)
                obs = await env.reset(task, seed=task.seed)
                episode_id = f"{task.id}/{k}"
                prefix = seed_prefix(0, task, 0, k, "agent")
                steps: list[Step] = []
                while True:
                    (reply,) = await policy.generate([GenerationRequest(
                        [], sampling(seed_from(prefix, len(steps))), None, obs, task,
                        episode_id)])
                    text = reply.text
                    parsed = parse(text)
                    tr = await env.step(parsed.action)
                    steps.append(Step(obs, parsed.action, tr.reward, tr.done, parsed.valid,
                                      obs.state_key, reply.prompt_ids, reply.token_ids,
                                      reply.logprobs, 1,
                                      {**tr.info, "format_valid": parsed.valid,
                                       "response": text}))
                    obs = tr.observation
                    if tr.done:
                        break
                policy.end_episode(episode_id)
                await env.close()
                episodes.append(Episode(episode_id, task.id, task, steps=steps))
    return sum(len(e.steps) for e in episodes)


async def engine(env_name: str, tasks: list[Task], group_size: int) -> int:
    groups = await run_groups(env_name, tasks, make_policy("scripted:gold"),
                              group_size=group_size,
                              config=RolloutConfig(env_options=dict(ENV_OPTIONS)))
    eps = [e for g in groups for e in g.episodes]
    bad = [(e.id, e.status, e.error) for e in eps if not (e.status == "ok" and e.won)]
    assert not bad, f"gold policy must win every episode: {bad[:3]}"
    return sum(len(e.steps) for e in eps)


_OBS = Observation("x", state_key="s", actions=("a",))
_MID = Transition(_OBS, 0.0, info={"won": False})
_END = Transition(_OBS, 1.0, terminated=True, info={"won": True})
_REPLY = [Completion("<think> x </think> <action> a </action>")]


class NullEnv:
    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        self.t = 0
        return _OBS

    async def step(self, action: str) -> Transition:
        self.t += 1
        return _END if self.t >= 50 else _MID

    async def close(self) -> None:
        return None


class NullPolicy:
    wants_prompt = False

    async def generate(self, requests: Any) -> list[Completion]:
        return _REPLY

    async def close(self) -> None:
        return None


async def null_engine(n_tasks: int) -> int:
    tasks = [Task(env="null", id=f"n{i}") for i in range(n_tasks)]
    groups = await run_groups(NullEnv, tasks, NullPolicy(), group_size=8)
    return sum(len(e.steps) for g in groups for e in g.episodes)


class _GcClock:
    """Seconds spent in the garbage collector (``gc.callbacks``; observes, changes nothing)."""

    def __init__(self) -> None:
        self.total = 0.0
        self._t0 = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._t0


GC = _GcClock()
CLAIM = 0.9
LOOPS = (("bare", bare), ("recording", bare_recording), ("policy", bare_policy),
         ("floor", floor), ("engine", engine))
LABELS = {"bare": "bare loop", "recording": "bare loop keeping Steps",
          "policy": "bare loop via Policy", "floor": "floor (any engine)", "engine": "engine"}


def timed(fn: Any, *args: Any) -> tuple[int, float, float]:
    """(steps, seconds, seconds of them in the garbage collector)."""
    gc0 = GC.total
    t0 = time.perf_counter()
    steps = asyncio.run(fn(*args))
    return steps, time.perf_counter() - t0, GC.total - gc0


def measure(env: str, n_tasks: int, group_size: int, repeats: int) -> dict[str, Any]:
    options = {"size": 8} if env == "toy-env" else {}
    tasks = turnrl.tasks(env, "train", **options)[:n_tasks]
    timed(engine, env, tasks[:4], 2)  # warm up imports and caches
    best: dict[str, tuple[float, float]] = {}  # name -> (steps/s, gc us/step) of the best run
    counts = {}
    for _ in range(repeats):
        for name, fn in LOOPS:
            steps, dt, in_gc = timed(fn, env, tasks, group_size)
            counts[name] = steps
            if steps / dt > best.get(name, (0.0, 0.0))[0]:
                best[name] = (steps / dt, 1e6 * in_gc / steps)
    assert len(set(counts.values())) == 1, counts
    null = max(s / dt for s, dt, _ in (timed(null_engine, 64) for _ in range(repeats)))
    return {"env": env, "tasks": len(tasks), "steps": counts["bare"], "best": best,
            "null_us": 1e6 / null}


def report(r: dict[str, Any], group_size: int, repeats: int) -> None:
    best = r["best"]
    print(f"{r['env']} {ENV_OPTIONS or ''}: {r['tasks']} tasks x {group_size} episodes, "
          f"{r['steps']} steps per run, gold policy, best of {repeats}")
    for name, label in LABELS.items():
        rate, gc_us = best[name]
        print(f"{label:<24}: {rate:>10,.0f} steps/s  ({1e6 / rate:.1f} us/step, "
              f"{gc_us:.1f} of them in gc)")
    print(f"engine alone (null env + null policy): {r['null_us']:.1f} us/step")
    rate = {name: best[name][0] for name in LABELS}
    print(f"ratio engine/bare: {rate['engine'] / rate['bare']:.3f} (claim: >= {CLAIM})")
    print(f"ceiling of that ratio for any engine (floor/bare): "
          f"{rate['floor'] / rate['bare']:.3f}  [keeping Steps alone: "
          f"{rate['recording'] / rate['bare']:.3f}, acting via Policy alone: "
          f"{rate['policy'] / rate['bare']:.3f}]")
    print(f"engine's own overhead (engine/floor): {rate['engine'] / rate['floor']:.3f}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--env", action="append", default=None,
                   help="environment (repeatable); default toy-env")
    p.add_argument("--tasks", type=int, default=128)
    p.add_argument("--group-size", type=int, default=8)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--env-option", action="append", default=[], metavar="KEY=VALUE",
                   help="environment factory option, e.g. backend=textworld")
    args = p.parse_args()
    for opt in args.env_option:
        key, _, value = opt.partition("=")
        ENV_OPTIONS[key] = value
    print(f"machine: {platform.machine()}, 2-core CPU shared with other jobs, no GPU; "
          f"python {platform.python_version()}")
    rows = []
    for env in args.env or ["toy-env"]:
        r = measure(env, args.tasks, args.group_size, args.repeats)
        report(r, args.group_size, args.repeats)
        rows.append(r)
    print(f"\n{'env':<10} {'bare/s':>9} {'floor/s':>9} {'engine/s':>9} {'e/bare':>6} "
          f"{'f/bare':>6} {'e/floor':>7}  verdict (claim engine/bare >= {CLAIM})")
    for r in rows:
        b, f, e = (r["best"][n][0] for n in ("bare", "floor", "engine"))
        verdict = "PASS" if e / b >= CLAIM else \
            "FAIL" + (" (no engine can pass: floor/bare < claim)" if f / b < CLAIM else "")
        print(f"{r['env']:<10} {b:>9,.0f} {f:>9,.0f} {e:>9,.0f} {e / b:>6.3f} {f / b:>6.3f} "
              f"{e / f:>7.3f}  {verdict}")


if __name__ == "__main__":
    main()
