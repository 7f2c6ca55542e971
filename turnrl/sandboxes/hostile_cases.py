"""The hostile-code suite's cases: each attacking program and the judge that decides, from what
the host observed, whether it escaped (``hostile.py`` runs them)."""

from __future__ import annotations

import contextlib
import os
import secrets
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
