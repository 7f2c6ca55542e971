"""The hostile-code suite: programs that try to get out, and host-side proof that they did not.

Each case runs one attacking program through a backend's ordinary ``run`` and then judges it
by what the *host* can observe (a listener that was or was not contacted, a file that does or
does not exist, a planted secret that does or does not appear in the output, a process still
alive on the host, the host still able to fork), not only by what the program printed. Every
case is bounded in time and talks only to addresses on this machine (listeners the suite opens
on 127.0.0.1 and on this machine's own address; a DNS responder on loopback).

Used by ``tests/sandboxes/test_hostile.py``, ``benchmarks/sandbox_hostile.py`` and
``turnrl sandbox hostile``. Verdicts: ``contained``, ``escaped``, or ``inconclusive`` (the
sandbox failed before the attack ran, so nothing was shown either way).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from turnrl.sandboxes.hostile_cases import CASES, LIMITS, Case, Context, Row

__all__ = ["CASES", "LIMITS", "Case", "Context", "Row", "host_processes_with", "print_table",
           "run_case", "run_suite"]


async def run_suite(backends: list[str], *, cases: tuple[Case, ...] = CASES,
                    progress: Callable[[str], None] | None = None) -> list[Row]:
    """Run every case against every backend (one row each; backends that cannot start give
    ``inconclusive`` rows saying why)."""
    from turnrl.sandboxes.api import SandboxUnavailable, make_sandbox

    rows: list[Row] = []
    for backend in backends:
        try:
            sandbox = make_sandbox(backend)
        except SandboxUnavailable as exc:
            rows += [Row(c.name, backend, "inconclusive", f"backend unavailable: {exc}", 0.0)
                     for c in cases]
            continue
        ctx = await _prepare()
        try:
            unisolated = str(sandbox.enforcement.get("isolation", "")).startswith("NONE")
            for case in cases:
                if case.touches_host and unisolated:
                    rows.append(Row(case.name, backend, "inconclusive",
                                    "not run: an unisolated backend would change the host", 0.0))
                    continue
                rows.append(await run_case(sandbox, backend, case, ctx))
                if progress:
                    progress(f"{backend}: {case.name}: {rows[-1].verdict}")
        finally:
            _teardown(ctx)
            await sandbox.close()
    return rows


async def run_case(sandbox: Any, backend: str, case: Case, ctx: Context) -> Row:
    marker = f"turnrl-hostile-{ctx.token}-{secrets.token_hex(4)}"
    code = case.code(ctx)
    start = time.perf_counter()
    if case.argv_marker:  # every process of the attack carries the marker in its cmdline
        result = await sandbox.run(command=["python", "main.py", marker],
                                   files={"main.py": code}, timeout=case.timeout, limits=LIMITS)
    else:
        result = await sandbox.run(code, timeout=case.timeout, limits=LIMITS)
    await asyncio.sleep(0.3)  # let a would-be survivor show itself
    seconds = time.perf_counter() - start
    if result.status == "sandbox_error":
        return Row(case.name, backend, "inconclusive", result.stderr[:200], seconds)
    escaped, detail = case.judge(result, ctx)
    survivors = host_processes_with(marker)
    if survivors:
        escaped, detail = True, f"{len(survivors)} process(es) outlived the run; {detail}"
        _kill(survivors)
    if not _host_can_fork():
        escaped, detail = True, f"the host cannot start processes any more; {detail}"
    return Row(case.name, backend, "escaped" if escaped else "contained", detail, seconds)


async def _prepare() -> Context:
    ctx = Context()
    os.environ["TURNRL_HOSTILE_SECRET"] = ctx.token  # the caller's environment holds a secret
    ctx.closers.append(lambda: os.environ.pop("TURNRL_HOSTILE_SECRET", None))
    home = os.path.expanduser("~")
    ctx.secret_file = os.path.join(home, f".turnrl-hostile-{secrets.token_hex(6)}")
    with open(ctx.secret_file, "w") as handle:
        handle.write(ctx.secret)
    ctx.closers.append(lambda: os.unlink(ctx.secret_file))
    ctx.outside_dir = tempfile.mkdtemp(prefix="turnrl-hostile-outside-")
    os.chmod(ctx.outside_dir, 0o777)
    ctx.closers.append(lambda: shutil.rmtree(ctx.outside_dir, ignore_errors=True))
    with contextlib.suppress(OSError), open("/etc/shadow") as handle:
        ctx.shadow = handle.read().strip()
    ctx.host_ip = _host_address()
    for name, address in (("loopback", "127.0.0.1"), ("external", "0.0.0.0")):
        ctx.ports[name] = await _listen_tcp(address, ctx)
    ctx.ports["dns"] = await _listen_dns(ctx)
    # a host process whose command line carries the token: visible only through a leak
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)",
                               ctx.token])
    ctx.closers.append(lambda: (holder.kill(), holder.wait()))
    return ctx


def _teardown(ctx: Context) -> None:
    for close in reversed(ctx.closers):
        with contextlib.suppress(Exception):
            close()


async def _listen_tcp(address: str, ctx: Context) -> int:
    async def contact(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ctx.tcp_hits.append(str(writer.get_extra_info("peername")))
        writer.close()

    server = await asyncio.start_server(contact, address, 0)
    ctx.closers.append(server.close)
    return int(server.sockets[0].getsockname()[1])


async def _listen_dns(ctx: Context) -> int:
    class Responder(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            ctx.dns_hits.append(data)

    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(Responder, local_addr=("127.0.0.1", 0))
    ctx.closers.append(transport.close)
    return int(transport.get_extra_info("sockname")[1])


def _host_address() -> str:
    """This machine's own non-loopback address (no packet is sent to find it)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        return str(probe.getsockname()[0])
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()


def host_processes_with(marker: str) -> list[int]:
    """PIDs of host processes whose command line contains ``marker``."""
    found = []
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/cmdline", "rb") as handle:
                if needle in handle.read():
                    found.append(int(entry))
    return found


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, 9)


def _host_can_fork() -> bool:
    try:
        return subprocess.run(["true"], timeout=10, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def print_table(rows: list[Row]) -> None:
    """The case x backend table, then the totals (rich)."""
    from rich.console import Console
    from rich.table import Table

    backends = list(dict.fromkeys(row.backend for row in rows))
    table = Table(title="hostile-code suite", title_justify="left")
    table.add_column("case")
    for backend in backends:
        table.add_column(backend)
    style = {"contained": "[green]contained[/green]", "escaped": "[red]ESCAPED[/red]",
             "inconclusive": "[yellow]inconclusive[/yellow]"}
    for case in dict.fromkeys(row.case for row in rows):
        cells = {row.backend: style[row.verdict] for row in rows if row.case == case}
        table.add_row(case, *(cells.get(b, "") for b in backends))
    console = Console()
    console.print(table)
    for backend in backends:
        mine = [row for row in rows if row.backend == backend]
        counts = {v: sum(row.verdict == v for row in mine) for v in style}
        console.print(f"{backend}: {counts['contained']} contained, {counts['escaped']} "
                      f"escaped, {counts['inconclusive']} inconclusive of {len(mine)}")

