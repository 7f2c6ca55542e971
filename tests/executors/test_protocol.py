"""The Ray executor's call protocol without Ray: the actor class (``EnvHost``) driven directly,
and the driver side (``ActorLink``, ``RemoteEnv``) against an actor running on a thread of
its own behind a stand-in handle (same ``.remote()`` / ``.future()`` shapes as Ray's). The
tests on a real cluster are in ``test_ray_executor.py`` and ``test_ray_cluster.py``."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.executors import envs
from turnrl.core.rollout import RolloutConfig, run_groups
from turnrl.core.types import Observation, Task, Transition
from turnrl.executors.ray.actor import CLOSE, DESCRIBE, RESET, STEP, EnvHost, RemoteEnvError
from turnrl.executors.ray.link import ActorLink, EnvActorLost, RemoteEnv
from turnrl.executors.ray.wire import decode, encode
from turnrl.inference import make_policy

TASK = Task(env="test", id="t0", seed=3)


def host(factory: Any = envs.SleepEnv, window: float = 0.0, **options: Any) -> EnvHost:
    return EnvHost(factory, options, {}, window)


def values(results: list[tuple[int, bool, bytes]]) -> dict[int, tuple[bool, Any]]:
    return {op_id: (ok, decode(data)) for op_id, ok, data in results}


# ---------------------------------------------------------------------------- wire
def test_wire_round_trips_observations_and_transitions_field_for_field() -> None:
    obs = Observation("look", state_key="k", actions=("a", "b"), agent="red", images=("x",))
    tr = Transition(obs, reward=2.5, terminated=True, truncated=False, info={"won": True})
    assert decode(encode(obs)) == obs
    assert decode(encode(tr)) == tr
    assert decode(encode({"seats": ["a"]})) == {"seats": ["a"]}


# ---------------------------------------------------------------------------- the actor
def test_calls_that_finish_at_once_come_back_in_the_same_exchange() -> None:
    async def main() -> None:
        h = host()
        got = values(await h.exchange([(i, RESET, i, (TASK, None)) for i in range(3)]))
        assert set(got) == {0, 1, 2}
        assert all(ok and got[i][1] == Observation(f"start {TASK.id}", state_key="0",
                                                   actions=("go", "wait"))
                   for i, (ok, _) in got.items())
        got = values(await h.exchange([(10, STEP, 0, "go")]))
        assert got[10][1].observation.text == "t=1"
        assert (await h.hosted()) == 3

    asyncio.run(main())


def test_only_the_newest_exchange_waits_for_results() -> None:
    async def main() -> None:
        h = host(step_s=0.3)
        await h.exchange([(0, RESET, 0, (TASK, None)), (1, RESET, 1, (TASK, None))])
        t0 = time.perf_counter()
        first = asyncio.ensure_future(h.exchange([(2, STEP, 0, "go")]))
        await asyncio.sleep(0.05)
        assert not first.done()  # waits for its slow call
        second = asyncio.ensure_future(h.exchange([(3, STEP, 1, "go")]))
        assert await asyncio.wait_for(first, 0.1) == []  # the older one steps aside, empty
        got = values(await second)
        assert time.perf_counter() - t0 >= 0.29
        while len(got) < 2:
            got.update(values(await h.exchange([])))
        assert set(got) == {2, 3}

    asyncio.run(main())


def test_the_batch_window_collects_calls_that_finish_soon_after_the_first() -> None:
    async def main(window: float) -> set[int]:
        h = host(window=window)
        await h.exchange([(0, RESET, 0, (Task("t", "fast", data={"step_s": 0.05}), None)),
                          (1, RESET, 1, (Task("t", "slow", data={"step_s": 0.12}), None))])
        return set(values(await h.exchange([(2, STEP, 0, "go"), (3, STEP, 1, "go")])))

    assert asyncio.run(main(0.0)) == {2}  # no window: back as soon as one is ready
    assert asyncio.run(main(0.2)) == {2, 3}  # a window: the later one rides along


def test_close_cancels_a_call_still_running_and_frees_the_instance() -> None:
    async def main() -> None:
        h = host(envs.FaultyEnv)
        stall = Task(env="test", id="t-stall")
        await h.exchange([(0, RESET, 0, (stall, None))])
        await h.exchange([(1, STEP, 0, "go")])
        pending = asyncio.ensure_future(h.exchange([(2, STEP, 0, "go")]))  # hangs
        await asyncio.sleep(0.05)
        got = values(await h.exchange([(3, CLOSE, 0, None)]))
        got.update(values(await pending))
        while 2 not in got or 3 not in got:
            got.update(values(await h.exchange([])))
        ok, err = got[2]
        assert not ok
        assert isinstance(err, RemoteEnvError)
        assert "cancelled" in str(err)
        assert got[3] == (True, None)
        assert await h.hosted() == 0
        assert h.pending == 0

    asyncio.run(main())


def test_a_close_in_the_same_batch_as_the_call_it_cancels_still_answers_both() -> None:
    async def main() -> None:
        h = host(step_s=0.5)
        await h.exchange([(0, RESET, 0, (TASK, None))])
        got: dict[int, Any] = {}
        got.update(values(await h.exchange([(1, STEP, 0, "go"), (2, CLOSE, 0, None)])))
        while len(got) < 2:
            got.update(values(await h.exchange([])))
        assert got[1][0] is False
        assert got[2] == (True, None)
        assert h.pending == 0
        assert not h.running

    asyncio.run(main())


def test_failures_travel_per_call_with_their_type() -> None:
    async def main() -> None:
        h = host(envs.FaultyEnv)
        await h.exchange([(0, RESET, 0, (Task(env="test", id="a-raise"), None)),
                          (1, RESET, 1, (TASK, None))])
        await h.exchange([(2, STEP, 0, "go"), (3, STEP, 1, "go")])
        got = values(await h.exchange([(4, STEP, 0, "go"), (5, STEP, 1, "go")]))
        assert got[4][0] is False
        assert isinstance(got[4][1], ConnectionError)
        assert str(got[4][1]) == "engine went away"
        assert got[5][0] is True
        assert got[5][1].observation.text == "t=2"
        odd = host(envs.OddAnswersEnv)
        got = values(await odd.exchange([(0, RESET, 0, (Task(env="t", id="x-odd"), None)),
                                         (1, RESET, 1, (TASK, None))]))
        assert got[0][0] is False
        assert "does not pickle" in str(got[0][1])
        assert got[1][0] is True  # the other answer of the same batch is intact
        got = values(await odd.exchange([(2, STEP, 7, "go")]))
        assert "before reset" in str(got[2][1])

    asyncio.run(main())


def test_a_factory_that_raises_is_reported_as_creating_the_environment() -> None:
    def broken() -> Any:
        raise ValueError("no engine binary")

    async def main() -> None:
        got = values(await host(broken).exchange([(0, RESET, 0, (TASK, None))]))
        assert got[0][0] is False
        assert str(got[0][1]) == "creating the environment raised ValueError: no engine binary"

    asyncio.run(main())


def test_describe_reads_seats_from_a_probe_instance_and_closes_it() -> None:
    async def main() -> None:
        h = host(envs.DuelEnv)
        got = values(await h.exchange([(0, DESCRIBE, 0, None)]))
        assert got[0] == (True, {"seats": ["red", "blue"], "seat_tags": False})
        assert await h.hosted() == 0
        tagged = host(envs.TaggedDuelEnv)
        got = values(await tagged.exchange([(0, DESCRIBE, 0, None)]))
        assert got[0] == (True, {"seats": ["red", "blue"], "seat_tags": True})

    asyncio.run(main())


# ---------------------------------------------------------------------------- the driver side
class _Ref:
    def __init__(self, cf: concurrent.futures.Future[Any]) -> None:
        self.cf = cf

    def future(self) -> concurrent.futures.Future[Any]:
        return self.cf


class _Method:
    def __init__(self, handle: ThreadActor, name: str) -> None:
        self.handle, self.name = handle, name

    def remote(self, *args: Any) -> _Ref:
        return self.handle.submit(self.name, args)


class ThreadActor:
    """An ``EnvHost`` on a thread with its own event loop, behind Ray-shaped handles; ``kill``
    fails every call in flight and every later one, as a dead actor's do."""

    def __init__(self, actor: EnvHost) -> None:
        self.actor = actor
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.calls = 0
        self.dead = False
        self.in_flight: list[concurrent.futures.Future[Any]] = []

    def __getattr__(self, name: str) -> _Method:
        return _Method(self, name)

    def submit(self, name: str, args: tuple[Any, ...]) -> _Ref:
        self.calls += name == "exchange"
        if self.dead:
            cf: concurrent.futures.Future[Any] = concurrent.futures.Future()
            cf.set_exception(RuntimeError("ActorDiedError: the actor is dead"))
            return _Ref(cf)
        cf = asyncio.run_coroutine_threadsafe(getattr(self.actor, name)(*args), self.loop)
        self.in_flight.append(cf)
        return _Ref(cf)

    def kill(self) -> None:
        self.dead = True
        for cf in self.in_flight:
            if not cf.done():
                cf.cancel()

    def stop(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def actor() -> Iterator[ThreadActor]:
    a = ThreadActor(EnvHost(envs.FaultyEnv, {"steps": 4, "step_s": 0.01}, {}, 0.001))
    yield a
    a.stop()


def _link(actor: ThreadActor, lost: list[ActorLink]) -> ActorLink:
    link = ActorLink(actor, {"node_id": "n" * 16, "pid": 1, "host": "here"}, 64, lost.append)
    link.watch()
    return link


def test_many_episodes_share_few_exchanges(actor: ThreadActor) -> None:
    lost: list[ActorLink] = []
    link = _link(actor, lost)

    async def episode(i: int) -> list[str]:
        env = RemoteEnv(link, lambda _: None)
        try:
            obs = await env.reset(Task(env="test", id=f"e{i}"))
            texts = [obs.text]
            while True:
                tr = await env.step("go")
                texts.append(tr.observation.text)
                if tr.done:
                    return texts
        finally:
            await env.close()

    async def main() -> list[list[str]]:
        return await asyncio.wait_for(asyncio.gather(*(episode(i) for i in range(50))), 20)

    out = asyncio.run(main())
    assert all(t == [f"start e{i}", "t=1", "t=2", "t=3", "t=4"] for i, t in enumerate(out))
    calls = 50 * 6  # reset, 4 steps, close
    assert actor.calls < calls / 5, f"{actor.calls} exchanges for {calls} calls"
    assert not lost
    assert link.alive


def test_a_dead_actor_fails_what_it_owed_and_every_later_call(actor: ThreadActor) -> None:
    lost: list[ActorLink] = []
    link = _link(actor, lost)

    async def main() -> None:
        stall = RemoteEnv(link, lambda _: None)
        await stall.reset(Task(env="test", id="s-stall"))
        await stall.step("go")
        waiting = asyncio.ensure_future(stall.step("go"))  # hangs in the actor
        await asyncio.sleep(0.1)
        actor.kill()
        with pytest.raises(EnvActorLost, match="the Ray actor hosting this environment died"):
            await asyncio.wait_for(waiting, 5)
        other = RemoteEnv(link, lambda _: None)
        with pytest.raises(EnvActorLost):
            await other.reset(TASK)
        await stall.close()  # the instance died with its actor: closing is quiet

    asyncio.run(main())
    assert lost == [link]
    assert not link.alive


def test_a_new_run_gets_its_answers_while_an_old_runs_exchange_still_waits(
        actor: ThreadActor) -> None:
    """A run that ends with a call still running in the actor (timed out, never answered)
    leaves an exchange waiting there; the next run, on a new event loop, must still get every
    answer (the old exchange steps aside and its reply is read on the new loop)."""
    lost: list[ActorLink] = []
    link = _link(actor, lost)

    async def first_run() -> None:
        env = RemoteEnv(link, lambda _: None)
        await env.reset(Task(env="test", id="s-stall"))
        await env.step("go")
        env.step("go")  # hangs in the actor; this run ends without its answer
        await asyncio.sleep(0.2)

    async def second_run() -> list[str]:
        env = RemoteEnv(link, lambda _: None)
        texts = [(await env.reset(TASK)).text]
        for _ in range(3):
            texts.append((await env.step("go")).observation.text)
        return texts

    asyncio.run(first_run())
    before = actor.calls
    assert asyncio.run(asyncio.wait_for(second_run(), 5)) == [f"start {TASK.id}", "t=1", "t=2",
                                                              "t=3"]
    assert actor.calls - before <= 12, "the driver spun on empty exchanges"
    assert not lost


def test_the_engine_keeps_its_records_through_remote_envs(actor: ThreadActor) -> None:
    """Same episodes (ids, actions, rewards, statuses, errors) as the same env in-process,
    including a timeout and an error, through the engine's awaitable-factory path."""
    lost: list[ActorLink] = []
    link = _link(actor, lost)

    class Fake:
        async def env_factory(self, env: Any, **_: Any) -> Any:
            async def open_env() -> RemoteEnv:
                return RemoteEnv(link, lambda _: None)
            return open_env

    tasks = [Task(env="test", id=f"t{i}-{m}", seed=i)
             for i, m in enumerate(["ok", "stall", "raise", "ok", "ok"])]
    cfg = RolloutConfig(env_timeout_s=0.5, max_concurrent_episodes=8)
    policy = make_policy("scripted:random")

    def play(executor: Any) -> list[dict[str, Any]]:
        groups = asyncio.run(run_groups(lambda: envs.FaultyEnv(steps=4, step_s=0.01), tasks,
                                        policy, group_size=2, config=cfg, executor=executor))
        return [e.to_dict() for g in groups for e in g.episodes]

    local, remote = play(None), play(Fake())
    assert remote == local
    statuses = [e["status"] for e in remote]
    assert statuses.count("timeout") == 2
    assert statuses.count("env_error") == 2
    assert all(len(e["steps"]) == 1 for e in remote if e["status"] != "ok")
    assert not lost
