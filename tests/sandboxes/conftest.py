"""Fixtures for the sandbox tests: one ``bwrap`` sandbox per module (skipped where bubblewrap is
missing or cannot create namespaces) and a ``run`` helper for coroutines."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def bwrap_or_skip(**options: Any) -> Any:
    from turnrl.sandboxes import SandboxUnavailable
    from turnrl.sandboxes.bwrap import BwrapSandbox

    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)")
    try:
        return BwrapSandbox(**options)
    except SandboxUnavailable as exc:
        pytest.skip(f"bwrap cannot run here: {exc}")


@pytest.fixture(scope="module")
def bwrap() -> Any:
    return bwrap_or_skip()
