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
from dataclasses import dataclass, field
from typing import Any

from turnrl.sandboxes.api import ExecResult, Limits

LIMITS = Limits(memory_mb=256, processes=32, output_bytes=1 << 20, disk_mb=64, file_size_mb=512)
"""The limits every case runs under (the backend's defaults would do; these are explicit)."""


@dataclass
class Context:
    """What the host prepared and watches during one backend's run of the suite."""

    token: str = field(default_factory=lambda: secrets.token_hex(8))
    tcp_hits: list[str] = field(default_factory=list)
    dns_hits: list[bytes] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)
    host_ip: str = "127.0.0.1"
    secret_file: str = ""
    secret: str = field(default_factory=lambda: secrets.token_hex(16))
    outside_dir: str = ""
    shadow: str = ""
    closers: list[Callable[[], None]] = field(default_factory=list)


@dataclass
class Row:
    case: str
    backend: str
    verdict: str
    detail: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case, "backend": self.backend, "verdict": self.verdict,
                "detail": self.detail, "seconds": round(self.seconds, 3)}


Judge = Callable[[ExecResult, Context], tuple[bool, str]]
"""``(escaped, detail)`` for one finished case."""


@dataclass(frozen=True)
class Case:
    name: str
    code: Callable[[Context], str]
    judge: Judge
    timeout: float = 5.0
    argv_marker: bool = False
    touches_host: bool = False
    """An escape would change the host (files in /etc, /usr, /root): never run unisolated."""


# --------------------------------------------------------------------------- the cases
def _tcp_code(ctx: Context) -> str:
    return (f"import socket\nfor host, port in [('127.0.0.1', {ctx.ports['loopback']}), "
            f"('{ctx.host_ip}', {ctx.ports['external']})]:\n"
            "    s = socket.socket(); s.settimeout(2)\n"
            "    try:\n        s.connect((host, port)); s.sendall(b'hello')\n"
            "        print('CONNECTED', host)\n"
            "    except OSError as exc:\n        print('refused', host, exc.errno)\n")


def _tcp_judge(result: ExecResult, ctx: Context) -> tuple[bool, str]:
    escaped = bool(ctx.tcp_hits) or "CONNECTED" in result.stdout
    return escaped, f"listener contacts: {len(ctx.tcp_hits)}"


def _dns_code(ctx: Context) -> str:
    return ("import socket\nquery = bytes.fromhex('abcd01000001000000000000') + "
            f"b'\\x06turnrl\\x06{ctx.token[:6]}\\x07invalid\\x00\\x00\\x01\\x00\\x01'\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)\n"
            f"try:\n    s.sendto(query, ('127.0.0.1', {ctx.ports['dns']})); print(s.recv(512))\n"
            "except OSError as exc:\n    print('no dns', exc)\n"
            "try:\n    print('RESOLVED', "
            "socket.getaddrinfo('localhost.turnrl-canary.invalid', 80))\n"
            "except OSError as exc:\n    print('no resolve', exc)\n")


def _dns_judge(result: ExecResult, ctx: Context) -> tuple[bool, str]:
    escaped = bool(ctx.dns_hits) or "RESOLVED" in result.stdout
    return escaped, f"queries received by the loopback responder: {len(ctx.dns_hits)}"


def _write_code(ctx: Context) -> str:
    targets = ["/etc/turnrl-x", "/usr/turnrl-x", "/turnrl-x", "/root/turnrl-x",
               os.path.join(ctx.outside_dir, "written")]
    return ("import os\n"
            f"for path in {targets!r}:\n"
            "    try:\n        with open(path, 'w') as f: f.write('x')\n"
            "        print('WROTE', path)\n"
            "    except OSError as exc:\n        print('refused', path, exc.errno)\n")


def _write_judge(result: ExecResult, ctx: Context) -> tuple[bool, str]:
    host_side = [p for p in ("/etc/turnrl-x", "/usr/turnrl-x", "/turnrl-x", "/root/turnrl-x",
                             os.path.join(ctx.outside_dir, "written")) if os.path.exists(p)]
    for path in host_side:
        with contextlib.suppress(OSError):
            if path != os.path.join(ctx.outside_dir, "written"):
                os.unlink(path)
    return bool(host_side), f"host files created: {host_side or 'none'}"


def _secret_code(ctx: Context) -> str:
    return ("import os\n"
            f"for path in [{ctx.secret_file!r}, os.path.expanduser('~/' + "
            f"{os.path.basename(ctx.secret_file)!r}), '/etc/shadow']:\n"
            "    try:\n        print(open(path).read())\n"
            "    except OSError as exc:\n        print('refused', path, exc.errno)\n"
            "print(dict(os.environ))\n"
            "for pid in os.listdir('/proc'):\n"
            "    if pid.isdigit():\n"
            "        try:\n            print(open(f'/proc/{pid}/environ', 'rb').read())\n"
            "        except OSError:\n            pass\n")


def _secret_judge(result: ExecResult, ctx: Context) -> tuple[bool, str]:
    seen = result.stdout + result.stderr
    leaks = [what for what, value in (("$HOME secret", ctx.secret),
                                      ("caller env secret", ctx.token),
                                      ("/etc/shadow", ctx.shadow)) if value and value in seen]
    return bool(leaks), f"leaked: {', '.join(leaks) or 'nothing'}"


def _fork_code(ctx: Context) -> str:
    return ("import os, time\nn = 0\ntry:\n    while n < 100000:\n"
            "        if os.fork() == 0:\n            time.sleep(30); os._exit(0)\n        n += 1\n"
            "except OSError:\n    pass\nprint('forked', n)\n")


def _fork_judge(result: ExecResult, ctx: Context) -> tuple[bool, str]:
    counts = [int(line.split()[-1]) for line in result.stdout.splitlines()
              if line.startswith("forked")]
    forked = counts[0] if counts else None
    escaped = (forked is None and result.status != "timeout") or \
        (forked is not None and forked > LIMITS.processes)
    return escaped, f"{result.status}, {forked} forks before the cap ({LIMITS.processes})"


def _memory_code(ctx: Context) -> str:
    return ("blocks = []\nfor i in range(64):\n    b = bytearray(64 << 20)\n"
            "    b[::4096] = b'1' * len(b[::4096])\n    blocks.append(b)\n"
            "print('ALLOCATED', (i + 1) * 64, 'MB')\n")


def _memory_judge(result: ExecResult, ctx: Context) -> tuple[bool, str]:
    return "ALLOCATED" in result.stdout, f"status {result.status}"


def _spin_code(ctx: Context) -> str:
    return ("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "signal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n")


def _flood_code(ctx: Context) -> str:
    return ("import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(1024):\n"
            "    sys.stdout.write(chunk)\nprint('FLOODED')\n")


def _flood_judge(result: ExecResult, ctx: Context) -> tuple[bool, str]:
    escaped = len(result.stdout) > LIMITS.output_bytes or result.status != "output_limit"
    return escaped, f"{result.status}, kept {len(result.stdout)} bytes of 1 GB"


def _disk_code(ctx: Context) -> str:
    return ("import os\nblock = b'x' * (1 << 20)\nfor where in ('.', '/tmp', '/dev/shm'):\n"
            "    n = 0\n    try:\n        with open(os.path.join(where, 'fill'), 'wb') as f:\n"
            "            while n < 2048:\n                f.write(block); f.flush(); n += 1\n"
            "    except OSError as exc:\n        pass\n    print('WROTE', where, n)\n")


def _disk_judge(result: ExecResult, ctx: Context) -> tuple[bool, str]:
    written = [int(line.split()[-1]) for line in result.stdout.splitlines()
               if line.startswith("WROTE")]
    worst = max(written, default=0)
    return worst > LIMITS.disk_mb + 1, f"largest fill {worst} MB (cap {LIMITS.disk_mb} MB)"


def _daemon_code(ctx: Context) -> str:
    return ("import os, sys, time\nif os.fork() == 0:\n    os.setsid()\n"
            "    if os.fork() == 0:\n        time.sleep(60)\n        os._exit(0)\n    os._exit(0)\n"
            "print('daemon started')\n")


def _sleep_code(ctx: Context) -> str:
    return "import time\ntime.sleep(60)\nprint('WOKE UP')\n"


def _proc_code(ctx: Context) -> str:
    return ("import os\nseen = []\nfor pid in os.listdir('/proc'):\n    if pid.isdigit():\n"
            "        try:\n            seen.append(open(f'/proc/{pid}/cmdline', 'rb').read())\n"
            "        except OSError:\n            pass\nprint(len(seen), seen)\n"
            "for path in ('/proc/1/root/etc/hostname', '/proc/sysrq-trigger', "
            "'/sys/kernel/debug'):\n"
            "    try:\n        print(path, os.listdir(path) if os.path.isdir(path) else "
            "open(path).read()[:80])\n"
            "    except OSError as exc:\n        print('refused', path, exc.errno)\n")


def _proc_judge(result: ExecResult, ctx: Context) -> tuple[bool, str]:
    return ctx.token in result.stdout, "host processes visible: " + (
        "yes" if ctx.token in result.stdout else "no")


def _stopped(status: str) -> Judge:
    def judge(result: ExecResult, ctx: Context) -> tuple[bool, str]:
        late = result.duration_s > 30
        return result.status != status or late, f"{result.status} after {result.duration_s:.1f} s"
    return judge


CASES: tuple[Case, ...] = (
    Case("tcp connect (loopback and host address)", _tcp_code, _tcp_judge),
    Case("dns lookup", _dns_code, _dns_judge),
    Case("write outside the working directory", _write_code, _write_judge, touches_host=True),
    Case("read $HOME secret, caller env, /etc/shadow", _secret_code, _secret_judge),
    Case("fork bomb", _fork_code, _fork_judge, timeout=15, argv_marker=True),
    Case("memory bomb (4 GB)", _memory_code, _memory_judge, timeout=20),
    Case("cpu spin ignoring SIGTERM", _spin_code, _stopped("timeout"), timeout=2),
    Case("1 GB stdout flood", _flood_code, _flood_judge, timeout=20),
    Case("fill the disk", _disk_code, _disk_judge, timeout=20),
    Case("daemonised child outlives the run", _daemon_code, _stopped("ok"), argv_marker=True),
    Case("sleep past the timeout", _sleep_code, _stopped("timeout"), timeout=1),
    Case("/proc tricks (host processes)", _proc_code, _proc_judge),
)


# --------------------------------------------------------------------------- the harness
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

