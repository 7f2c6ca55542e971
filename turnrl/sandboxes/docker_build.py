"""``turnrl sandbox build``: the image the ``docker`` backend runs, built on this machine.

Two recipes, tried in order (``base="auto"``):

1. **slim base image** — where an image registry is reachable (or the base is already in the
   engine), ``FROM python:3.11-slim`` plus the sandbox directory, built with the engine;
2. **Debian packages** — where no registry is reachable (the usual case on a closed machine),
   ``debootstrap --variant=minbase --include=python3 bookworm ROOT <mirror>`` from the Debian
   mirror apt already uses, then ``docker import`` of that root (~1.5 min, needs root).

Either way the image holds ``python3`` (full standard library; also as ``python``), ``sh``,
``timeout``, ``prlimit`` and ``tar`` — everything the in-container wrapper uses — runs as uid
65534 with ``/sandbox`` as working directory, and carries the label ``turnrl.sandbox.recipe``
so a later build with the same recipe is skipped unless forced.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from turnrl.sandboxes.api import SandboxUnavailable, SandboxUsageError

DEFAULT_IMAGE = "turnrl-sandbox:bookworm"
SLIM_BASE = "python:3.11-slim"
SUITE = "bookworm"
RECIPE = "3"
"""Bump when the image contents change: a build with another recipe is not reused."""
PACKAGES = ("python3",)
REAPER = ("import os, time\nwhile True:\n    try:\n        os.wait()\n"
          "    except ChildProcessError:\n        time.sleep(1)\n")
"""PID 1 of every sandbox container: reaps orphans and is immune to ``kill -1``."""
CHANGES = [
    "USER 65534:65534",
    "WORKDIR /sandbox",
    "ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME=/sandbox",
    f"LABEL turnrl.sandbox.recipe={RECIPE}",
]

Log = Callable[[str], None]


def build_image(client: Any, *, tag: str = DEFAULT_IMAGE, base: str = "auto",
                mirror: str | None = None, force: bool = False,
                log: Log = print) -> str:
    """Build ``tag`` (see the module docstring); returns how it was built, or that it was
    already there. Raises ``SandboxUnavailable`` with the reason when neither recipe works."""
    if not force:
        try:
            existing = client.images.get(tag)
            if existing.labels.get("turnrl.sandbox.recipe") == RECIPE:
                log(f"{tag} is up to date (recipe {RECIPE}); --force rebuilds it")
                return "existing"
        except Exception:  # docker.errors.ImageNotFound, kept lazy
            pass
    if base not in ("auto", "debootstrap"):
        _from_base(client, tag, base, log)
        return f"from {base}"
    if base == "auto":
        try:
            _from_base(client, tag, SLIM_BASE, log)
            return f"from {SLIM_BASE}"
        except SandboxUnavailable as exc:
            log(f"{exc}; building from Debian packages with debootstrap instead")
    _from_debootstrap(client, tag, mirror or apt_mirror(), log)
    return "debootstrap"


def _from_base(client: Any, tag: str, base: str, log: Log) -> None:
    import docker

    try:
        client.images.get(base)
    except docker.errors.ImageNotFound:
        log(f"pulling {base} ...")
        try:
            repository, _, version = base.partition(":")
            client.images.pull(repository, tag=version or "latest")
        except docker.errors.APIError as exc:
            raise SandboxUnavailable(f"cannot pull {base}: {exc.explanation or exc}") from None
    changes = "\n".join(CHANGES)
    dockerfile = (f"FROM {base}\nUSER root\nRUN mkdir -p /sandbox && chmod 1777 /sandbox && "
                  "{ command -v python >/dev/null || ln -s \"$(command -v python3)\" "
                  f"/usr/local/bin/python; }}\n{changes}\n")
    log(f"building {tag} from {base} ...")
    try:
        client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True,
                            network_mode="none")
    except (docker.errors.BuildError, docker.errors.APIError) as exc:
        raise SandboxUnavailable(f"building {tag} from {base} failed: {exc}") from None


def _from_debootstrap(client: Any, tag: str, mirror: str, log: Log) -> None:
    debootstrap = shutil.which("debootstrap")
    if not debootstrap:
        raise SandboxUnavailable("debootstrap is missing: apt-get install debootstrap")
    if os.geteuid() != 0:
        raise SandboxUnavailable("debootstrap needs root: run `sudo turnrl sandbox build`")
    scratch = Path(tempfile.mkdtemp(prefix="turnrl-rootfs-", dir="/var/tmp"))
    root = scratch / "root"
    try:
        log(f"debootstrap {SUITE} ({', '.join(PACKAGES)}) from {mirror} ...")
        start = time.monotonic()
        command = [debootstrap, "--variant=minbase", f"--include={','.join(PACKAGES)}",
                   SUITE, str(root), mirror]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join(done.stdout.splitlines()[-5:] + done.stderr.splitlines()[-5:])
            raise SandboxUnavailable(f"debootstrap failed ({done.returncode}): {tail}")
        log(f"root file system ready in {time.monotonic() - start:.0f} s")
        _slim(root)
        (root / "sandbox").mkdir(mode=0o1777, exist_ok=True)
        (root / "sandbox").chmod(0o1777)
        python = root / "usr/local/bin/python"  # `command=["python", ...]` as on the host
        if not python.exists():
            python.symlink_to("/usr/bin/python3")
        archive = scratch / "root.tar"
        subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-cf", str(archive), "."],
                       check=True)
        log(f"importing {archive.stat().st_size >> 20} MB as {tag} ...")
        repository, _, version = tag.partition(":")
        client.api.import_image_from_file(str(archive), repository=repository,
                                          tag=version or "latest", changes=CHANGES)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _slim(root: Path) -> None:
    """Drop what a sandbox never reads (package caches, docs, man pages, locales)."""
    for relative in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc",
                     "usr/share/man", "usr/share/info", "usr/share/locale"):
        target = root / relative
        if target.is_dir():
            for child in target.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)


def apt_mirror(sources: tuple[str, ...] = ("/etc/apt/sources.list.d/debian.sources",
                                           "/etc/apt/sources.list")) -> str:
    """The Debian mirror apt uses here (deb822 ``URIs:`` or a one-line ``deb`` entry)."""
    for path in sources:
        try:
            text = Path(path).read_text()
        except OSError:
            continue
        for match in re.finditer(r"^URIs:\s*(\S+)", text, re.M):
            if "security" not in match.group(1):
                return match.group(1)
        for match in re.finditer(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+", text, re.M):
            if "security" not in match.group(1):
                return match.group(1)
    return "http://deb.debian.org/debian"


def check_tag(tag: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?", tag):
        raise SandboxUsageError(f"{tag!r} is not a valid image name")
    return tag
