"""The engine's guarded calls, request bound, seeds and GC handling, and the concurrency bounds
they enforce in a real rollout."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from turnrl.core.policy import Completion, GenerationRequest, SamplingParams
from turnrl.core.rollout import RolloutConfig, run_groups
from turnrl.core.rollout_calls import CallFailure, Deadlines, RequestBound
from turnrl.core.rollout_gc import frozen_heap
from turnrl.core.rollout_sampling import sampling_seed, seed_from, seed_prefix, seeded_sampling
from turnrl.core.types import Observation, Task, Transition

T = Task(env="t", id="x", seed=3)


async def _guarded(awaitable: Any, timeout: float = 0.05) -> Any:
    d = Deadlines(0.005)
    d.start()
    try:
        return await d.call(awaitable, timeout, what="env.step", on_error="env_error")
    finally:
        await d.stop()
        assert not d.active  # nothing left behind for the watchdog


async def _instant() -> int:
    return 7


async def _suspends(n: int) -> int:
    for _ in range(n):
        await asyncio.sleep(0)
    await asyncio.sleep(0.001)
    return n


async def _raises_now() -> None:
    raise KeyError("no such room")


async def _raises_later() -> None:
    await asyncio.sleep(0.001)
    raise ValueError("late")


def test_call_returns_values_with_and_without_suspending() -> None:
    assert asyncio.run(_guarded(_instant())) == 7
    assert asyncio.run(_guarded(_suspends(3))) == 3


def test_call_accepts_non_coroutine_awaitables() -> None:
    async def main() -> Any:
        fut = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.001, fut.set_result, "done")
        return await _guarded(fut)

    assert asyncio.run(main()) == "done"


@pytest.mark.parametrize(("coro", "message"), [
    (_raises_now, "env.step raised KeyError: 'no such room'"),
    (_raises_later, "env.step raised ValueError: late"),
])
def test_errors_become_failures_with_the_status(coro: Any, message: str) -> None:
    with pytest.raises(CallFailure) as info:
        asyncio.run(_guarded(coro()))
    assert info.value.status == "env_error"
    assert str(info.value) == message


def test_a_stalled_call_times_out_and_the_task_is_not_left_cancelled() -> None:
    async def main() -> tuple[str, int]:
        with pytest.raises(CallFailure) as info:
            await _guarded(asyncio.sleep(3600), timeout=0.02)
        task = asyncio.current_task()
        assert task is not None
        await asyncio.sleep(0)  # still runnable: the timeout's cancel was taken back
        return info.value.status, task.cancelling()

    assert asyncio.run(main()) == ("timeout", 0)


def test_the_deadline_counts_from_the_call_not_from_the_first_suspension() -> None:
    import time

    async def busy_then_stall() -> None:
        time.sleep(0.05)  # synchronous work (uninterruptible), then a stall
        await asyncio.sleep(3600)

    async def main() -> float:
        d = Deadlines(1.0)
        t0 = time.monotonic()
        task = asyncio.create_task(d.call(busy_then_stall(), 10.0, what="env.step",
                                          on_error="env_error"))
        await asyncio.sleep(0.01)
        (deadline,) = d.active.values()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return deadline - t0

    assert 10.0 <= asyncio.run(main()) < 10.04  # not 10.05+: the busy part counts


def test_outside_cancellation_goes_through() -> None:
    async def main() -> None:
        task = asyncio.create_task(_guarded(asyncio.sleep(3600), timeout=60))
        await asyncio.sleep(0.01)
        task.cancel()
        await task

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(main())


def test_request_bound_is_fifo_and_passes_on_a_slot_handed_to_a_cancelled_waiter() -> None:
    async def main() -> list[str]:
        bound = RequestBound(1)
        order: list[str] = []
        bound.free -= 1  # held by us

        async def waiter(name: str) -> None:
            await bound.wait()
            order.append(name)
            bound.release()

        a = asyncio.create_task(waiter("a"))
        b = asyncio.create_task(waiter("b"))
        c = asyncio.create_task(waiter("c"))
        await asyncio.sleep(0)
        bound.release()  # hands the slot to a ...
        a.cancel()  # ... which is cancelled before it runs: the slot must go on to b
        await asyncio.wait_for(asyncio.gather(a, b, c, return_exceptions=True), 5)
        assert bound.free == 1
        assert not bound.waiters
        return order

    assert asyncio.run(main()) == ["b", "c"]


class _SlowEnv:
    live = 0
    peak = 0

    async def reset(self, task: Task, *, seed: int | None = None) -> Observation:
        type(self).live += 1
        type(self).peak = max(type(self).peak, type(self).live)
        self.t = 0
        return Observation("o", state_key="s")

    async def step(self, action: str) -> Transition:
        await asyncio.sleep(0.001)
        self.t += 1
        return Transition(Observation("o", state_key="s"), 1.0, terminated=self.t >= 3)

    async def close(self) -> None:
        type(self).live -= 1


class _SlowPolicy:
    wants_prompt = False
    live = 0
    peak = 0

    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        type(self).live += 1
        type(self).peak = max(type(self).peak, type(self).live)
        await asyncio.sleep(0.002)
        type(self).live -= 1
        return [Completion("<think> t </think> <action> a </action>") for _ in requests]

    async def close(self) -> None:
        return None


def test_rollout_keeps_to_the_episode_and_request_bounds_and_reaches_them() -> None:
    tasks = [Task(env="t", id=f"t{i}") for i in range(10)]
    groups = asyncio.run(run_groups(_SlowEnv, tasks, _SlowPolicy(), group_size=4,
                                    config=RolloutConfig(max_concurrent_episodes=12,
                                                         max_concurrent_requests=5)))
    assert all(e.status == "ok" and len(e.steps) == 3 for g in groups for e in g.episodes)
    assert _SlowEnv.peak == 12
    assert _SlowPolicy.peak == 5
    assert _SlowEnv.live == 0
    assert _SlowPolicy.live == 0


def test_per_seat_seed_prefix_gives_the_documented_hash() -> None:
    import hashlib

    expected = int.from_bytes(hashlib.blake2b(b"5|x|3|1|2|white|9", digest_size=8).digest(),
                              "little") >> 1
    assert sampling_seed(5, T, 1, 2, "white", 9) == expected
    prefix = seed_prefix(5, T, 1, 2, "white")
    assert [seed_from(prefix, s) for s in range(12)] == \
        [sampling_seed(5, T, 1, 2, "white", s) for s in range(12)]


def test_seeded_sampling_equals_replace_and_keeps_the_base() -> None:
    base = SamplingParams(max_tokens=17, temperature=0.3, top_p=0.9, top_k=5, stop=("</a>",))
    seeded = seeded_sampling(base)
    assert seeded(42) == replace(base, seed=42)
    assert base.seed is None
    with pytest.raises(AttributeError):
        seeded(1).seed = 2  # type: ignore[misc]  # still frozen


def test_frozen_heap_freezes_once_for_nested_rollouts_and_respects_the_app() -> None:
    assert gc.get_freeze_count() == 0
    with frozen_heap():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with frozen_heap():
            assert gc.get_freeze_count() == frozen  # nested: no second freeze
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == 0
    gc.freeze()  # the application froze its heap itself: leave it frozen
    try:
        n = gc.get_freeze_count()
        with frozen_heap():
            pass
        assert gc.get_freeze_count() == n
    finally:
        gc.unfreeze()


def _victim_cancelled_by(d: Deadlines, *, also_from_outside: bool) -> Any:
    """A task inside a guarded call that the watchdog times out (done by hand here, exactly as
    ``_watch`` does it), optionally cancelled by somebody else as well."""
    async def victim() -> Any:
        return await d.call(asyncio.sleep(3600), 10.0, what="env.step", on_error="env_error")

    async def main() -> Any:
        task = asyncio.create_task(victim())
        await asyncio.sleep(0)  # the victim is now inside the call
        assert task in d.active
        del d.active[task]
        d.expired.add(task)
        task.cancel()
        if also_from_outside:
            task.cancel()
        return await task

    return asyncio.run(main())


def test_timeout_alone_becomes_a_failure() -> None:
    with pytest.raises(CallFailure, match="timed out after 10s"):
        _victim_cancelled_by(Deadlines(3600), also_from_outside=False)


def test_an_outside_cancel_racing_a_timeout_wins() -> None:
    with pytest.raises(asyncio.CancelledError):
        _victim_cancelled_by(Deadlines(3600), also_from_outside=True)
