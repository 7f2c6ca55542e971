"""``rollout.executor: ray``: environment instances live in Ray actors across a cluster.

    with RayExecutor(address="auto") as executor:          # or "local": a private cluster
        groups = await run_groups("alfworld", tasks, policy, executor=executor, ...)

The rollout engine stays where it is (the trainer's process, next to the policy) and awaits
actor calls from its event loop; it sees ordinary ``Env`` objects (``link.RemoteEnv``), so
episodes, groups, seeds, timeouts, the store and the failure statuses are exactly those of
an in-process run. Per environment (and set of options) the executor keeps a pool of actors
per node, sized by the resources the environment declared at registration
(``core.resources``); pools live as long as the executor, so a training run pays for actor
start-up once, not per iteration. Module map: ``actor`` (worker side, batched calls),
``link`` (driver side of one actor, ``RemoteEnv``), ``pool`` (placement, leases,
replacement), ``cluster`` (start or join a cluster; a loopback multi-node cluster for tests).

Connecting: ``address=None`` joins the cluster named by ``RAY_ADDRESS`` if it is set, else
starts a private local one (never silently the last cluster started on this machine, which
is what a bare ``ray.init()`` would join); ``"auto"`` joins the cluster running on this
machine; ``"HOST:PORT"`` joins that head. A cluster this executor started is shut down by
``close()``; one it joined is left running (only its own actors are killed).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from turnrl.core.resources import resources_for
from turnrl.executors.ray.cluster import Connection, connect
from turnrl.executors.ray.link import EnvActorLost, RemoteEnv
from turnrl.executors.ray.pool import EnvPool, PlacementError

__all__ = ["EnvActorLost", "PlacementError", "RayExecutor", "RemoteEnv"]


class RayExecutor:
    """Places environment instances in Ray actors (module docstring)."""

    name = "ray"

    def __init__(self, *, address: str | None = None, num_cpus: int | None = None,
                 namespace: str = "turnrl", max_actors_per_node: int | None = None,
                 actor_start_timeout_s: float = 120.0, batch_window_s: float = 0.002,
                 log_to_driver: bool = True) -> None:
        self.connection: Connection = connect(address, num_cpus=num_cpus, namespace=namespace,
                                              log_to_driver=log_to_driver)
        self.max_actors_per_node = max_actors_per_node
        self.actor_start_timeout_s = actor_start_timeout_s
        self.batch_window_s = batch_window_s
        self.pools: dict[Any, EnvPool] = {}

    # ------------------------------------------------------------------ the engine's side
    async def env_factory(self, env: str | Callable[[], Any], *, host: Any,
                          options: dict[str, Any] | None = None,
                          concurrency: int = 1) -> Callable[[], Awaitable[RemoteEnv]]:
        """A factory the engine awaits per episode: leases a slot in ``env``'s pool and gives
        back a ``RemoteEnv`` bound to it. The pool grows toward ``concurrency`` slots first.
        ``env`` is a registered name or a zero-argument factory (pickled to the workers)."""
        pool = self.pool(env, host=host, options=options)
        await pool.ensure(concurrency)
        if not pool.described:
            await self._describe(pool)

        async def open_env() -> RemoteEnv:
            return RemoteEnv(await pool.lease(), pool.release, pool.seats, pool.tagged)

        return open_env

    def pool(self, env: str | Callable[[], Any], *, host: Any,
             options: dict[str, Any] | None = None) -> EnvPool:
        """The pool for ``env`` with ``options`` (made on first use, no actor started yet)."""
        options = dict(options or {})
        key = _key(env, options)
        pool = self.pools.get(key)
        if pool is not None:
            return pool
        if isinstance(env, str):
            spec = host.env(env)
            factory, label, extras = spec.factory, env, spec.extras
            declared = factory
            if "resources" not in extras and isinstance(factory, str):
                from turnrl.core.host import import_target

                declared = import_target(factory)  # a ``resources`` attribute on the class
            multi = spec.multi_agent or bool(getattr(declared, "seats", None))
            blocking = bool(extras.get("blocking"))
        else:
            factory = declared = env
            inner = getattr(env, "func", env)  # functools.partial(MyEnv, ...): name MyEnv
            label = getattr(inner, "__qualname__", None) or type(env).__name__
            extras, blocking = {}, False
            multi = bool(getattr(env, "seats", None))
        pool = EnvPool(label, factory, options, blocking, resources_for(extras, declared, options),
                       max_actors_per_node=self.max_actors_per_node,
                       start_timeout_s=self.actor_start_timeout_s,
                       batch_window_s=self.batch_window_s, others=self._held_by_others)
        pool.described = not multi  # single-agent: no attribute to fetch before reset
        self.pools[key] = pool
        return pool

    def _held_by_others(self, pool: EnvPool, node_id: str, starting_only: bool
                        ) -> dict[str, float]:
        held: dict[str, float] = {}
        for other in list(self.pools.values()):
            if other is not pool:
                for key, amount in other.reserved_on(node_id, starting_only).items():
                    held[key] = held.get(key, 0.0) + amount
        return held

    def release(self, env: str | Callable[[], Any], options: dict[str, Any] | None = None
                ) -> None:
        """Kill ``env``'s pool (its actors and their reservations); the next rollout of it
        starts a new one."""
        pool = self.pools.pop(_key(env, dict(options or {})), None)
        if pool is not None:
            pool.close()

    async def _describe(self, pool: EnvPool) -> None:
        """Read ``seats`` from a probe instance (multi-agent environments only)."""
        probe = RemoteEnv(await pool.lease(), pool.release)
        try:
            described = await probe.describe()
            pool.seats = described["seats"]
            pool.tagged = bool(described.get("seat_tags"))
            pool.described = True
        finally:
            await probe.close()

    # ------------------------------------------------------------------ state and shutdown
    def describe(self) -> dict[str, Any]:
        """The cluster's nodes and every pool's actors, for reports (``turnrl check``)."""
        return {"cluster": self.connection.describe(),
                "pools": [pool.describe() for pool in self.pools.values()]}

    def summary(self, env: str | Callable[[], Any], options: dict[str, Any] | None = None
                ) -> str:
        """One line on where ``env``'s pool placed its actors (``turnrl check``)."""
        pool = self.pools.get(_key(env, dict(options or {})))
        if pool is None:
            return "no pool yet"
        d = pool.describe()
        where = ", ".join(f"{node}: {n}" for node, n in sorted(d["nodes"].items()))
        needs = ", ".join(f"{k}={v:g}" for k, v in d["resources"].items() if k != "per_actor")
        return (f"{d['actors']} actor(s) on {len(d['nodes'])} node(s) ({where}); "
                f"{d['slots']} slots, {d['per_actor']} per actor; one instance needs {needs}")

    def close(self) -> None:
        """Kill this executor's actors; shut the cluster down if this executor started it."""
        for pool in self.pools.values():
            pool.close()
        self.pools.clear()
        self.connection.close()

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _key(env: str | Callable[[], Any], options: dict[str, Any]) -> tuple[Any, str]:
    """A pool per environment and options: the name, or the factory object itself (which the
    key keeps alive, so its identity cannot be reused)."""
    return env, json.dumps(options, sort_keys=True, default=repr)
