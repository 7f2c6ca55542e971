"""Episode store: one JSON line per finished episode, append-only, resumable.

Durable writes are batched off the caller's thread. ``append_many(episodes, wait=False)``
encodes the records and hands them to the store's writer thread, which collects whatever
arrives within ``flush_interval_s`` of the first pending record, writes the batch in one
``write`` and makes it durable with one ``fsync``. The rollout engine appends this way, so the
event loop never waits on the disk and a fast rollout pays one fsync per batch, not per episode.

**Acknowledged** means: the episode's record has been written *and* fsynced. The store
acknowledges in append order; ``on_durable(ids)`` is called (on the writer thread) with the ids
of each batch as it becomes durable, ``acknowledged`` counts the records acknowledged so far,
``flush()`` returns once everything appended before it is acknowledged, and ``append_many``
with ``wait=True`` (the default, for scripts) returns only once its records are. An
acknowledged episode survives ``kill -9`` of the process (and a crash of the machine, as far
as the OS and disk honour ``fsync``); an episode appended but not yet acknowledged -- at most
``flush_interval_s`` plus one batch write old -- may be lost, and a resumed run plays it again.

A crash in the middle of a write leaves at most a torn last line; readers skip it, and the next
writer cuts it off before appending so the file stays one valid record per line. Resuming a run
reads the ids already stored; if an episode is played again (a failed one, or a multi-seat game
stored incompletely), the later record of an id supersedes the earlier one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from turnrl.core.types import Episode

log = logging.getLogger(__name__)


class EpisodeStore:
    """Append-only JSONL file of ``Episode.to_dict()`` records (module docstring: batching and
    what "acknowledged" means)."""

    def __init__(self, path: str | Path, *, flush_interval_s: float = 0.05,
                 on_durable: Callable[[list[str]], None] | None = None) -> None:
        self.path = Path(path)
        self.flush_interval_s = flush_interval_s
        self.on_durable = on_durable
        self.acknowledged = 0
        """Records written and fsynced so far by this store object."""
        self._fh: BinaryIO | None = None
        self._cond = threading.Condition()
        self._pending: list[tuple[bytes, list[str]]] = []
        self._appended = 0
        self._error: BaseException | None = None
        self._writer: threading.Thread | None = None
        self._closing = False

    # ------------------------------------------------------------------ reading
    def __iter__(self) -> Iterator[Episode]:
        return (Episode.from_dict(d) for d in self._records())

    def read(self) -> list[Episode]:
        return list(self)

    def ids(self) -> set[str]:
        """Ids of the episodes already stored (the ones a resumed run skips)."""
        return {d["id"] for d in self._records()}

    def _records(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with self.path.open("rb") as fh:
            lines = fh.read().split(b"\n")
        for i, raw in enumerate(lines):
            if not raw.strip():
                continue
            try:
                yield json.loads(raw)
            except json.JSONDecodeError:
                if i == len(lines) - 1:  # torn last line: an interrupted write, not data
                    log.warning("%s: skipping a torn last line (%d bytes)", self.path, len(raw))
                    continue
                raise ValueError(f"{self.path}: line {i + 1} is not valid JSON") from None

    # ------------------------------------------------------------------ writing
    def append(self, episode: Episode, *, wait: bool = True) -> None:
        """Store one episode; with ``wait`` (default) return once it is acknowledged."""
        self.append_many([episode], wait=wait)

    def append_many(self, episodes: Sequence[Episode], *, wait: bool = True) -> None:
        """Store episodes (e.g. the seats of one game) as one unit of the next batch; with
        ``wait`` return once they are acknowledged (written and fsynced)."""
        data = b"".join(json.dumps(e.to_dict(), separators=(",", ":")).encode() + b"\n"
                        for e in episodes)
        with self._cond:
            self._raise_if_failed()
            if self._closing:
                raise RuntimeError(f"{self.path}: append after close()")
            self._pending.append((data, [e.id for e in episodes]))
            self._appended += len(episodes)
            target = self._appended
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_loop, daemon=True,
                                                name=f"turnrl-store-{self.path.name}")
                self._writer.start()
            self._cond.notify_all()
        if wait:
            self._wait_for(target)

    def flush(self) -> None:
        """Block until every record appended so far is acknowledged (durable)."""
        with self._cond:
            target = self._appended
        self._wait_for(target)

    def _wait_for(self, target: int) -> None:
        with self._cond:
            while self.acknowledged < target and self._error is None:
                self._cond.wait()
            self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise OSError(f"{self.path}: writing episodes failed: {self._error}") \
                from self._error

    def _write_loop(self) -> None:
        """The writer thread: batch what arrives within ``flush_interval_s`` of the first
        pending record, one write + one fsync per batch, then acknowledge it."""
        import os

        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if not self._pending:  # closing and nothing left
                    return
                deadline = time.monotonic() + self.flush_interval_s
                while not self._closing and (left := deadline - time.monotonic()) > 0:
                    self._cond.wait(left)  # let more records join this batch
                batch, self._pending = self._pending, []
            try:
                fh = self._open()
                fh.write(b"".join(data for data, _ in batch))
                fh.flush()
                os.fsync(fh.fileno())
            except BaseException as exc:  # disk full, permissions: the appenders hear of it
                with self._cond:
                    self._error = exc
                    self._cond.notify_all()
                return
            ids = [i for _, batch_ids in batch for i in batch_ids]
            with self._cond:
                self.acknowledged += len(ids)
                self._cond.notify_all()
            if self.on_durable is not None:
                try:
                    self.on_durable(ids)
                except Exception:
                    log.exception("%s: on_durable callback failed", self.path)

    def _open(self) -> BinaryIO:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._cut_torn_tail()
            self._fh = self.path.open("ab")
        return self._fh

    def _cut_torn_tail(self) -> None:
        """Drop an unterminated last line so the next record starts on a line of its own."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with self.path.open("rb+") as fh:
            data = fh.read()
            if data.endswith(b"\n"):
                return
            keep = data.rfind(b"\n") + 1
            try:  # a complete record that only lacks its newline is data: keep it
                json.loads(data[keep:])
                fh.write(b"\n")
                return
            except json.JSONDecodeError:
                pass
            log.warning("%s: cutting a torn last line (%d bytes)", self.path, len(data) - keep)
            fh.truncate(keep)

    def close(self) -> None:
        """Flush (every appended record acknowledged), stop the writer, close the file.
        The store can be appended to again afterwards (a new writer starts)."""
        writer = self._writer
        if writer is not None:
            with self._cond:
                self._closing = True
                self._cond.notify_all()
            writer.join()
            self._writer = None
            self._closing = False
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self._raise_if_failed()

    def __enter__(self) -> EpisodeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
