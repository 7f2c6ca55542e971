"""``distributed()``: ranks join, work, leave the process group together and exit normally.

Without the final barrier + ``destroy_process_group`` a gloo rank could abort at interpreter
exit ("terminate called without an active exception") after finishing its work; these ranks
exit through the normal interpreter teardown, several times over, and must all return 0.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import pytest

RANK_SCRIPT = textwrap.dedent("""
    import sys
    import torch
    import torch.distributed as dist
    from turnrl.trainers.fsdp import distributed

    with distributed() as info:
        assert info.initialised and info.owns_group and info.world == 2
        total = torch.tensor([float(info.rank + 1)])
        dist.all_reduce(total)
        assert total.item() == 3.0, total
    assert not dist.is_initialized(), "the group must be destroyed on the way out"
    print("rank", info.rank, "left cleanly")
""")

FAILING_RANK_SCRIPT = textwrap.dedent("""
    import torch.distributed as dist
    from turnrl.trainers.fsdp import distributed

    try:
        with distributed() as info:
            raise RuntimeError("boom on rank %d" % info.rank)
    except RuntimeError:
        assert not dist.is_initialized(), "an error must still destroy the group"
        print("destroyed after error")
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_ranks(script: str) -> list[subprocess.CompletedProcess[str]]:
    port = str(_free_port())
    procs = []
    for rank in range(2):
        env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=port, RANK=str(rank),
                   WORLD_SIZE="2", LOCAL_RANK=str(rank), OMP_NUM_THREADS="1")
        procs.append(subprocess.Popen([sys.executable, "-c", script], env=env, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return results


@pytest.mark.slow
def test_ranks_leave_the_group_and_exit_zero_every_time() -> None:
    for _ in range(3):
        for rank, r in enumerate(_run_ranks(RANK_SCRIPT)):
            assert r.returncode == 0, (rank, r.stderr[-2000:])
            assert f"rank {rank} left cleanly" in r.stdout


@pytest.mark.slow
def test_an_error_inside_still_destroys_the_group() -> None:
    for r in _run_ranks(FAILING_RANK_SCRIPT):
        assert r.returncode == 0, r.stderr[-2000:]
        assert "destroyed after error" in r.stdout


def test_single_process_needs_no_group(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch.distributed as dist

    from turnrl.trainers.fsdp import distributed

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with distributed() as info:
        assert (info.world, info.initialised, info.owns_group) == (1, False, False)
    assert not dist.is_initialized()
