"""The async rollout engine: plays ``len(tasks) x group_size`` episodes against a policy.

    groups = await run_groups("toy-env", tasks, policy, group_size=8, config=RolloutConfig())

Guarantees the trainer and ``turnrl eval`` build on:

* Grouping: the K episodes of a group start from the identical state (same task, same env
  seed, a fresh environment instance each); episodes differ only through sampling.
* Determinism: every model request carries a sampling seed derived from (run seed, task id,
  task seed, repeat, episode index, seat, step) by a hash, never from completion order, so
  results do not depend on concurrency or timing.
* Bounded concurrency: at most ``max_concurrent_episodes`` episodes (that many workers) and
  ``max_concurrent_requests`` model calls in flight (``RequestBound``). Each episode sends
  one request per step; the backend batches concurrent requests (hf) or streams them (openai).
* Fault isolation: every environment call and model call runs under a timeout. An episode that
  fails is kept with ``status`` (``env_error``, ``policy_error``, ``timeout``) and the error text
  plus the steps it got through; nothing it raises reaches the other episodes. Whether a group
  with a failed episode is used is the caller's decision (``split_failed``).
* Nothing lost: each episode goes to the ``EpisodeStore`` (batched and fsynced on the store's
  writer thread, never on the event loop; every episode is acknowledged -- durable -- before
  ``run_groups`` returns) and to the ``turnrl_episode_end`` hook as it finishes; a rerun with
  the same store skips the episodes stored as finished and
  plays the failed ones (``timeout``, ``env_error``, ``policy_error``) again: after an outage
  they must not count as done. The store keeps the old record; the newest record of an id wins.
* Multi-agent environments (``EnvSpec.multi_agent`` or an env with ``seats``) give one
  trajectory per seat; seat rewards come from ``info["rewards"]`` and are credited to each
  seat's latest step (a seat that has not acted yet holds them for its first step, or, if it
  never acts, in its record's ``metrics["total_reward"]``); at the end ``info["winners"]``
  (when given) sets every seat's ``won`` (``metrics["won"]`` for a seat without steps).
  ``RolloutConfig.seats`` (a ``turnrl.core.seating.Seating``) gives some seats to other
  policies (bots, a frozen copy): only the learner's seats become episodes, and groups are
  split by a seat tag (the role) so that a group never mixes roles.

Host cost: with a fast environment and a scripted policy the engine's own work per step is on
the order of the environment's, so the step loop is kept lean (see ``benchmarks/
rollout_overhead.py``, which also measures the floor any engine pays): guarded calls are a
task -> deadline entry around a plain ``await``, inlined in the step loop, with one watchdog
for all of them (``rollout_calls``); no prompt or instruction is rendered for a policy with
``wants_prompt = False``; a fixed pool of ``max_concurrent_episodes`` workers plays the
episodes (no task and semaphore per episode); seeds hash a per-seat prefix once; identical
replies are parsed once; ``Step`` records are built positionally; and the heap that predates
the rollout is frozen for the garbage collector (``rollout_gc``).

Longer than this project's ~450-line guide on purpose: ``_Run`` is the engine's one scheduler
(workers, per-call guards, seats, the store and the executor share its state), and splitting it
would pass that state around; what stands alone already lives in ``rollout_calls``,
``rollout_gc``, ``rollout_progress`` and ``rollout_sampling``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from turnrl.core.context import (
    DEFAULT_TEMPLATE,
    ContextBuilder,
    Turn,
    instruction_for,
    resolve_template,
)
from turnrl.core.offload import off_loop
from turnrl.core.policy import Completion, GenerationRequest, Policy, SamplingParams
from turnrl.core.rollout_calls import CallFailure, Deadlines, RequestBound
from turnrl.core.rollout_gc import frozen_heap
from turnrl.core.rollout_progress import FAILED_STATUSES
from turnrl.core.rollout_progress import Progress as _Progress
from turnrl.core.rollout_sampling import (  # sampling_seed: part of this module's API
    sampling_seed as sampling_seed,
)
from turnrl.core.rollout_sampling import seed_from, seed_prefix, seeded_sampling
from turnrl.core.seating import (
    Seating,
    SeatingError,
    SeatPlan,
    credit_winners,
    seat_policies,
    seat_tags_of,
    split_by_tag,
)
from turnrl.core.store import EpisodeStore
from turnrl.core.types import (
    ContractError,
    Episode,
    EpisodeGroup,
    Observation,
    Step,
    Task,
    Transition,
)

log = logging.getLogger(__name__)
_now = time.monotonic


@dataclass(slots=True)
class RolloutConfig:
    """Knobs of one rollout; ``core/config.py`` maps the run config's rollout section here."""

    max_concurrent_episodes: int = 128
    max_concurrent_requests: int = 64
    env_timeout_s: float = 60.0
    """Limit on each ``reset`` / ``step`` / ``close`` call."""
    model_timeout_s: float = 300.0
    """Limit on each ``Policy.generate`` call (queueing in the backend included)."""
    max_steps: int | None = None
    """Engine-side cap on turns per episode (status ``truncated``); None = the env decides."""
    history_length: int = 2
    template: str = DEFAULT_TEMPLATE
    """Prompt template name; ``auto`` = the environment's own prompt if it has one."""
    sampling: SamplingParams = field(default_factory=SamplingParams)
    seed: int = 0
    """Run seed: enters every sampling seed (eval seeds, training iterations)."""
    env_options: dict[str, Any] = field(default_factory=dict)
    progress: bool = False
    seats: Seating | None = None
    """Multi-agent seat assignment (learner seats, opponents' line-ups, grouping by role)."""

    def __post_init__(self) -> None:
        for name in ("max_concurrent_episodes", "max_concurrent_requests"):
            if getattr(self, name) < 1:
                raise ValueError(f"RolloutConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("env_timeout_s", "model_timeout_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"RolloutConfig.{name} must be > 0, got {getattr(self, name)}")



# The step loop builds ``Step`` and ``GenerationRequest`` positionally (half the cost of keyword
# calls); this check turns a reordering of their fields into an import error, not wrong records.
_POSITIONAL = {
    Step: ("observation", "action", "reward", "done", "valid", "state_key", "prompt_ids",
           "response_ids", "response_logprobs", "loss_mask", "info"),
    GenerationRequest: ("messages", "sampling", "prompt_ids", "observation", "task",
                        "episode_id"),
}
for _cls, _names in _POSITIONAL.items():
    if tuple(f.name for f in fields(_cls)) != _names:
        raise ImportError(f"turnrl.core.rollout builds {_cls.__name__} positionally from fields "
                          f"{_names}; the class now has {[f.name for f in fields(_cls)]}")


def _broken_contract(what: str, got: Any, expected: type, status: str) -> CallFailure:
    """A call returned the wrong type: the episode fails with ``status``, the run goes on
    (an ``AttributeError`` further down would have escaped the episode and ended the run)."""
    return CallFailure(status, f"{what} returned {type(got).__name__}, not {expected.__name__} "
                               f"(the episode contract; `turnrl check` tests an environment)")


def _seat_rewards(rewards: Any) -> dict[str, float]:
    """``info["rewards"]`` checked like ``Transition.reward``: a mapping of seat name -> finite
    number, or the episode fails with ``env_error`` (a NaN credited to another seat's earlier
    step would otherwise slip past every check and poison the batch)."""
    if not isinstance(rewards, dict):
        raise CallFailure("env_error", f"env.step returned info['rewards'] of type "
                                       f"{type(rewards).__name__}, not a dict of seat -> reward")
    out = {}
    for seat, r in rewards.items():
        try:
            value = float(r)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value) or isinstance(r, bool) or not isinstance(seat, str):
            raise CallFailure("env_error", f"env.step returned info['rewards'][{seat!r}] = "
                                           f"{r!r}; seat rewards must be finite numbers")
        out[seat] = value
    return out


class _Seat:
    """One seat's trajectory so far, plus what its steps reuse (seed prefix, episode id) and
    who plays it (the learner's policy unless a ``Seating`` gave the seat to another)."""

    __slots__ = ("end_episode", "episode_id", "generate", "history", "instruction", "learner",
                 "lineup", "seed_prefix", "steps", "tags", "unpaid", "wants_prompt", "won")

    def __init__(self, seed_prefix: Any, episode_id: str, run: _Run) -> None:
        self.steps: list[Step] = []
        self.history: list[Turn] = []
        self.instruction: str | None = None
        self.seed_prefix = seed_prefix
        self.episode_id = episode_id
        self.generate = run.generate
        self.wants_prompt = run.wants_prompt
        self.end_episode = run.end_episode
        self.learner = True
        self.tags: dict[str, str] | None = None
        self.lineup = ""
        self.unpaid = 0.0
        """Rewards paid to this seat before it had a step to hold them (a player killed before
        its first turn is still paid its team's outcome): its first step takes them, else
        the episode record does (``metrics["total_reward"]``)."""
        self.won = False
        """The game's verdict for a seat that never acted (``info["winners"]``)."""

    def assign(self, name: str, plan: SeatPlan) -> None:
        """Give this seat to its policy in ``plan`` (the learner keeps its own)."""
        self.tags, self.lineup = plan.tags.get(name, {}), plan.lineup
        if name not in plan.learner:
            policy = plan.policies[name]
            self.learner = False
            self.generate = policy.generate
            self.wants_prompt = bool(getattr(policy, "wants_prompt", True))
            self.end_episode = getattr(policy, "end_episode", None)


@dataclass(slots=True)
class _Job:
    task: Task
    group_id: str
    repeat: int
    k: int
    slot: int


class _Run:
    """State shared by the episodes of one ``run_groups`` call."""

    def __init__(self, factory: Callable[[], Any], policy: Policy, config: RolloutConfig,
                 multi_agent: bool | None, store: EpisodeStore | None, host: Any,
                 progress: _Progress | None, env_spec: Any = None) -> None:
        self.factory = factory
        self.policy = policy
        self.cfg = config
        self.multi_agent = multi_agent
        self.store = store
        self.host = host
        self.progress = progress
        self.builder = ContextBuilder(resolve_template(config.template, env_spec),
                                      config.history_length,
                                      images=bool(getattr(policy, "accepts_images", False)))
        # Scripted policies send the same few replies over and over: parse each once. A
        # bounded cache; a model's replies are all distinct and just pass through it.
        self.parse = functools.lru_cache(maxsize=1024)(self.builder.parse)
        stop = tuple(dict.fromkeys(self.builder.template.stop + config.sampling.stop))
        self.sampling = seeded_sampling(replace(config.sampling, stop=stop))
        self.generate = policy.generate
        self.wants_prompt = bool(getattr(policy, "wants_prompt", True))
        self.end_episode = getattr(policy, "end_episode", None)
        self.seating = config.seats
        self.deadlines = Deadlines(
            min(1.0, max(0.002, min(config.env_timeout_s, config.model_timeout_s) / 10)))
        self.requests = RequestBound(config.max_concurrent_requests)

    async def worker(self, jobs: Any, results: list[list[Episode]]) -> None:
        """Play episodes from the shared iterator until it runs dry; the number of workers is
        the bound on concurrent episodes."""
        me = asyncio.current_task()  # looked up once: guarded calls key their deadline by it
        assert me is not None
        for job in jobs:
            results[job.slot] = await self.episode(job.task, job.group_id, job.repeat, job.k, me)

    async def episode(self, task: Task, group_id: str, repeat: int, k: int,
                      me: asyncio.Task[Any]) -> list[Episode]:
        base = f"{group_id}/{k}"
        seats: dict[str, _Seat] = {}
        status, error, seat_names = "ok", "", None
        env = None
        try:
            try:
                env = self.factory()
                if inspect.isawaitable(env):  # an executor's factory: waits for a free slot
                    env = await env
            except Exception as exc:
                raise CallFailure("env_error", f"creating the environment raised "
                                  f"{type(exc).__name__}: {exc}") from exc
            seat_names = list(getattr(env, "seats", None) or [])
            for s in seat_names:
                seats[s] = self._seat(task, repeat, k, base, s)
            status = await self._play(env, task, repeat, k, base, seats, me)
        except CallFailure as f:
            status, error = f.status, str(f)
        except Exception as exc:  # one episode's bug must not end the run
            # Not from a guarded call: a record that broke its invariants (``ContractError``
            # from ``Step``: the backend's token ids and log-probs disagree) or a bug in a
            # template or parser. The episode fails alone, with the text; the run goes on.
            status = "policy_error" if isinstance(exc, ContractError) else "env_error"
            error = f"playing the episode raised {type(exc).__name__}: {exc}"
            log.warning("episode %s: %s", base, error)
        finally:
            if env is not None:
                error += await self._close(env, me)
        return self._finish(task, group_id, base, seats, status, error, seat_names)

    def _seat(self, task: Task, repeat: int, k: int, base: str, name: str) -> _Seat:
        return _Seat(seed_prefix(self.cfg.seed, task, repeat, k, name), f"{base}/{name}", self)

    def _plan(self, task: Task, env: Any, seats: dict[str, _Seat]) -> SeatPlan | None:
        """Assign the game's seats (after reset: tags such as roles are dealt by then)."""
        if self.seating is None:
            return None
        try:
            names = list(getattr(env, "seats", None) or seats)
            plan = self.seating.plan(task, names, seat_tags_of(env))
        except SeatingError as exc:
            raise CallFailure("policy_error", str(exc)) from exc
        for name, seat in seats.items():
            seat.assign(name, plan)
        return plan

    async def _play(self, env: Any, task: Task, repeat: int, k: int, base: str,
                    seats: dict[str, _Seat], me: asyncio.Task[Any]) -> str:
        cfg = self.cfg
        deadlines = self.deadlines
        active, now, fail = deadlines.active, _now, deadlines.fail
        env_timeout, model_timeout, max_steps = cfg.env_timeout_s, cfg.model_timeout_s, \
            cfg.max_steps
        parse, requests = self.parse, self.requests
        sampling, progress = self.sampling, self.progress
        obs: Observation = await deadlines.call(env.reset(task, seed=task.seed), env_timeout,
                                                what="env.reset", on_error="env_error", task=me)
        if not isinstance(obs, Observation):
            raise _broken_contract("env.reset", obs, Observation, "env_error")
        plan = self._plan(task, env, seats)
        turn = 0
        while True:
            name = obs.agent or "agent"
            seat = seats.get(name)
            if seat is None:
                seat = seats[name] = self._seat(task, repeat, k, base, name)
                if plan is not None:
                    seat.assign(name, plan)
            wants_prompt = seat.wants_prompt
            if seat.instruction is None and wants_prompt:  # the instruction only feeds prompts
                seat.instruction = instruction_for(task.data, obs.text)
            steps = seat.steps
            request = GenerationRequest(
                self.builder.messages(seat.instruction, seat.history, obs) if wants_prompt
                else [], sampling(seed_from(seat.seed_prefix, len(steps))), None, obs, task,
                seat.episode_id)
            if requests.free:
                requests.free -= 1
            else:
                await requests.wait()
            # Guarded calls, inlined (``Deadlines.call`` without its coroutine): see rollout_calls.
            active[me] = now() + model_timeout
            try:
                completion = (await seat.generate([request]))[0]
            except BaseException as exc:
                fail(me, exc, "policy.generate", model_timeout, "policy_error")
            finally:
                active.pop(me, None)
                requests.release()
            if type(completion) is not Completion and not isinstance(completion, Completion):
                raise _broken_contract("policy.generate", completion, Completion, "policy_error")
            text = completion.text
            parsed = parse(text)
            action, valid = parsed.action, parsed.valid
            active[me] = now() + env_timeout
            try:
                tr = await env.step(action)
            except BaseException as exc:
                fail(me, exc, "env.step", env_timeout, "env_error")
            finally:
                active.pop(me, None)
            if type(tr) is not Transition and not isinstance(tr, Transition):
                raise _broken_contract("env.step", tr, Transition, "env_error")
            info = tr.info
            rewards = info.get("rewards")
            if rewards is not None:
                rewards = _seat_rewards(rewards)
            if rewards is not None:
                for other, r in rewards.items():
                    if other != name and (payee := seats.get(other)) is not None:
                        if payee.steps:
                            payee.steps[-1].reward += r
                        else:  # not acted yet (or never will): kept, never dropped
                            payee.unpaid += r
                reward = rewards.get(name, 0.0)
            else:
                reward = tr.reward
            if seat.unpaid:
                reward, seat.unpaid = reward + seat.unpaid, 0.0
            terminated, truncated = tr.terminated, tr.truncated
            steps.append(Step(  # positional: see _POSITIONAL
                obs, action, reward, terminated or truncated,
                valid and bool(info.get("valid_action", True)), obs.state_key,
                completion.prompt_ids, completion.token_ids, completion.logprobs, 1,
                {**info, "format_valid": valid, "response": text}))
            if wants_prompt:  # the memory window only feeds prompts
                seat.history.append(Turn(obs.text, action))
            obs = tr.observation
            turn += 1
            if progress is not None:
                progress.steps += 1
            if terminated:
                credit_winners({n: s.steps for n, s in seats.items()}, info)
                winners = info.get("winners")
                if isinstance(winners, list | tuple):
                    for other, payee in seats.items():
                        payee.won = other in winners  # read for seats without a step
                return "ok"
            if truncated or (max_steps is not None and turn >= max_steps):
                return "truncated"

    async def _close(self, env: Any, me: asyncio.Task[Any]) -> str:
        try:
            await self.deadlines.call(env.close(), self.cfg.env_timeout_s, what="env.close",
                                      on_error="env_error", task=me)
        except CallFailure as f:
            log.warning("%s", f)
            return f" (and {f})"
        return ""

    def _finish(self, task: Task, group_id: str, base: str, seats: dict[str, _Seat],
                status: str, error: str, seat_names: list[str] | None) -> list[Episode]:
        multi = self.multi_agent if self.multi_agent is not None else bool(seat_names)
        if not seats:
            seats["agent"] = self._seat(task, 0, 0, base, "agent")
        kept = [(n, s) for n, s in seats.items() if s.learner]  # a Seating's other seats go
        episodes = []
        for name, seat in kept:
            steps = seat.steps
            if steps:
                steps[-1].done = True
            metrics = {
                "base_id": base, "seats": len(kept), "steps": len(steps),
                "won": bool(steps[-1].info.get("won", False)) if steps else seat.won,
                "total_reward": float(sum([s.reward for s in steps])) + seat.unpaid,
                "invalid_actions": sum([not s.valid for s in steps]),
            }
            if seat.tags is not None:
                metrics["seat_tags"], metrics["lineup"] = seat.tags, seat.lineup
            episodes.append(Episode(
                id=seat.episode_id if multi else base, group_id=group_id, task=task,
                seat=name, steps=steps, status=status, error=error.strip(),  # type: ignore[arg-type]
                metrics=metrics))
        for seat in seats.values():  # optional: stateful policies free per-episode state
            if seat.end_episode is not None:
                try:
                    seat.end_episode(seat.episode_id)
                except Exception:  # the policy's clean-up must not cost the episode
                    log.exception("policy.end_episode failed on episode %s", seat.episode_id)
        if self.store is not None:  # all seats in one record group; fsynced off the loop
            self.store.append_many(episodes, wait=False)
        hook = self.host.pm.hook.turnrl_episode_end
        if hook.get_hookimpls():  # calling a hook nobody implements still costs microseconds
            for ep in episodes:
                self._publish(hook, ep)
        if self.progress is not None:
            self.progress.episode_done(episodes)
        return episodes

    @staticmethod
    def _publish(hook: Any, ep: Episode) -> None:
        try:
            hook(episode=ep)
        except Exception:  # an observer's bug must not cost the episode or the run
            log.exception("a turnrl_episode_end observer failed on episode %s", ep.id)


async def run_groups(env: str | Callable[[], Any], tasks: Sequence[Task], policy: Policy, *,
                     group_size: int = 1, config: RolloutConfig | None = None,
                     store: EpisodeStore | str | None = None, host: Any = None,
                     id_prefix: str = "", multi_agent: bool | None = None,
                     executor: Any = None) -> list[EpisodeGroup]:
    """Play ``group_size`` episodes of every task; one ``EpisodeGroup`` per task, in order.

    ``env`` is a registered environment name or a zero-argument factory returning an ``Env``.
    ``executor`` says where the environments run (``turnrl.executors``): None, in this
    process; a ``RayExecutor``, in Ray actors -- same records, groups, timeouts and store.
    ``store`` (an ``EpisodeStore`` or a path) receives episodes as they finish; episodes whose
    ids it already holds with a finished status are read back instead of replayed (resume);
    stored failures are played again. ``id_prefix`` keeps ids
    unique across calls sharing a store (e.g. ``"it0003/"``).
    """
    from turnrl.core.host import get_host

    if group_size < 1:
        raise ValueError(f"group_size must be >= 1, got {group_size}")
    cfg = config or RolloutConfig()
    host = host or get_host()
    spec = None
    if isinstance(env, str):
        spec = host.env(env)
        env_name = env
        multi_agent = spec.multi_agent if multi_agent is None else multi_agent

        def factory() -> Any:
            return host.make(env_name, **cfg.env_options)
    else:
        def factory() -> Any:  # a plain factory's env may declare ``blocking`` too
            return off_loop(env())
    own_store = isinstance(store, str)
    store_obj = EpisodeStore(store) if isinstance(store, str) else store
    done: dict[str, dict[str, Episode]] = {}  # base id -> seat episodes (last record wins)
    if store_obj is not None:
        for ep in store_obj:
            done.setdefault(str(ep.metrics.get("base_id", ep.id)), {})[ep.id] = ep
    progress = _Progress(len(tasks) * group_size) if cfg.progress else None
    repeats: Counter[tuple[str, int]] = Counter()
    groups: list[EpisodeGroup] = []
    results: list[list[Episode]] = []  # per (group, k) slot, in order: stored or played
    jobs: list[_Job] = []
    for task in tasks:
        rep = repeats[(task.id, task.seed)]
        repeats[(task.id, task.seed)] += 1
        group_id = f"{id_prefix}{task.id}@{task.seed}" + (f"#{rep}" if rep else "")
        groups.append(EpisodeGroup(group_id, task))
        for k in range(group_size):
            seat_eps = done.get(f"{group_id}/{k}") if done else None
            stored = list(seat_eps.values()) if seat_eps else []
            complete = bool(stored) and len(stored) == stored[0].metrics.get("seats", 1) \
                and not any(e.status in FAILED_STATUSES for e in stored)
            if not complete:  # never played, stored incompletely, or failed: play it (again)
                jobs.append(_Job(task, group_id, rep, k, len(results)))
            results.append(stored)
    if executor is not None and jobs:  # its pool grows to the episodes played at once
        try:  # options go to a registered env's factory; a plain factory takes none
            factory = await executor.env_factory(
                env, host=host, options=cfg.env_options if isinstance(env, str) else {},
                concurrency=min(cfg.max_concurrent_episodes, len(jobs)))
        except BaseException:  # nowhere to run them (PlacementError): nothing was played
            if own_store and store_obj is not None:
                store_obj.close()
            raise
    run = _Run(factory, policy, cfg, multi_agent, store_obj, host, progress, spec)
    run.deadlines.start()
    try:
        if progress is not None:
            progress.start()
        queue = iter(jobs)  # shared by the workers; ``next`` never interleaves in one loop
        workers = min(cfg.max_concurrent_episodes, len(jobs))
        with frozen_heap():
            await asyncio.gather(*(run.worker(queue, results) for _ in range(workers)))
    finally:
        await run.deadlines.stop()
        players = {id(p): p for p in (policy, *seat_policies(cfg.seats))}
        for player in players.values():
            end_rollout = getattr(player, "end_rollout", None)
            if end_rollout is not None:  # optional: loop-bound resources (an HTTP session)
                try:
                    await end_rollout()
                except Exception:
                    log.exception("policy.end_rollout failed")
        if progress is not None:
            progress.stop()
        if store_obj is not None:  # every episode of this call acknowledged before returning
            await asyncio.to_thread(store_obj.close if own_store else store_obj.flush)
    slots = iter(results)
    for group in groups:
        for _ in range(group_size):
            for ep in next(slots):
                group.append(ep)
    if cfg.seats is not None and cfg.seats.group_by:
        return split_by_tag(groups, cfg.seats.group_by)
    return groups


def run_groups_sync(*args: Any, **kwargs: Any) -> list[EpisodeGroup]:
    """``run_groups`` for synchronous callers (CLI, scripts)."""
    return asyncio.run(run_groups(*args, **kwargs))


def split_failed(groups: Sequence[EpisodeGroup]) -> tuple[list[EpisodeGroup],
                                                          list[EpisodeGroup]]:
    """``(clean, failed)``: groups with no failed episode, and groups with at least one.

    Grouped estimators compare the K episodes of a group, so a trainer usually drops a group
    with a failed episode rather than compare against a trajectory cut short by an error.
    """
    clean, failed = [], []
    for g in groups:
        (failed if any(e.status in FAILED_STATUSES for e in g.episodes) else clean).append(g)
    return clean, failed
