"""Sandboxes from the command line.

  turnrl sandbox build [--base auto|debootstrap|IMAGE] [--tag T] [--force]
      build the docker backend's image (a slim Python base image where a registry is reachable,
      else Debian packages via debootstrap; needs a running Docker engine)
  turnrl sandbox serve [--backend bwrap] [--host 127.0.0.1] [--port 8080] [--concurrency 8]
      serve SandboxFusion's POST /run_code on top of a turnrl backend
  turnrl sandbox run FILE [--backend bwrap] [--stdin TEXT] [--timeout S]
      run one Python file in a sandbox and print its result as JSON
  turnrl sandbox hostile [--backend bwrap ...]
      run the hostile-code suite and print the contained / escaped table (exit 1 on an escape)
  turnrl sandbox reap
      remove every docker sandbox container whose turnrl process is gone
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

HELP = "build, serve, try and test sandboxes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = sub.add_parser("build", help="build the docker backend's image")
    build.add_argument("--base", default="auto",
                       help="auto (slim image, else debootstrap), debootstrap, or an image name")
    build.add_argument("--tag", default=None, help="image name (default turnrl-sandbox:bookworm)")
    build.add_argument("--mirror", default=None, help="Debian mirror (default: apt's)")
    build.add_argument("--force", action="store_true", help="rebuild even if up to date")
    serve = sub.add_parser("serve", help="serve SandboxFusion's /run_code API")
    serve.add_argument("--backend", default="bwrap", help="sandbox backend (default bwrap)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--concurrency", type=int, default=8, help="runs at once")
    run = sub.add_parser("run", help="run a Python file in a sandbox")
    run.add_argument("file", type=Path)
    run.add_argument("--backend", default="bwrap")
    run.add_argument("--stdin", default="")
    run.add_argument("--timeout", type=float, default=10.0)
    hostile = sub.add_parser("hostile", help="run the hostile-code suite")
    hostile.add_argument("--backend", action="append", dest="backends",
                         help="backend to attack (repeatable; default bwrap)")
    hostile.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sub.add_parser("reap", help="remove docker sandbox containers of dead turnrl processes")


def run(args: argparse.Namespace) -> int:
    return int(ACTIONS[args.action](args))


def _build(args: argparse.Namespace) -> int:
    from turnrl.sandboxes.docker_build import DEFAULT_IMAGE, build_image, check_tag

    tag = check_tag(args.tag or DEFAULT_IMAGE)
    client = _docker_client()
    try:
        how = build_image(client, tag=tag, base=args.base, mirror=args.mirror, force=args.force,
                          log=lambda message: print(message, file=sys.stderr, flush=True))
    finally:
        client.close()
    print(f"{tag}: {how}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from turnrl.cli import UserError
    from turnrl.sandboxes import make_sandbox
    from turnrl.sandboxes.serve import build_app

    if args.concurrency < 1:
        raise UserError(f"--concurrency must be >= 1, got {args.concurrency}")
    sandbox = make_sandbox(args.backend)
    print(f"serving /run_code on http://{args.host}:{args.port} with the {args.backend} "
          "sandbox", file=sys.stderr, flush=True)
    web.run_app(build_app(sandbox, concurrency=args.concurrency), host=args.host,
                port=args.port, print=None)
    return 0


def _run(args: argparse.Namespace) -> int:
    from turnrl.cli import UserError
    from turnrl.sandboxes import make_sandbox

    if not args.file.is_file():
        raise UserError(f"{args.file} is not a file")
    code = args.file.read_text()

    async def go() -> Any:
        sandbox = make_sandbox(args.backend)
        try:
            return await sandbox.run(code, stdin=args.stdin, timeout=args.timeout)
        finally:
            await sandbox.close()

    result = asyncio.run(go())
    print(json.dumps(result.to_dict(), indent=2))
    return 0 if result.ok else 1


def _hostile(args: argparse.Namespace) -> int:
    from turnrl.sandboxes.hostile import print_table, run_suite

    rows = asyncio.run(run_suite(args.backends or ["bwrap"]))
    if args.json:
        print(json.dumps([row.to_dict() for row in rows], indent=2))
    else:
        print_table(rows)
    return 1 if any(row.verdict == "escaped" for row in rows) else 0


def _reap(args: argparse.Namespace) -> int:
    from turnrl.sandboxes.docker_pool import reap_orphans

    client = _docker_client()
    try:
        print(f"removed {reap_orphans(client)} container(s)")
    finally:
        client.close()
    return 0


def _docker_client() -> Any:
    from turnrl.sandboxes.api import SandboxUnavailable
    from turnrl.sandboxes.docker_backend import connect_engine

    try:
        import docker  # noqa: F401
    except ImportError:
        raise SandboxUnavailable("the docker SDK is missing: pip install 'turnrl[docker]'") \
            from None
    return connect_engine(timeout=600)


ACTIONS = {"build": _build, "serve": _serve, "run": _run, "hostile": _hostile, "reap": _reap}
