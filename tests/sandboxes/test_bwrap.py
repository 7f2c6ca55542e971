"""The ``bwrap`` backend against the real bubblewrap: results, limits, files, sessions, the
environment and interpreter it exposes, and that it never raises for a run that goes wrong."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading

import pytest

from turnrl.sandboxes import TORCH_LIMITS, Limits, SandboxUnavailable
from turnrl.sandboxes.bwrap import BwrapSandbox

from .conftest import bwrap_or_skip, run


def test_stdin_stdout_stderr_and_exit_code(bwrap) -> None:
    result = run(bwrap.run("import sys\nx = input()\nprint(x * 2)\nsys.stderr.write('e')\n"
                           "sys.exit(3)", stdin="ab\n"))
    assert (result.status, result.exit_code) == ("error", 3)
    assert (result.stdout, result.stderr, result.truncated) == ("abab\n", "e", False)
    assert 0 < result.duration_s < 10
    ok = run(bwrap.run("print('fine')"))
    assert (ok.status, ok.exit_code, ok.stdout) == ("ok", 0, "fine\n")


def test_signals_report_128_plus_n(bwrap) -> None:
    result = run(bwrap.run("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)"))
    assert (result.status, result.exit_code) == ("error", 128 + 11)


def test_timeout_kills_a_program_that_ignores_sigterm(bwrap) -> None:
    code = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: pass"
    result = run(bwrap.run(code, timeout=1.0))
    assert (result.status, result.exit_code) == ("timeout", None)
    assert result.duration_s < 1.0 + 2.5


def test_cpu_seconds_limit_is_a_timeout(bwrap) -> None:
    result = run(bwrap.run("while True: pass", timeout=30, limits={"cpu_seconds": 1}))
    assert result.status == "timeout"
    assert result.duration_s < 10


def test_memory_limit(bwrap) -> None:
    result = run(bwrap.run("x = bytearray(400 << 20)\nx[::4096] = b'1' * len(x[::4096])\n"
                           "print('survived')", limits={"memory_mb": 128}))
    assert result.status == "memory", result
    assert "survived" not in result.stdout


def test_memory_limit_without_cgroups_is_the_address_space() -> None:
    sandbox = bwrap_or_skip(cgroups=False)
    assert sandbox.enforcement["memory"] == "rlimit (address space)"
    result = run(sandbox.run("x = bytearray(400 << 20)", limits={"memory_mb": 128}))
    assert result.status == "memory", result
    assert result.stderr.strip().endswith("MemoryError")


def test_output_flood_is_cut_and_stopped(bwrap) -> None:
    result = run(bwrap.run("import sys\nwhile True: sys.stdout.write('x' * 65536)",
                           limits={"output_bytes": 100_000}, timeout=20))
    assert (result.status, result.exit_code, result.truncated) == ("output_limit", None, True)
    assert result.stdout == "x" * 100_000
    assert result.duration_s < 5


def test_files_in_and_fetch_out(bwrap) -> None:
    code = ("import os\nprint(open('data/in.txt').read())\nos.makedirs('res/deep')\n"
            "open('res/deep/a.bin', 'wb').write(bytes(range(256)))\n"
            "open('out.txt', 'w').write('done')")
    result = run(bwrap.run(code, files={"data/in.txt": b"hello"},
                           fetch=["out.txt", "res", "missing.txt"]))
    assert result.status == "ok", result
    assert result.stdout == "hello\n"
    assert result.files == {"out.txt": b"done", "res/deep/a.bin": bytes(range(256))}


def test_command_with_files_env_and_no_inherited_environment(bwrap, monkeypatch) -> None:
    monkeypatch.setenv("TURNRL_TEST_SECRET", "hunter2")
    harness = b"import os, sys\nprint(os.environ.get('MODE'), 'TURNRL_TEST_SECRET' in os.environ)"
    result = run(bwrap.run(command=["python", "harness.py", "x"], files={"harness.py": harness},
                           env={"MODE": "interpret"}))
    assert result.stdout == "interpret False\n", result
    environ = run(bwrap.run("print(open('/proc/1/environ').read())")).stdout
    assert "hunter2" not in environ
    assert "MODE" not in environ


def test_interpreter_is_this_venv_and_its_packages_import(bwrap) -> None:
    code = "import sys, pydantic\nprint(sys.prefix, sys.base_prefix, sys.version_info[:2])"
    result = run(bwrap.run(code))
    assert result.stdout.split()[:2] == [sys.prefix, sys.base_prefix], result


def test_host_view_is_minimal_and_read_only(bwrap) -> None:
    code = (
        "import os\n"
        "print(sorted(os.listdir('/')))\n"
        "print(os.path.exists(os.path.expanduser('~root') + '/.bashrc'), "
        "os.path.exists('/etc/shadow'), os.getuid())\n"
        "for path in ('/usr/x', '/etc/x', '/x'):\n"
        "    try:\n"
        "        open(path, 'w')\n"
        "        print('wrote', path)\n"
        "    except OSError as exc:\n"
        "        print('refused', exc.errno)\n"
    )
    result = run(bwrap.run(code))
    lines = result.stdout.splitlines()
    top = eval(lines[0])
    assert {"usr", "proc", "dev", "sandbox", "tmp", "etc"} <= set(top)
    assert not {"home", "var", "opt", "srv", "mnt"} & set(top)
    assert lines[1] == "False False 65534"
    assert lines[2:] == ["refused 30"] * 3  # EROFS


def test_no_network_even_to_the_hosts_loopback(bwrap) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    accepted: list[object] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True)
    thread.start()
    code = (f"import socket\ns = socket.socket()\ns.settimeout(2)\n"
            f"try:\n    s.connect(('127.0.0.1', {port}))\n    print('connected')\n"
            f"except OSError as exc:\n    print('refused')")
    try:
        result = run(bwrap.run(code))
    finally:
        listener.close()
    assert result.stdout == "refused\n"
    assert not accepted


def test_disk_cap_and_file_size_cap(bwrap) -> None:
    code = ("try:\n    open('big', 'wb').write(b'x' * (8 << 20))\n    print('fits')\n"
            "except OSError as exc:\n    print(exc.errno)")
    assert run(bwrap.run(code, limits={"disk_mb": 4})).stdout == "28\n"  # ENOSPC
    assert run(bwrap.run(code, limits={"file_size_mb": 1})).stdout == "27\n"  # EFBIG
    assert run(bwrap.run(code)).stdout == "fits\n"


def test_leftover_processes_die_with_the_run(bwrap) -> None:
    marker = f"turnrl-leftover-{os.getpid()}"
    code = ("import subprocess\n"
            f"subprocess.Popen(['setsid', 'sh', '-c', 'sleep 30; : {marker}'])\n"
            "print('started')")
    result = run(bwrap.run(code))
    assert result.stdout == "started\n"
    assert not _host_processes_with(marker)


def _host_processes_with(marker: str) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if marker.encode() in handle.read():
                        found.append(entry)
            except OSError:
                pass
    return found


def test_fork_bomb_is_capped_and_the_host_keeps_forking(bwrap) -> None:
    code = ("import os\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n"
            "            import time; time.sleep(20); os._exit(0)\n        n += 1\n"
            "except OSError:\n    print('capped at', n)")
    result = run(bwrap.run(code, limits={"processes": 16}, timeout=10))
    assert result.stdout.startswith("capped at"), result
    assert int(result.stdout.split()[-1]) <= 16
    assert result.duration_s < 8  # the leftovers were killed, not waited for


def test_concurrent_runs_do_not_see_each_other(bwrap) -> None:
    async def many():
        return await asyncio.gather(*(bwrap.run(
            f"import os\nopen('mine', 'w').write('{i}')\nimport time; time.sleep(0.2)\n"
            f"print(open('mine').read(), sorted(os.listdir('.')))") for i in range(8)))
    results = run(many())
    assert [r.stdout for r in results] == [f"{i} ['main.py', 'mine']\n" for i in range(8)]


def test_session_keeps_its_directory_and_survives_a_timeout(bwrap) -> None:
    async def play():
        async with bwrap.session() as session:
            first = await session.run("open('state.txt', 'w').write('1')")
            second = await session.run(
                "import time\nopen('state.txt', 'a').write('2')\ntime.sleep(30)", timeout=1)
            third = await session.run("print(open('state.txt').read())", fetch=["state.txt"])
            other = await bwrap.run("import os; print(os.path.exists('state.txt'))")
        after = await session.run("print(1)")
        await session.close()  # idempotent
        return first, second, third, other, after

    first, second, third, other, after = run(play())
    assert first.status == "ok"
    assert second.status == "timeout"
    assert third.stdout == "12\n"
    assert third.files == {"state.txt": b"12"}
    assert other.stdout == "False\n"
    assert after.status == "sandbox_error"
    assert "closed" in after.stderr


def test_a_failing_sandbox_is_a_result_not_an_exception(bwrap) -> None:
    broken = BwrapSandbox()
    broken._base_args = [*broken._base_args, "--ro-bind", "/does/not/exist", "/x"]
    result = run(broken.run("print(1)"))
    assert result.status == "sandbox_error"
    assert "/does/not/exist" in result.stderr


def test_missing_bwrap_says_how_to_install_it() -> None:
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        BwrapSandbox(bwrap="/nonexistent/bwrap")


def test_pyenv_style_shim_is_resolved_to_the_real_binary(tmp_path) -> None:
    from turnrl.sandboxes.interpreter import resolve_interpreter

    shim = tmp_path / "python"
    shim.write_text(f"#!/bin/sh\nexec {sys.executable} \"$@\"\n")
    shim.chmod(0o755)
    resolved = resolve_interpreter(str(shim))
    assert resolved.executable == sys.executable
    home = os.path.realpath(os.path.expanduser("~"))
    assert all(os.path.realpath(b) not in (home, "/root", "/") for b in resolved.binds)


@pytest.mark.slow
def test_import_torch_under_the_default_limits(bwrap) -> None:
    pytest.importorskip("torch")
    code = "import torch\nprint(torch.ones(3).sum().item())"
    result = run(bwrap.run(code, timeout=120))
    assert (result.status, result.stdout) == ("ok", "3.0\n"), result


@pytest.mark.slow
def test_import_torch_and_triton_with_rlimits_only_needs_torch_limits() -> None:
    pytest.importorskip("triton")
    sandbox = bwrap_or_skip(cgroups=False)
    code = "import torch, triton\nprint(torch.arange(4).sum().item())"
    result = run(sandbox.run(code, timeout=120, limits=TORCH_LIMITS,
                             env={"TRITON_INTERPRET": "1"}))
    assert (result.status, result.stdout) == ("ok", "6\n"), result
    # why TORCH_LIMITS exists: under a 512 MB address space torch's import fails, or hangs on
    # a thread pool whose threads could not be created, until the timeout
    small = run(sandbox.run("import torch", timeout=20, limits=Limits(memory_mb=512)))
    assert small.status in ("memory", "error", "timeout"), small
