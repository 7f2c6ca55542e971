"""The original WebShop data files, for users who have them (``source="original"``).

WebShop's ``setup.sh`` downloads them from Google Drive (unreachable here, so the generated
catalog is the default). Put them in one folder and pass ``data_dir=`` (task option) or set
``$WEBSHOP_DATA``:

=======  ====================================================  =========================
tier     products + attributes                                 human goals (``human_goals``)
=======  ====================================================  =========================
small    ``items_shuffle_1000.json`` + ``items_ins_v2_1000.json``  ``items_human_ins.json``
full     ``items_shuffle.json`` + ``items_ins_v2.json``            ``items_human_ins.json``
=======  ====================================================  =========================

Records are read as the original reads them (``catalog.load_products``). The catalog's cache
key comes from the files' paths, sizes and modification times (hashing 1 GB would cost more
than it saves).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

FILES = {"small": ("items_shuffle_1000.json", "items_ins_v2_1000.json"),
         "full": ("items_shuffle.json", "items_ins_v2.json")}
HUMAN_FILE = "items_human_ins.json"


def data_dir(spec: Any) -> Path:
    folder = spec.data_dir or os.environ.get("WEBSHOP_DATA")
    if not folder:
        raise FileNotFoundError("webshop source 'original' needs the original data files: pass "
                                "data_dir=... or set WEBSHOP_DATA to their folder")
    return Path(folder)


def _read(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"webshop: no data file {path}")
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise ValueError(f"webshop: {path} is not valid JSON ({exc})") from None


def read_original(spec: Any) -> tuple[list[dict[str, Any]], dict[str, Any], Any, str]:
    """``(items, attributes, human_or_None, cache_key)`` for ``spec`` (tier, data_dir,
    human_goals)."""
    if spec.tier not in FILES:
        raise ValueError(f"webshop source 'original' has tiers {', '.join(FILES)}, "
                         f"got {spec.tier!r}")
    folder = data_dir(spec)
    paths = [folder / name for name in FILES[spec.tier]]
    if spec.human_goals:
        paths.append(folder / HUMAN_FILE)
    items, attributes, *rest = (_read(p) for p in paths)
    if not isinstance(items, list) or not isinstance(attributes, dict):
        raise ValueError(f"webshop: {paths[0].name} must hold a list of products and "
                         f"{paths[1].name} an object keyed by ASIN")
    stamp = hashlib.sha1()
    for p in paths:
        st = p.stat()
        stamp.update(f"{p.resolve()}:{st.st_size}:{st.st_mtime_ns};".encode())
    key = f"original-{spec.tier}-{stamp.hexdigest()[:16]}"
    return items, attributes, (rest[0] if rest else None), key
