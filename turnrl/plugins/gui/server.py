"""The pool's own HTTP server for the task pages: aiohttp static files on a free 127.0.0.1 port.

Pages are served over HTTP rather than ``file://``: MiniWoB's flight pages need a server (the
wheel ships ``http_server.py`` for them), over HTTP every page is served the same way, and the
browser's network rules allow exactly this one origin. Text files are labelled UTF-8, which
they are: served without a charset, Chromium decodes them as windows-1252 (``unicode-test``'s
"Cancél" then reads "CancÃ©l").
"""

from __future__ import annotations

from typing import Any

TEXT_TYPES = ("text/html", "text/css", "application/javascript", "text/javascript",
              "application/json", "text/plain")


async def _label_utf8(request: Any, response: Any) -> None:
    content_type = response.headers.get("Content-Type", "")
    if content_type.startswith(TEXT_TYPES) and "charset" not in content_type:
        response.headers["Content-Type"] = f"{content_type}; charset=utf-8"


async def start_server(root: str) -> tuple[Any, str]:
    """Serve ``root`` on 127.0.0.1 (a free port); returns (runner, base URL)."""
    from aiohttp import web

    app = web.Application()
    app.router.add_static("/", root, follow_symlinks=False)
    app.on_response_prepare.append(_label_utf8)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"
