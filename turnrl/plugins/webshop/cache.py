"""Where WebShop keeps what is expensive to rebuild: BM25 indexes and title nouns per catalog.

``$TURNRL_CACHE_DIR/webshop`` (default ``$XDG_CACHE_HOME/turnrl`` or ``~/.cache/turnrl``). Each
catalog has a folder named by its content fingerprint, so a changed catalog never reads a stale
file. Writes go to a temporary name and are renamed into place, so concurrent processes (Ray
workers, pytest-xdist) never see half a file; a file that cannot be read is rebuilt.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def cache_root() -> Path:
    base = os.environ.get("TURNRL_CACHE_DIR")
    if base:
        return Path(base) / "webshop"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg if xdg else Path.home() / ".cache") / "turnrl" / "webshop"


def cache_path(name: str) -> Path:
    return cache_root() / name


def load_json(name: str) -> Any:
    """The cached JSON value, or None when absent or unreadable."""
    try:
        return json.loads(cache_path(name).read_text())
    except (OSError, ValueError):
        return None


def save_json(name: str, value: Any) -> None:
    """Atomically write ``value``; a cache that cannot be written is silently skipped (the
    value is rebuilt next time)."""
    path = cache_path(name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(value, f)
        os.replace(tmp, path)
    except OSError:
        return
