"""Pre-started bwrap sandboxes (``bwrap_warm.py``): a run of a kind seen before finds its
sandbox set up, each sandbox still serves one run, files of any size arrive through the pipes,
deadlines count from the run's start, and nothing waits on after ``close()`` or after the
sandbox object is dropped."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import time

import pytest

from .conftest import bwrap_or_skip, host_processes_with, run


def _wait_until(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


SHOW = "import os, sys\nprint(os.getpid(), sys.argv[1], open('data.txt').read())\n"


def test_runs_of_one_kind_find_their_sandbox_ready_across_event_loops() -> None:
    sandbox = bwrap_or_skip(prestart=2)
    marker = f"turnrl-prestart-{os.getpid()}-a"
    files = {"main.py": SHOW}
    try:
        outputs = []
        for i in range(4):  # asyncio.run per call, as the rollout engine does
            result = run(sandbox.run(command=["python", "main.py", marker],
                                     files={**files, "data.txt": f"run {i}"}))
            assert result.status == "ok", result
            outputs.append(result.stdout.split())
            time.sleep(0.2)  # the next one is set up meanwhile
        # every run saw its own file and was PID 2 of a fresh PID namespace (bwrap's init is 1)
        assert [o[1:] for o in outputs] == [[marker, "run", str(i)] for i in range(4)]
        assert {o[0] for o in outputs} == {"2"}
        assert sandbox._warm.cold_starts == 1
        assert sandbox._warm.warm_starts == 3
        # two more of this kind wait, blocked before their program
        assert _wait_until(lambda: len(host_processes_with(marker)) >= 2)
    finally:
        run(sandbox.close())
    assert _wait_until(lambda: not host_processes_with(marker)), host_processes_with(marker)


def test_a_waiting_sandbox_is_not_shared_state_between_runs() -> None:
    sandbox = bwrap_or_skip(prestart=1)
    try:
        # (/tmp may hold the bound interpreter when it lives under /tmp, as on CI machines)
        code = ("import os\nprint(sorted(os.listdir('.')), os.path.exists('/tmp/left'))\n"
                "open('left.txt', 'w').write('x'); open('/tmp/left', 'w').write('x')\n")
        first, second = (run(sandbox.run(code)) for _ in range(2))
        assert first.stdout == second.stdout == "['main.py'] False\n"
    finally:
        run(sandbox.close())


@pytest.mark.parametrize("prestart", [0, 2])
def test_big_files_arrive_whole(prestart: int) -> None:
    sandbox = bwrap_or_skip(prestart=prestart)
    blob = os.urandom(3 << 20)  # far past a pipe's 64 KiB buffer
    code = ("import hashlib\nprint(hashlib.sha256(open('blob', 'rb').read()).hexdigest(), "
            "open('small').read())")
    try:
        for _ in range(2):
            result = run(sandbox.run(code, files={"blob": blob, "small": "tail"}))
            assert result.stdout.split() == [hashlib.sha256(blob).hexdigest(), "tail"]
    finally:
        run(sandbox.close())


def test_deadline_counts_from_the_run_not_from_the_set_up() -> None:
    sandbox = bwrap_or_skip(prestart=1)
    try:
        assert run(sandbox.run("print(1)", timeout=1.0)).status == "ok"
        time.sleep(1.5)  # the waiting sandbox is older than the next run's whole time-out
        result = run(sandbox.run("import time\ntime.sleep(0.3)\nprint('done')", timeout=1.0))
        assert (result.status, result.stdout) == ("ok", "done\n")
        assert sandbox._warm.warm_starts == 1
        late = run(sandbox.run("import time\ntime.sleep(5)", timeout=1.0))
        assert late.status == "timeout"
        assert 1.0 <= late.duration_s < 3.5
    finally:
        run(sandbox.close())


def test_cancelled_run_kills_its_sandbox() -> None:
    sandbox = bwrap_or_skip(prestart=1)
    marker = f"turnrl-prestart-{os.getpid()}-c"

    async def cancel_midway() -> None:
        task = asyncio.ensure_future(sandbox.run(
            command=["python", "-c", "import time; time.sleep(30)", marker], timeout=30))
        await asyncio.sleep(1.0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    try:
        run(cancel_midway())
        run(sandbox.release_waiting())
        assert _wait_until(lambda: not host_processes_with(marker)), host_processes_with(marker)
    finally:
        run(sandbox.close())


def test_dropping_the_sandbox_kills_what_waits() -> None:
    sandbox = bwrap_or_skip(prestart=2)
    marker = f"turnrl-prestart-{os.getpid()}-d"
    assert run(sandbox.run(command=["python", "-c", "pass", marker])).status == "ok"
    assert _wait_until(lambda: len(host_processes_with(marker)) >= 2), sandbox._warm.__dict__
    del sandbox
    gc.collect()
    assert _wait_until(lambda: not host_processes_with(marker)), host_processes_with(marker)


@pytest.mark.parametrize("files", [{}, {"x.txt": "x"}])
def test_a_waiting_sandbox_starts_its_program_only_when_its_run_comes(files) -> None:
    """With or without files to wait for, the program starts after ``run`` is called (the
    gate), reads that run's stdin, and each run's program runs once."""
    sandbox = bwrap_or_skip(prestart=1)
    program = ["python", "-c", "import sys, time; print(time.time(), sys.stdin.read())"]
    try:
        for i in range(3):
            time.sleep(0.5)  # the waiting sandbox is set up long before the run
            called = time.time()
            result = run(sandbox.run(command=program, files=files, stdin=f"in{i}"))
            started, seen = result.stdout.split()
            assert float(started) >= called
            assert seen == f"in{i}"
        assert sandbox._warm.warm_starts == 2
    finally:
        run(sandbox.close())
