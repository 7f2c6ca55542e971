"""Tar streams in and out of a sandbox, read on the host without ever touching the host's disk.

What comes back from a sandbox is untrusted: members are read into memory only (never
extracted), only regular files are kept (links, devices and FIFOs are skipped), names are
normalised and must stay inside the working directory, and the total is capped.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from collections.abc import Iterable, Mapping


def pack(files: Mapping[str, bytes], *, mode: int = 0o644) -> bytes:
    """A tar stream holding ``files`` (relative path -> bytes), directories implied."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o755 if data.startswith(b"#!") else mode
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def unpack(data: bytes, *, limit: int) -> dict[str, bytes]:
    """Regular files of a tar stream (normalised relative path -> bytes), at most ``limit``
    bytes in total; a damaged or truncated stream yields the members read before the damage."""
    files: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for member in tar:
                if not member.isreg():
                    continue
                name = _safe_name(member.name)
                if name is None or total + member.size > limit:
                    continue
                extracted = tar.extractfile(member)
                if extracted is None:
                    continue
                content = extracted.read()
                total += len(content)
                files[name] = content
    except (tarfile.TarError, EOFError, OSError):
        pass
    return files


def select(files: Mapping[str, bytes], wanted: Iterable[str]) -> dict[str, bytes]:
    """The entries of ``files`` named in ``wanted``, or lying below a wanted directory."""
    chosen: dict[str, bytes] = {}
    for path in wanted:
        if path in files:
            chosen[path] = files[path]
            continue
        prefix = path.rstrip("/") + "/"
        chosen.update({name: data for name, data in files.items() if name.startswith(prefix)})
    return chosen


def _safe_name(name: str) -> str | None:
    norm = posixpath.normpath(name.lstrip("/"))
    if norm in (".", "") or norm == ".." or norm.startswith("../"):
        return None
    return norm
