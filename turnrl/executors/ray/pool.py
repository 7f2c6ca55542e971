"""A pool of environment actors for one environment (and one set of options), per node.

Sizing: an actor reserves what ``per_actor`` instances need (``core.resources``); a node
takes as many actors as its free resources allow (what Ray reports free on it, less the actors
this executor is still starting there; ``max_actors_per_node`` caps a pool), the pool asks
for as many instance slots as the rollout runs episodes at once, and spreads the actors over
the nodes that can host them (fewest actors first). Nothing is placed by environment name: a
browser environment lands only on nodes that offer the ``browser`` resource because it
declares ``browser: 1``, a GPU one only where there is a GPU.

Faults: an actor that dies is dropped (its episodes fail through their calls, see ``link``)
and the pool starts another in its place on a node that is still alive and has room; a node
that leaves takes its actors with it, and the pool refills on the nodes that remain. A slot is
leased per episode (``lease``; waits while all slots are busy) and given back when the
episode's environment closes.

Actors start on a small thread pool (Ray's calls to create one and wait for it to be ready
block), so a replacement never depends on a rollout's event loop still running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from turnrl.core.resources import EnvResources
from turnrl.executors.ray.actor import EnvHost
from turnrl.executors.ray.link import ActorLink, _first_line

log = logging.getLogger(__name__)


class PlacementError(RuntimeError):
    """No node of the cluster can host an instance of this environment."""


class EnvPool:
    def __init__(self, label: str, factory: Any, options: dict[str, Any],
                 blocking: bool, resources: EnvResources, *, max_actors_per_node: int | None,
                 start_timeout_s: float, batch_window_s: float,
                 others: Callable[[EnvPool, str, bool], dict[str, float]] | None = None
                 ) -> None:
        import ray

        self.label = label
        self.resources = resources
        self._ray = ray
        self._cls = ray.remote(EnvHost)
        self._init_args = (factory, options, {"blocking": blocking}, batch_window_s)
        self._max_per_node = max_actors_per_node
        self._others = others  # what the executor's other pools hold on a node
        self._start_timeout = start_timeout_s
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="turnrl-ray-pool")
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self.links: list[ActorLink] = []
        self.starting: Counter[str] = Counter()  # node id -> actors being started there
        self.wanted = 0
        self.closed = False
        self.seats: list[str] | None = None
        self.tagged = False  # instances have ``seat_tags()`` (multi-agent games with roles)
        self.described = False
        self.lost = 0
        """Actors that died so far (the pool replaced them where it could)."""
        self.problem = ""
        """Why the last actor that failed to start did not (shown when nothing is placeable)."""

    # ------------------------------------------------------------------ capacity
    @property
    def capacity(self) -> int:
        """Instance slots on live actors."""
        return sum(link.slots for link in self.links if link.alive)

    async def ensure(self, instances: int) -> None:
        """Grow the pool toward ``instances`` slots (never shrinks it), as far as the nodes
        allow, and wait for the actors it starts; ``PlacementError`` if it has none at all."""
        with self._lock:
            self.wanted = max(self.wanted, instances)
        if self.capacity >= instances:  # the usual case from the second iteration on: no
            return                      # cluster state to ask for (two GCS round trips)
        deadline = time.monotonic() + self._start_timeout
        while True:
            started = await asyncio.to_thread(self._fill)
            if started:
                await asyncio.gather(*(asyncio.wrap_future(f) for f in started))
            if self.capacity:
                return
            # Nothing placed. If some node could host one when idle, its resources are busy
            # (or still being freed by actors just killed): wait for them, up to the limit.
            if not await asyncio.to_thread(self._feasible) or time.monotonic() > deadline:
                raise PlacementError(self._why_none())
            await asyncio.sleep(0.5)

    def _feasible(self) -> bool:
        """Whether some live node could host one actor if nothing else ran there."""
        need = self.resources.actor()
        return any(_room(n.get("Resources", {}), need) >= 1
                   for n in self._ray.nodes() if n.get("Alive"))

    def _fill(self) -> list[Future[None]]:
        """Start actors until the slots (live and starting) reach ``wanted`` or no live node
        has room; returns the futures of the starts."""
        nodes = [n for n in self._ray.nodes() if n.get("Alive")]
        need = self.resources.actor()
        futures: list[Future[None]] = []
        available = _available_per_node(self._ray)  # None: this Ray cannot tell
        # Asked before taking our lock: another pool's lock is never taken while we hold ours.
        # With ``available``, live actors are already counted there: only starts are not.
        held = {n["NodeID"]: self._others(self, n["NodeID"], available is not None)
                if self._others else {} for n in nodes}
        with self._lock:
            if self.closed:
                return []
            per_node = Counter(link.node_id for link in self.links if link.alive)
            per_node.update(self.starting)
            slots = self.capacity + sum(self.starting.values()) * self.resources.per_actor
            room = {}
            for n in nodes:
                node = n["NodeID"]
                if available is not None:
                    free = dict(available.get(node, {}))
                    mine = self.starting[node]  # starts not yet in ``available``
                else:
                    free = dict(n.get("Resources", {}))
                    mine = per_node[node]
                for key, amount in held[node].items():
                    free[key] = free.get(key, 0.0) - amount
                room[node] = _room(free, need) - mine
                if self._max_per_node:
                    room[node] = min(room[node], self._max_per_node - per_node[node])
            while slots < self.wanted:
                open_nodes = [node for node, free in room.items() if free > 0]
                if not open_nodes:
                    break
                node = min(open_nodes, key=lambda nid: per_node[nid])
                room[node] -= 1
                per_node[node] += 1
                self.starting[node] += 1
                slots += self.resources.per_actor
                futures.append(self._threads.submit(self._start, node))
        return futures

    def _start(self, node_id: str) -> None:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        need = self.resources.actor()
        options: dict[str, Any] = {
            "num_cpus": need["cpus"], "max_concurrency": 64, "max_restarts": 0,
            "scheduling_strategy": NodeAffinitySchedulingStrategy(node_id, soft=False)}
        if need["gpus"]:
            options["num_gpus"] = need["gpus"]
        if need["memory"]:
            options["memory"] = need["memory"]
        if need["custom"]:
            options["resources"] = need["custom"]
        handle = None
        try:
            handle = self._cls.options(**options).remote(*self._init_args)
            where = self._ray.get(handle.ready.remote(), timeout=self._start_timeout)
        except Exception as exc:
            if handle is not None:
                self._kill(handle)
            with self._lock:
                self.starting[node_id] -= 1
                self.problem = f"starting an actor on node {node_id[:8]} failed: " \
                               f"{_first_line(exc)}"
            log.warning("%s: %s", self.label, self.problem)
            self._notify()
            return
        link = ActorLink(handle, where, self.resources.per_actor, self._on_lost)
        with self._lock:
            self.starting[node_id] -= 1
            if self.closed:
                self._kill(handle)
                return
            self.links.append(link)
        link.watch()
        self._notify()

    def _on_lost(self, link: ActorLink) -> None:
        with self._lock:
            if self.closed or link not in self.links:
                return
            self.links.remove(link)
            self.lost += 1
        log.warning("%s: lost %r (%s); replacing it", self.label, link, link.reason)
        self._kill(link.handle)
        self._notify()  # waiters re-check: maybe nothing is left to wait for
        self._threads.submit(self._refill)

    def _refill(self) -> None:
        for f in self._fill():
            f.result()

    def _why_none(self) -> str:
        r = self.resources
        available = _available_per_node(self._ray) or {}
        nodes = [n for n in self._ray.nodes() if n.get("Alive")]

        def shown(resources: dict[str, float]) -> str:
            return ", ".join(f"{k}={v:g}" for k, v in sorted(resources.items())
                             if not k.startswith("node:") and "object_store" not in k)

        have = "; ".join(
            f"{n.get('NodeManagerAddress', '?')}: {shown(n.get('Resources', {}))}"
            + (f" (free: {shown(available[n['NodeID']])})" if n["NodeID"] in available else "")
            for n in nodes)
        return (f"no node of the Ray cluster can host {self.label} (one actor needs "
                f"{r.per_actor} x {r.to_dict()} per instance; alive nodes: {have or 'none'})"
                + (f"; {self.problem}" if self.problem else ""))

    def reserved_on(self, node_id: str, starting_only: bool = False) -> dict[str, float]:
        """What this pool's actors starting (and, unless ``starting_only``, live) on a node
        reserve there, in Ray's resource names."""
        with self._lock:
            count = self.starting[node_id] + (0 if starting_only else sum(
                link.alive and link.node_id == node_id for link in self.links))
        need = self.resources.actor()
        out = {"CPU": need["cpus"] * count, "GPU": need["gpus"] * count,
               "memory": float(need["memory"] * count)}
        for key, amount in need["custom"].items():
            out[key] = amount * count
        return out

    # ------------------------------------------------------------------ leases
    async def lease(self) -> ActorLink:
        """A live actor with a free slot (the one with the most free slots), waiting while
        every slot is busy; ``PlacementError`` when no actor is alive or starting."""
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                best = None
                for link in self.links:
                    if link.alive and link.used < link.slots and (
                            best is None or link.slots - link.used > best.slots - best.used):
                        best = link
                if best is not None:
                    best.used += 1
                    return best
                if self.closed or (not any(link.alive for link in self.links)
                                   and not sum(self.starting.values())):
                    raise PlacementError("the pool has no live actor left: "
                                         + self._why_none_quick())
                fut: asyncio.Future[None] = loop.create_future()
                self._waiters.append((loop, fut))
            await fut

    def _why_none_quick(self) -> str:
        return f"{self.lost} actor(s) died" + (f"; {self.problem}" if self.problem else "")

    def release(self, link: ActorLink) -> None:
        with self._lock:
            link.used -= 1
        self._notify()

    def _notify(self) -> None:
        """Wake every waiting lease; each re-checks (cheap, and robust to lost wake-ups)."""
        with self._lock:
            waiters, self._waiters = self._waiters, []
        for loop, fut in waiters:
            with contextlib.suppress(RuntimeError):  # its loop has ended
                loop.call_soon_threadsafe(_wake, fut)

    # ------------------------------------------------------------------ state
    def describe(self) -> dict[str, Any]:
        with self._lock:
            live = [link for link in self.links if link.alive]
        per_node = Counter(link.host + "/" + link.node_id[:8] for link in live)
        return {"env": self.label, "actors": len(live), "slots": self.capacity,
                "per_actor": self.resources.per_actor, "resources": self.resources.to_dict(),
                "nodes": dict(per_node), "lost": self.lost}

    def close(self) -> None:
        with self._lock:
            self.closed = True
            links, self.links = self.links, []
        for link in links:
            link.alive = False
            self._kill(link.handle)
        self._notify()
        self._threads.shutdown(wait=False, cancel_futures=True)

    def _kill(self, handle: Any) -> None:
        with contextlib.suppress(Exception):  # already gone, or the cluster is: nothing to free
            self._ray.kill(handle, no_restart=True)


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _room(free: dict[str, float], need: dict[str, Any]) -> int:
    """How many actors needing ``need`` fit in ``free`` resources."""
    fits = []
    for key, amount in (("CPU", need["cpus"]), ("GPU", need["gpus"]),
                        ("memory", need["memory"]), *need["custom"].items()):
        if amount > 0:
            fits.append(math.floor(free.get(key, 0.0) / amount + 1e-9))
    return min(fits) if fits else 10**6  # needs nothing countable: as many as wanted


def _available_per_node(ray: Any) -> dict[str, dict[str, float]] | None:
    """Per node, the resources not reserved by anybody (this executor, other drivers). Ray
    has no public call for it (``ray.available_resources()`` sums the cluster), so this asks
    its state module and falls back to None (totals minus this executor's own actors)."""
    try:
        from ray._private.state import state

        per_node = state.available_resources_per_node()
    except Exception:
        return None
    return per_node if isinstance(per_node, dict) else None
