"""Resource declarations (``core.resources``): parsing, a worker's totals, declarations as
functions of the options, sandbox backends adding their share, every built-in environment
declaring its needs, and the room arithmetic the pool places actors by (no Ray here)."""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import pytest

from turnrl.core.host import PluginHost, get_host
from turnrl.core.resources import EnvResources, resources_for, with_sandbox
from turnrl.executors.ray.pool import _room


def test_a_mapping_parses_known_keys_and_keeps_the_rest_as_custom_resources() -> None:
    r = EnvResources.parse({"cpus": 0.5, "memory_mb": 300, "browser": 1, "per_actor": 4})
    assert (r.cpus, r.memory_mb, r.gpus, r.per_actor) == (0.5, 300, 0.0, 4)
    assert r.custom == {"browser": 1}
    # one worker hosts four instances: it reserves four times one instance's needs
    assert r.actor() == {"cpus": 2.0, "gpus": 0.0, "memory": 1200 * 2**20,
                         "custom": {"browser": 4}}
    assert r.to_dict() == {"cpus": 0.5, "memory_mb": 300, "gpus": 0.0, "per_actor": 4,
                           "browser": 1}


@pytest.mark.parametrize(("bad", "message"), [
    ({"cpus": -1}, r"resources\.cpus must be a number >= 0, got -1"),
    ({"gpus": float("nan")}, r"resources\.gpus must be a number >= 0"),
    ({"per_actor": 0}, r"resources\.per_actor must be an integer >= 1, got 0"),
    ({"per_actor": 2.5}, r"resources\.per_actor must be an integer >= 1"),
    ({"browser": 0}, r"resources\.browser must be a number > 0, got 0"),
    ({"memory_mb": True}, r"resources\.memory_mb must be a number"),
    ([1, 2], r"resources must be a mapping"),
])
def test_bad_declarations_are_refused_in_one_line(bad: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EnvResources.parse(bad)


def test_a_bad_declaration_fails_the_plugins_registration() -> None:
    class Plugin:
        from turnrl.core.hookspecs import hookimpl

        @hookimpl
        def turnrl_register_envs(self, register: Any) -> None:
            register("greedy", "tests.executors.envs:SleepEnv", tasks=lambda split: [],
                     resources={"cpus": -2})

    host = PluginHost(builtins=(), entry_point_group=None)
    host.register_plugin(Plugin(), "greedy-plugin")
    assert "greedy" not in host.envs
    assert any("resources.cpus must be a number >= 0" in str(e) for e in host.errors.values())


def test_where_a_declaration_is_found() -> None:
    class Declared:
        resources: ClassVar[dict[str, int]] = {"cpus": 2, "per_actor": 1}

    def by_backend(*, backend: str = "a", **_: Any) -> dict[str, Any]:
        return {"a": {"cpus": 0.1}, "b": {"cpus": 3}}[backend]

    # the registration wins; a function gets the environment's options
    assert resources_for({"resources": by_backend}, Declared, {"backend": "b"}).cpus == 3
    assert resources_for({"resources": by_backend}, Declared, {}).cpus == 0.1
    # else the factory's attribute, also through functools.partial
    assert resources_for({}, functools.partial(Declared)).cpus == 2
    # else one CPU and a worker of its own
    assert resources_for({}, object) == EnvResources()


def test_every_built_in_environment_declares_its_needs() -> None:
    host = get_host()
    for name, spec in host.envs.items():
        if spec.plugin.startswith("turnrl.plugins."):
            assert "resources" in spec.extras, f"{name} declares no resources"


def test_sandboxed_environments_add_their_sandbox_backends_needs() -> None:
    host = get_host()

    def needs(env: str, **options: Any) -> EnvResources:
        spec = host.env(env)
        return resources_for(spec.extras, spec.factory, options)

    bwrap = needs("code")
    docker = needs("code", sandbox="docker")
    assert bwrap.custom == {}
    assert bwrap.memory_mb == 150 + 512  # the env's own + one sandbox run's memory cap
    assert docker.custom == {"docker": 1}  # only nodes with a Docker engine host it
    assert needs("code", sandbox="sandbox-fusion").memory_mb == 150  # a remote server
    assert needs("kernel").gpus == 0
    cuda = needs("kernel", device="cuda", memory_mb=4096)
    assert (cuda.gpus, cuda.cpus, cuda.per_actor, cuda.memory_mb) == (1, 1, 1, 4096 + 512)
    assert needs("gui").custom == {"browser": 1}
    assert needs("alfworld", backend="textworld").per_actor == 1
    assert needs("alfworld").per_actor == 8
    # an unknown sandbox adds nothing: making the environment names the problem
    assert with_sandbox({"cpus": 1}, "no-such-sandbox", host) == {"cpus": 1}


def test_room_counts_actors_by_their_scarcest_resource() -> None:
    browser = EnvResources.parse({"cpus": 0.5, "browser": 1, "per_actor": 4}).actor()
    assert _room({"CPU": 8.0, "browser": 16.0}, browser) == 4  # 16 browsers / 4 per actor
    assert _room({"CPU": 3.0, "browser": 16.0}, browser) == 1  # 3 CPUs / 2 per actor
    assert _room({"CPU": 64.0}, browser) == 0  # a node without browsers hosts none
    gpu = EnvResources.parse({"cpus": 1, "gpus": 1, "per_actor": 1}).actor()
    assert _room({"CPU": 16.0, "GPU": 2.0}, gpu) == 2
    assert _room({"CPU": 16.0}, gpu) == 0
    # needs nothing countable: as many as wanted
    assert _room({}, EnvResources.parse({"cpus": 0}).actor()) > 1000
