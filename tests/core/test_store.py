"""Episode store: durable appends, torn-line tolerance, resume by id."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from turnrl.core.store import EpisodeStore
from turnrl.core.types import Episode, Observation, Step, Task


def _episode(i: int, status: str = "ok") -> Episode:
    task = Task(env="toy-env", id=f"t{i}", seed=i)
    steps = [Step(observation=Observation(f"o{i}"), action="go north", reward=1.0,
                  prompt_ids=[1, 2], response_ids=[3], response_logprobs=[-0.5])]
    return Episode(id=f"e{i}", group_id=f"g{i}", task=task, steps=steps, status=status,  # type: ignore[arg-type]
                   error="boom" if status != "ok" else "")


def test_round_trip_and_ids(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "episodes.jsonl"
    with EpisodeStore(path) as store:
        for i in range(3):
            store.append(_episode(i, "env_error" if i == 1 else "ok"))
    back = EpisodeStore(path).read()
    assert [e.to_dict() for e in back] == [_episode(i, "env_error" if i == 1 else "ok").to_dict()
                                           for i in range(3)]
    assert EpisodeStore(path).ids() == {"e0", "e1", "e2"}
    assert len(path.read_text().splitlines()) == 3


def test_every_append_is_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    store = EpisodeStore(tmp_path / "e.jsonl")
    store.append(_episode(0))
    # durable before append returns: a second handle sees the complete line
    assert EpisodeStore(tmp_path / "e.jsonl").ids() == {"e0"}
    store.append(_episode(1))
    store.close()
    assert len(calls) == 2


def test_torn_last_line_is_skipped_then_cut_on_next_append(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    with EpisodeStore(path) as s:
        s.append(_episode(0))
    full = json.dumps(_episode(1).to_dict())
    with path.open("a") as fh:
        fh.write(full[: len(full) // 2])  # a crash in the middle of a write
    assert EpisodeStore(path).ids() == {"e0"}
    with EpisodeStore(path) as s:
        s.append(_episode(2))
    assert EpisodeStore(path).ids() == {"e0", "e2"}
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_complete_last_record_without_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps(_episode(0).to_dict()))  # no trailing newline
    with EpisodeStore(path) as s:
        s.append(_episode(1))
    assert EpisodeStore(path).ids() == {"e0", "e1"}


def test_corrupt_line_in_the_middle_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps(_episode(0).to_dict()) + "\n{not json\n"
                    + json.dumps(_episode(1).to_dict()) + "\n")
    with pytest.raises(ValueError, match="line 2 is not valid JSON"):
        EpisodeStore(path).read()


def test_missing_file_reads_empty(tmp_path: Path) -> None:
    assert EpisodeStore(tmp_path / "none.jsonl").read() == []


def test_rollout_fsyncs_in_batches_off_the_event_loop(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow disk (0.1 s per fsync) neither stalls the loop nor costs an fsync per episode."""
    import asyncio
    import threading
    import time

    import turnrl
    from turnrl.core.rollout import run_groups
    from turnrl.inference import make_policy

    fsyncs: list[str] = []
    real = os.fsync

    def slow_fsync(fd: int) -> None:
        fsyncs.append(threading.current_thread().name)
        time.sleep(0.1)
        real(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    tasks = turnrl.tasks("toy-env", "valid")[:16]

    async def go() -> tuple[list, float]:
        worst = 0.0
        done = asyncio.Event()

        async def beat() -> None:
            nonlocal worst
            while not done.is_set():
                t = time.perf_counter()
                await asyncio.sleep(0.005)
                worst = max(worst, time.perf_counter() - t - 0.005)

        task = asyncio.create_task(beat())
        groups = await run_groups("toy-env", tasks, make_policy("scripted:gold"), group_size=4,
                                  store=str(tmp_path / "e.jsonl"))
        done.set()
        await task
        return groups, worst

    groups, worst = asyncio.run(go())
    assert sum(len(g.episodes) for g in groups) == 64
    assert len(EpisodeStore(tmp_path / "e.jsonl").ids()) == 64  # all durable on return
    assert 1 <= len(fsyncs) < 16  # batched: far fewer fsyncs than the 64 episodes
    assert all(name.startswith("turnrl-store-") for name in fsyncs)  # never the loop's thread
    assert worst < 0.08  # the loop never waited on a 0.1 s fsync


def test_acknowledged_means_written_and_fsynced(tmp_path: Path) -> None:
    acked: list[list[str]] = []
    store = EpisodeStore(tmp_path / "e.jsonl", flush_interval_s=0.2, on_durable=acked.append)
    store.append_many([_episode(0), _episode(1)], wait=False)
    store.append(_episode(2), wait=False)
    assert store.acknowledged == 0  # still collecting the batch
    store.flush()
    assert store.acknowledged == 3
    assert acked == [["e0", "e1", "e2"]]  # one batch, in append order
    assert EpisodeStore(tmp_path / "e.jsonl").ids() == {"e0", "e1", "e2"}
    store.append(_episode(3))  # wait=True: acknowledged on return
    assert store.acknowledged == 4
    store.close()


def test_a_write_error_reaches_the_appender(tmp_path: Path) -> None:
    (tmp_path / "dir.jsonl").mkdir()  # opening a directory for append fails
    store = EpisodeStore(tmp_path / "dir.jsonl")
    with pytest.raises(OSError, match="writing episodes failed"):
        store.append(_episode(0))


KILL_SCRIPT = r"""
import asyncio, sys
import turnrl
from turnrl.core.rollout import run_groups
from turnrl.core.store import EpisodeStore
from turnrl.inference import make_policy

def durable(ids):
    sys.stdout.write("".join(f"ACK {i}\n" for i in ids))
    sys.stdout.flush()

store = EpisodeStore(sys.argv[1], flush_interval_s=0.02, on_durable=durable)
tasks = turnrl.tasks("toy-env", "train")
asyncio.run(run_groups("toy-env", tasks * 40, make_policy("scripted:random"), group_size=4,
                       store=store))
print("FINISHED", flush=True)
"""


def test_kill_9_keeps_every_acknowledged_episode(tmp_path: Path) -> None:
    """A real subprocess rolls out (~40k episodes) and prints each id once acknowledged; after
    a few hundred acknowledgements it is killed with SIGKILL; every printed id is in the file."""
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "e.jsonl"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(path)],
                            stdout=subprocess.PIPE, text=True, env=env)
    acked: list[str] = []
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    while len(acked) < 400 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, "the rollout ended before it was killed"
        assert not line.startswith("FINISHED")
        acked.append(line.split()[1])
    proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=30)  # acknowledgements printed before the kill landed
    acked += [ln.split()[1] for ln in rest.splitlines() if ln.startswith("ACK ")]
    assert proc.returncode == -signal.SIGKILL
    assert len(acked) >= 400
    stored = EpisodeStore(path).ids()  # tolerates a torn last line
    missing = set(acked) - stored
    assert not missing, f"{len(missing)} acknowledged episodes lost, e.g. {sorted(missing)[:3]}"
    assert len(stored) < 40 * len(__import__("turnrl").tasks("toy-env", "train")) * 4
