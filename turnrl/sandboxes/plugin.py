"""The built-in sandbox backends, registered like a third party's (``turnrl_register_sandboxes``).

Targets are ``"module:attr"`` strings: nothing is imported (docker SDK, aiohttp client) until a
backend is built. ``resources`` is what one environment instance's runs add to its needs on a
cluster node (``core.resources.with_sandbox``): a bwrap run's default memory cap, a Docker
engine (only nodes started with ``--resources '{"docker": N}'`` have one), nothing for a
remote server.
"""

from __future__ import annotations

from collections.abc import Callable

from turnrl.core.hookspecs import hookimpl


@hookimpl
def turnrl_register_sandboxes(register: Callable[..., None]) -> None:
    register("bwrap", "turnrl.sandboxes.bwrap:BwrapSandbox",
             description="bubblewrap namespaces, no network, read-only host view (default)",
             resources={"memory_mb": 512})
    register("docker", "turnrl.sandboxes.docker_backend:DockerSandbox",
             description="a real Docker engine: warm container pool, no network, read-only root",
             resources={"docker": 1, "memory_mb": 512})
    register("sandbox-fusion", "turnrl.sandboxes.fusion:SandboxFusionSandbox",
             description="a remote SandboxFusion server (POST /run_code)")
    register("local", "turnrl.sandboxes.local:LocalTrustedSandbox",
             description="NO isolation (rlimits only): trusted code only",
             resources={"memory_mb": 512})
