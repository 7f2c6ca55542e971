"""Starting, joining and leaving Ray clusters -- without touching anybody else's.

``connect`` is what the executor uses (see ``turnrl.executors.ray``). ``LocalCluster`` starts
a head and worker nodes as separate processes on loopback addresses (``HEAD_IP``; each
``ray start --block`` in a session of its own), the shape of a real multi-node cluster on one
machine: the slow tests, the benchmark and anyone trying the multi-node recipe use it. It
stops exactly the processes it started, by their process groups. Never ``ray stop`` on a
shared machine: that kills every Ray process of every user.

Environment defaults (set only where unset, before Ray is imported where this module imports
it; Ray reads them at import): ``RAY_USAGE_STATS_ENABLED=0`` (no phoning home),
``RAY_AUTH_MODE=disabled`` (a cluster with token auth needs ``RAY_AUTH_MODE`` and the token set
on every node and on the driver). A private local cluster binds to a loopback address
(``HEAD_IP``), not to the host's network address. ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``,
which some guides suggest for that, also forbids worker nodes from joining: it is not set.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from turnrl.executors import ExecutorUnavailable

RAY_ENV_DEFAULTS = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "disabled",
}


def import_ray() -> Any:
    for key, value in RAY_ENV_DEFAULTS.items():
        os.environ.setdefault(key, value)
    try:
        import ray
    except ImportError:
        raise ExecutorUnavailable("rollout.executor 'ray' needs Ray: pip install "
                                  "'turnrl[ray]'") from None
    return ray


def ray_env() -> dict[str, str]:
    """This process's environment with the defaults above filled in (for ``ray start``)."""
    return {**RAY_ENV_DEFAULTS, **os.environ}


def short_temp_dir() -> str:
    """A fresh directory under /tmp: Ray's unix sockets live below it, and socket paths are
    limited to ~107 bytes, so a deep pytest ``tmp_path`` would not do."""
    return tempfile.mkdtemp(prefix="trl-ray-", dir="/tmp")

HEAD_IP = "127.0.0.2"
"""Every node of a ``LocalCluster`` has a loopback address of its own (Linux routes all of
127/8 to the loopback device): head 127.0.0.2, worker ``i`` 127.0.0.``i+3``. Not 127.0.0.1:
Ray rewrites exactly that (and ``localhost``) to the host's network address, in ``ray start``
and in a driver's ``ray.init(address=...)`` alike, unless ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``
-- which also makes worker nodes refuse to start."""


class Connection:
    """This process's link to a cluster: started here (``owned``), joined, or borrowed from
    a ``ray.init`` the caller had already made."""

    def __init__(self, ray: Any, mode: str, temp_dir: str | None = None) -> None:
        self.ray = ray
        self.mode = mode  # "started", "joined" or "borrowed"
        self.temp_dir = temp_dir

    def nodes(self) -> list[dict[str, Any]]:
        return [n for n in self.ray.nodes() if n.get("Alive")]

    def describe(self) -> dict[str, Any]:
        return {"mode": self.mode, "nodes": [
            {"address": n.get("NodeManagerAddress"), "node_id": n["NodeID"],
             "resources": {k: v for k, v in n.get("Resources", {}).items()
                           if not k.startswith("node:")}} for n in self.nodes()]}

    def close(self) -> None:
        if self.mode in ("started", "joined") and self.ray.is_initialized():
            self.ray.shutdown()  # a started cluster's processes go with it; a joined one stays
        if self.temp_dir:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
        self.mode = "closed"


def connect(address: str | None, *, num_cpus: int | None = None, namespace: str = "turnrl",
            log_to_driver: bool = True) -> Connection:
    """Join or start a cluster (``turnrl.executors.ray`` describes ``address``)."""
    ray = import_ray()
    if ray.is_initialized():
        return Connection(ray, "borrowed")
    if address is None:
        address = os.environ.get("RAY_ADDRESS") or "local"
    common = {"namespace": namespace, "log_to_driver": log_to_driver,
              "logging_level": "warning"}
    if address == "local":
        temp_dir = short_temp_dir()
        try:
            ray.init(address="local", num_cpus=num_cpus, include_dashboard=False,
                     _temp_dir=temp_dir, _node_ip_address=HEAD_IP, **common)
        except Exception:
            shutil.rmtree(temp_dir, ignore_errors=True)
            raise
        return Connection(ray, "started", temp_dir)
    if num_cpus is not None:
        raise ExecutorUnavailable(f"rollout.ray.num_cpus sizes a local cluster; the cluster at "
                                  f"{address!r} has its own nodes (set their CPUs with "
                                  f"`ray start --num-cpus`)")
    try:
        ray.init(address=address, **common)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise ExecutorUnavailable(f"could not join the Ray cluster at {address!r}: "
                                  f"{first}") from None
    return Connection(ray, "joined")


# ---------------------------------------------------------------------------- local clusters
class LocalCluster:
    """A head node and worker nodes, each a ``ray start --block`` process (and its children)
    in a session of its own, on loopback addresses; ``address`` is what a driver joins.

    ``workers``: one dict per worker node of ``ray start`` settings (``num_cpus``,
    ``resources``); ``system_config``: the head's ``--system-config`` (tests shorten the
    health checks so a killed node is declared dead in seconds, not half a minute).
    """

    def __init__(self, *, head_cpus: float = 1, workers: list[dict[str, Any]] | None = None,
                 system_config: dict[str, Any] | None = None) -> None:
        self.head_cpus = head_cpus
        self.worker_specs = workers if workers is not None else [{"num_cpus": 1}]
        self.system_config = system_config
        self.temp_dir = ""
        self.port = 0
        self.head: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []

    @property
    def address(self) -> str:
        return f"{HEAD_IP}:{self.port}"

    def start(self, timeout_s: float = 180.0) -> LocalCluster:
        import json

        self.temp_dir = short_temp_dir()
        self.port = _free_port(HEAD_IP)
        args = ["--head", f"--port={self.port}", f"--num-cpus={self.head_cpus}",
                "--include-dashboard=false", "--disable-usage-stats",
                *_port_args(HEAD_IP, HEAD_PORTS)]
        if self.system_config:
            args.append(f"--system-config={json.dumps(self.system_config)}")
        self.head = self._ray_start(args, "head", HEAD_IP)
        _wait_port(HEAD_IP, self.port, timeout_s, self.head, self._log("head"))
        for i, spec in enumerate(self.worker_specs):
            self.workers.append(self._start_worker(i, spec, timeout_s))
        return self

    def _start_worker(self, i: int, spec: dict[str, Any], timeout_s: float
                      ) -> subprocess.Popen[bytes]:
        """One worker node, started after the previous one is up: ``ray start`` gives a node
        a fixed 30 s to register with the head, which a loaded machine can miss when several
        start at once; a start that gave up is tried again (fresh ports), twice at most."""
        import json

        ip = f"127.0.0.{i + 3}"
        for attempt in range(3):
            args = [f"--address={self.address}", f"--num-cpus={spec.get('num_cpus', 1)}",
                    *_port_args(ip, NODE_PORTS)]
            if spec.get("resources"):
                args.append(f"--resources={json.dumps(spec['resources'])}")
            name = f"worker{i}" + (f".retry{attempt}" if attempt else "")
            proc = self._ray_start(args, name, ip)
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                if "Ray runtime started" in self._log(name).read_text(errors="replace"):
                    return proc
                if proc.poll() is not None:
                    break  # timed out registering (or failed): try again
                time.sleep(0.3)
            _kill_group(proc, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        raise RuntimeError(f"worker node {i} did not start in 3 tries: "
                           f"{self._log(name).read_text(errors='replace')[-1500:]}")

    def _log(self, name: str) -> Path:
        return Path(self.temp_dir) / f"{name}.out"

    def _ray_start(self, args: list[str], name: str, ip: str) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "ray.scripts.scripts", "start", "--block",
               f"--node-ip-address={ip}", f"--temp-dir={self.temp_dir}", *args]
        with self._log(name).open("wb") as out:
            return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=ray_env(),
                                    start_new_session=True)

    def wait_for_nodes(self, ray: Any, count: int, timeout_s: float = 180.0) -> None:
        """Block until ``count`` nodes are alive (call after ``ray.init(address)``)."""
        deadline = time.monotonic() + timeout_s
        while True:
            alive = sum(bool(n.get("Alive")) for n in ray.nodes())
            if alive >= count:
                return
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {p.name}: ...{p.read_text(errors='replace')[-1500:]}"
                                  for p in sorted(Path(self.temp_dir).glob("*.out")))
                raise TimeoutError(f"{alive} of {count} Ray nodes alive after {timeout_s:g}s"
                                   f"\n{logs}")
            time.sleep(0.5)

    def kill_worker(self, index: int) -> None:
        """The node leaves at once: SIGKILL to its whole process group (raylet, workers)."""
        _kill_group(self.workers[index], signal.SIGKILL)

    def stop(self) -> None:
        """Stop every process this cluster started (workers first), then remove its files."""
        procs = [*self.workers, *([self.head] if self.head else [])]
        for proc in procs:
            _kill_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
        for proc in procs:  # whatever did not stop (and stray children) goes now
            _kill_group(proc, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        deadline = time.monotonic() + 5  # killed children take a moment to be gone
        while self.leftovers() and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.temp_dir:
            shutil.rmtree(self.temp_dir, ignore_errors=True)

    def leftovers(self) -> list[int]:
        """Live (not zombie) processes still in this cluster's process groups: [] after
        ``stop()``, or something escaped it."""
        groups = {p.pid for p in [*self.workers, *([self.head] if self.head else [])]}
        alive = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if fields[0] != "Z" and int(fields[2]) in groups:
                    alive.append(int(stat.parent.name))
        return alive

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _kill_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)  # start_new_session: the group id is the process id


# Ports Ray would otherwise take at fixed defaults (10001, 8265, 52365, ...): two clusters on
# one machine -- other users', or a head and its workers -- would collide on them.
NODE_PORTS = ("node-manager-port", "object-manager-port", "dashboard-agent-listen-port",
              "dashboard-agent-grpc-port", "runtime-env-agent-port", "metrics-export-port")
HEAD_PORTS = (*NODE_PORTS, "ray-client-server-port", "dashboard-port")


def _port_args(ip: str, names: tuple[str, ...]) -> list[str]:
    return [f"--{name}={_free_port(ip)}" for name in names]


def _free_port(ip: str) -> int:
    with socket.socket() as s:
        s.bind((ip, 0))
        return int(s.getsockname()[1])


def _wait_port(host: str, port: int, timeout_s: float, proc: subprocess.Popen[bytes],
               log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"`ray start` exited with {proc.returncode}: "
                               f"{log.read_text(errors='replace')[-2000:]}")
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.3)
    raise TimeoutError(f"the Ray head did not listen on {host}:{port} within {timeout_s:g}s")
