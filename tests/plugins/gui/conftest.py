"""Shared fixtures for the gui tests: skip browser tests without Chromium/Playwright, close
every browser this test session started."""

from __future__ import annotations

import base64
import importlib.util
import os
import struct
from collections.abc import Iterator

import pytest

from turnrl.plugins.gui.browser import DEFAULT_EXECUTABLE, shutdown_pools


def chromium_problem() -> str | None:
    executable = os.environ.get("TURNRL_CHROMIUM", DEFAULT_EXECUTABLE)
    if not os.path.exists(executable):
        return f"no Chromium at {executable} (apt-get install chromium)"
    for module in ("playwright", "miniwob"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install 'turnrl[gui]')"
    return None


@pytest.fixture
def chromium() -> None:
    """Browser tests take this fixture: they skip (with the reason) where Chromium is not."""
    problem = chromium_problem()
    if problem:
        pytest.skip(problem)


@pytest.fixture(scope="session", autouse=True)
def _close_browsers() -> Iterator[None]:
    yield
    shutdown_pools()


def png_size(b64: str) -> tuple[int, int]:
    """(width, height) of a base64 PNG, read from its IHDR chunk (and its signature checked)."""
    data = base64.b64decode(b64)
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])
