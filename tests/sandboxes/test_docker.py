"""The ``docker`` backend against a real Docker engine (tier ``docker``): the same contract as
bwrap, the container's hardening as the engine reports it, the warm pool, sessions, and the
reaping of containers a dead process left behind."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest

from turnrl.sandboxes import SandboxUnavailable

from .conftest import run, unavailable

pytestmark = pytest.mark.docker


def docker_or_skip(**options: Any) -> Any:
    try:
        import docker  # noqa: F401
    except ImportError:
        unavailable("the docker SDK is not installed", "TURNRL_REQUIRE_DOCKER")
    from turnrl.sandboxes.docker_backend import DockerSandbox

    try:
        return DockerSandbox(**options)
    except SandboxUnavailable as exc:
        unavailable(f"docker sandbox unavailable: {exc}", "TURNRL_REQUIRE_DOCKER")


@pytest.fixture(scope="module")
def docker_box() -> Any:
    box = docker_or_skip(pool_size=2)
    yield box
    run(box.close())


def test_results_statuses_files_and_env(docker_box, monkeypatch) -> None:
    monkeypatch.setenv("TURNRL_TEST_SECRET", "hunter2")

    async def play():
        return await asyncio.gather(
            docker_box.run("import sys\nprint(input() * 2)\nsys.stderr.write('e')",
                           stdin="ab\n"),
            docker_box.run("import sys; sys.exit(3)"),
            docker_box.run("import time; time.sleep(30)", timeout=1),
            docker_box.run("import sys\nwhile True: sys.stdout.write('x' * 65536)",
                           limits={"output_bytes": 50_000}),
            docker_box.run(command=["python", "h.py"], env={"MODE": "m"},
                           files={"h.py": "import os\nprint(os.environ.get('MODE'), "
                                          "'TURNRL_TEST_SECRET' in os.environ)\n"
                                          "open('out/x.txt' if os.path.isdir('out') else "
                                          "'x.txt', 'w').write('y')"},
                           fetch=["x.txt", "nope"]),
        )

    ok, error, timeout, flood, command = run(play())
    assert (ok.status, ok.stdout, ok.stderr) == ("ok", "abab\n", "e")
    assert (error.status, error.exit_code) == ("error", 3)
    assert (timeout.status, timeout.exit_code) == ("timeout", None)
    assert timeout.duration_s < 1 + 6
    assert (flood.status, flood.truncated, len(flood.stdout)) == ("output_limit", True, 50_000)
    assert (command.status, command.stdout) == ("ok", "m False\n")
    assert command.files == {"x.txt": b"y"}


def test_memory_processes_and_disk_limits(docker_box) -> None:
    async def play():
        memory = await docker_box.run("x = bytearray(700 << 20)\nx[::4096] = b'1' * "
                                      "len(x[::4096])\nprint('survived')")
        bomb = await docker_box.run(
            "import os, time\nn = 0\ntry:\n    while n < 1000:\n        if os.fork() == 0:\n"
            "            time.sleep(20); os._exit(0)\n        n += 1\nexcept OSError:\n"
            "    pass\nprint(n)", limits={"processes": 16}, timeout=10)
        disk = await docker_box.run(
            "try:\n    with open('big', 'wb') as f:\n        for _ in range(300):\n"
            "            f.write(b'x' * (1 << 20))\nexcept OSError as e:\n    print(e.errno)",
            limits={"file_size_mb": 1024})
        return memory, bomb, disk

    memory, bomb, disk = run(play())
    assert memory.status == "memory", memory
    assert "survived" not in memory.stdout
    assert bomb.status == "ok"
    assert int(bomb.stdout) <= 16
    assert disk.stdout == "28\n"  # ENOSPC: the 256 MB tmpfs, not the file size limit


def test_container_is_hardened(docker_box) -> None:
    async def inspect():
        container = await docker_box.pool.acquire()
        try:
            await asyncio.to_thread(container.reload)
            return container.attrs["HostConfig"], container.attrs["Config"]
        finally:
            await docker_box.pool.release(container, healthy=True)

    host, config = run(inspect())
    assert host["NetworkMode"] == "none"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["Memory"] == 512 << 20
    assert host["MemorySwap"] == 512 << 20
    assert host["PidsLimit"] == 64 + 3
    assert host["NanoCpus"] == 1_000_000_000
    assert set(host["Tmpfs"]) == {"/sandbox", "/tmp"}
    assert config["User"] == "65534:65534"
    assert config["Labels"]["turnrl.sandbox"] == "1"
    seen = run(docker_box.run("import os, socket\nprint(os.getuid(), "
                              "[n for _, n in socket.if_nameindex()])"))
    assert seen.stdout == "65534 ['lo']\n"


def test_reused_containers_start_clean(docker_box) -> None:
    async def play():
        results = []
        for i in range(6):  # more runs than containers: containers are reused
            results.append(await docker_box.run(
                f"import os, subprocess\nprint(sorted(os.listdir('.')), sorted(os.listdir("
                f"'/tmp')))\nopen('left-{i}', 'w').write('x')\nopen('/tmp/t-{i}', 'w')\n"
                f"subprocess.Popen(['sleep', '60'])"))
        return results

    results = run(play())
    assert [r.stdout for r in results] == ["['main.py'] []\n"] * 6


def test_session_keeps_one_container(docker_box) -> None:
    async def play():
        async with docker_box.session() as session:
            first = await session.run("open('state', 'w').write('1')")
            timed = await session.run("open('state', 'a').write('2')\nimport time\n"
                                      "time.sleep(30)", timeout=1)
            third = await session.run("print(open('state').read())", fetch=["state"])
            container = session.container
        after = await session.run("print(1)")
        await session.close()
        return first, timed, third, after, container

    first, timed, third, after, container = run(play())
    assert (first.status, timed.status) == ("ok", "timeout")
    assert (third.stdout, third.files) == ("12\n", {"state": b"12"})
    assert after.status == "sandbox_error"
    import docker

    with pytest.raises(docker.errors.NotFound):
        docker_box.client.containers.get(container.id)


def test_a_dead_session_container_is_a_sandbox_error(docker_box) -> None:
    async def play():
        session = docker_box.session()
        await session.run("print(1)")
        await asyncio.to_thread(session.container.remove, force=True)
        result = await session.run("print(2)")
        await session.close()
        return result

    result = run(play())
    assert result.status == "sandbox_error"


def test_warm_pool_beats_cold_containers() -> None:
    warm = docker_or_skip(pool_size=2)
    cold = docker_or_skip(pool_size=0)

    async def timed(box, n):
        start = time.perf_counter()
        for _ in range(n):
            assert (await box.run("print(1)")).ok
        return (time.perf_counter() - start) / n

    async def play():
        await warm.warm_up()
        try:
            return await timed(warm, 6), await timed(cold, 3)
        finally:
            await warm.close()
            await cold.close()

    warm_s, cold_s = run(play())
    assert warm_s < cold_s


def test_orphans_of_a_dead_process_are_reaped(docker_box) -> None:
    from turnrl.sandboxes.docker_pool import LABEL, reap_orphans

    client = docker_box.client
    dead = client.containers.run(docker_box.options.image, ["sleep", "60"], detach=True,
                                 labels={LABEL: "1", f"{LABEL}.host": os.uname().nodename,
                                         f"{LABEL}.pid": "999999999", f"{LABEL}.start": "1"})
    assert reap_orphans(client) >= 1
    import docker

    with pytest.raises(docker.errors.NotFound):
        client.containers.get(dead.id)
    # the module's own warm containers belong to a live process and survive
    run(docker_box.run("print(1)"))
