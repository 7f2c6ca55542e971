"""The built-in sandbox backends, registered like a third party's (``turnrl_register_sandboxes``).

Targets are ``"module:attr"`` strings: nothing is imported (docker SDK, aiohttp client) until a
backend is built.
"""

from __future__ import annotations

from collections.abc import Callable

from turnrl.core.hookspecs import hookimpl


@hookimpl
def turnrl_register_sandboxes(register: Callable[..., None]) -> None:
    register("bwrap", "turnrl.sandboxes.bwrap:BwrapSandbox",
             description="bubblewrap namespaces, no network, read-only host view (default)")
    register("docker", "turnrl.sandboxes.docker_backend:DockerSandbox",
             description="a real Docker engine: warm container pool, no network, read-only root")
    register("sandbox-fusion", "turnrl.sandboxes.fusion:SandboxFusionSandbox",
             description="a remote SandboxFusion server (POST /run_code)")
    register("local", "turnrl.sandboxes.local:LocalTrustedSandbox",
             description="NO isolation (rlimits only): trusted code only")
