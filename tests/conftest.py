"""Test tiers.

Every test is in the default tier (fast, no optional service, seconds in total per module)
unless it carries one of the opt-in markers below; opt-in tests are skipped unless their tier
is switched on, by a flag or by the ``TURNRL_TEST_TIERS`` environment variable (comma
separated, ``all`` for every tier):

=========  ==============================================  =====================
marker     what it needs                                    switch on
=========  ==============================================  =====================
slow       more than a few seconds (pip installs, real      ``--run-slow``
           engines, training runs)
docker     a running Docker engine                          ``--run-docker``
browser    Chromium (Playwright)                            ``--run-browser``
gpu        a CUDA device                                    ``--run-gpu``
vllm       vLLM installed (its pins clash with the main     ``--run-vllm``
           venv: ``.ci/extra.d/50-vllm.sh`` builds its own
           venv and runs ``-m vllm`` there)
=========  ==============================================  =====================

``--run-all`` switches every tier on. With the ``gpu`` tier on and no CUDA device (e.g.
``benchmarks/gpu_suite.py --dry-run``), ``gpu`` tests are skipped rather than failed.
``.ci/run`` sets ``TURNRL_TEST_TIERS=slow,docker,browser`` (what the CI machine can run) and
runs the README's test command unchanged, so the ``vllm`` tier stays off in the main run;
``gpu`` tests run on the lent GPU machine (``benchmarks/gpu_suite.py``).
"""

from __future__ import annotations

import os

import pytest

TIERS: tuple[str, ...] = ("slow", "docker", "browser", "gpu", "vllm")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("turnrl tiers")
    for tier in TIERS:
        group.addoption(f"--run-{tier}", action="store_true", default=False,
                        help=f"run tests marked {tier}")
    group.addoption("--run-all", action="store_true", default=False,
                    help="run every opt-in tier")


def enabled_tiers(config: pytest.Config) -> set[str]:
    from_env = {t.strip() for t in os.environ.get("TURNRL_TEST_TIERS", "").split(",") if t.strip()}
    if config.getoption("--run-all") or "all" in from_env:
        return set(TIERS)
    return {t for t in TIERS if config.getoption(f"--run-{t}") or t in from_env}


def _has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    enabled = enabled_tiers(config)
    no_cuda = "gpu" in enabled and any(i.get_closest_marker("gpu") for i in items) \
        and not _has_cuda()
    for item in items:
        for tier in TIERS:
            if tier not in enabled and item.get_closest_marker(tier) is not None:
                item.add_marker(pytest.mark.skip(
                    reason=f"{tier} tier is off (use --run-{tier} or TURNRL_TEST_TIERS={tier})"))
                break
        else:
            # the gpu tier switched on without a device (gpu_suite --dry-run): skip, not fail
            if no_cuda and item.get_closest_marker("gpu") is not None:
                item.add_marker(pytest.mark.skip(reason="gpu tier is on but no CUDA device"))
