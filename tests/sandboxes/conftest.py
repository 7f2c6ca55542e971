"""Fixtures for the sandbox tests: one ``bwrap`` sandbox per module and a ``run`` helper for
coroutines.

A sandbox that cannot start here skips its tests — unless ``TURNRL_REQUIRE_BWRAP=1`` /
``TURNRL_REQUIRE_DOCKER=1`` is set (``.ci/setup.d/20-sandbox.sh`` sets both), where it fails
them: CI must not pass by skipping the sandboxes it installed."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def unavailable(reason: str, required_by: str) -> None:
    """Skip, or fail when the environment variable ``required_by`` says it must work."""
    if os.environ.get(required_by):
        pytest.fail(f"{reason} ({required_by} is set)")
    pytest.skip(reason)


def bwrap_or_skip(**options: Any) -> Any:
    from turnrl.sandboxes import SandboxUnavailable
    from turnrl.sandboxes.bwrap import BwrapSandbox

    if shutil.which("bwrap") is None:
        unavailable("bubblewrap is not installed (apt-get install bubblewrap)",
                    "TURNRL_REQUIRE_BWRAP")
    try:
        return BwrapSandbox(**options)
    except SandboxUnavailable as exc:
        unavailable(f"bwrap cannot run here: {exc}", "TURNRL_REQUIRE_BWRAP")


@pytest.fixture(scope="module")
def bwrap() -> Any:
    return bwrap_or_skip()
