"""The hostile-code suite (``turnrl.sandboxes.hostile``): zero escapes on ``bwrap`` and
``docker``, and a suite that can tell — the unisolated ``local`` backend must be caught escaping
(if the judges could not see an escape there, a zero on the real backends would mean nothing).
"""

from __future__ import annotations

import pytest

from turnrl.sandboxes.hostile import CASES, run_suite

from .conftest import bwrap_or_skip, run
from .test_docker import docker_or_skip


def _escapes(rows):
    return [(r.case, r.detail) for r in rows if r.verdict != "contained"]


@pytest.mark.slow
def test_bwrap_contains_every_case() -> None:
    bwrap_or_skip()
    rows = run(run_suite(["bwrap"]))
    assert len(rows) == len(CASES)
    assert _escapes(rows) == []


@pytest.mark.slow
@pytest.mark.docker
def test_docker_contains_every_case() -> None:
    docker_or_skip()
    rows = run(run_suite(["docker"]))
    assert len(rows) == len(CASES)
    assert _escapes(rows) == []


@pytest.mark.slow
def test_the_suite_sees_escapes_from_the_unisolated_backend() -> None:
    wanted = ("tcp connect (loopback and host address)", "dns lookup",
              "read $HOME secret, caller env, /etc/shadow",
              "daemonised child outlives the run", "/proc tricks (host processes)")
    cases = tuple(c for c in CASES if c.name in wanted)
    rows = run(run_suite(["local"], cases=cases))
    assert {r.case: r.verdict for r in rows} == dict.fromkeys(wanted, "escaped")
    never = run(run_suite(["local"], cases=tuple(c for c in CASES if c.touches_host)))
    assert [r.verdict for r in never] == ["inconclusive"]  # not run against the host
