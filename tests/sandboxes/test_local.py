"""The ``local`` backend (no isolation, trusted code only): same results and limits contract,
a fresh directory per run, one per session, and it says what it is."""

from __future__ import annotations

from turnrl.sandboxes import make_sandbox
from turnrl.sandboxes.local import LocalTrustedSandbox

from .conftest import run


def test_it_says_trusted_code_only() -> None:
    assert "TRUSTED code only" in (LocalTrustedSandbox.__doc__ or "") + (
        __import__("turnrl.sandboxes.local", fromlist=["x"]).__doc__ or "")
    assert make_sandbox("local").enforcement["isolation"] == "NONE (trusted code only)"


def test_runs_files_fetch_env_and_statuses(monkeypatch) -> None:
    monkeypatch.setenv("TURNRL_TEST_SECRET", "x")
    box = make_sandbox("local")
    result = run(box.run(
        "import os\nprint(open('in.txt').read(), os.environ.get('A'), "
        "'TURNRL_TEST_SECRET' in os.environ)\nopen('o/x.txt' if os.path.isdir('o') else "
        "'x.txt', 'w').write('y')", files={"in.txt": "hi"}, env={"A": "1"}, fetch=["x.txt"]))
    assert (result.status, result.stdout, result.files) == ("ok", "hi 1 False\n",
                                                            {"x.txt": b"y"})
    assert run(box.run("import sys; sys.exit(4)")).exit_code == 4
    slow = run(box.run("import time; time.sleep(10)", timeout=0.5))
    assert (slow.status, slow.exit_code) == ("timeout", None)
    flood = run(box.run("print('x' * 5000)", limits={"output_bytes": 1024}))
    assert (flood.status, flood.truncated, len(flood.stdout)) == ("output_limit", True, 1024)
    memory = run(box.run("x = bytearray(600 << 20)", limits={"memory_mb": 256}))
    assert memory.status == "memory"


def test_each_run_gets_a_fresh_directory_and_a_session_keeps_one() -> None:
    box = make_sandbox("local")

    async def play():
        first = await box.run("open('f', 'w').write('1')")
        second = await box.run("import os; print(os.path.exists('f'))")
        async with box.session() as session:
            await session.run("open('f', 'w').write('1')")
            kept = await session.run("print(open('f').read())")
        closed = await session.run("print(1)")
        await session.close()
        return first, second, kept, closed

    first, second, kept, closed = run(play())
    assert first.ok
    assert second.stdout == "False\n"
    assert kept.stdout == "1\n"
    assert closed.status == "sandbox_error"
