"""SandboxFusion compatibility both ways: ``turnrl sandbox serve`` answered by the official
``sandbox-fusion`` client from PyPI (code nobody here wrote), turnrl's ``sandbox-fusion``
backend against that server, and the backend against a server speaking only the official
response models (no turnrl extension)."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from turnrl.sandboxes import SandboxUsageError, make_sandbox
from turnrl.sandboxes.serve import build_app

from .conftest import bwrap_or_skip, run

sandbox_fusion = pytest.importorskip("sandbox_fusion")


class ServerThread:
    """An aiohttp app on 127.0.0.1 (a free port) in its own thread and event loop."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.url = ""

    def _serve(self) -> None:
        from aiohttp import web

        asyncio.set_event_loop(self.loop)
        self.runner = web.AppRunner(self.app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    def __enter__(self) -> ServerThread:
        self.thread.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def served() -> Iterator[ServerThread]:
    sandbox = bwrap_or_skip()
    with ServerThread(build_app(sandbox, concurrency=4)) as server:
        yield server


def test_official_client_runs_code_through_turnrl_serve(served) -> None:
    from sandbox_fusion import RunCodeRequest, run_code

    response = run_code(RunCodeRequest(code="print(input()[::-1])", language="python",
                                       stdin="abc\n"), endpoint=served.url, max_attempts=1)
    assert response.status.value == "Success"
    assert response.run_result.status.value == "Finished"
    assert (response.run_result.return_code, response.run_result.stdout) == (0, "cba\n")
    assert response.compile_result is None


def test_official_client_failures_timeouts_and_files(served) -> None:
    from sandbox_fusion import RunCodeRequest, run_code

    failed = run_code(RunCodeRequest(code="raise SystemExit(2)", language="python"),
                      endpoint=served.url, max_attempts=1)
    assert (failed.status.value, failed.run_result.return_code) == ("Failed", 2)
    slow = run_code(RunCodeRequest(code="import time; time.sleep(30)", language="python",
                                   run_timeout=1), endpoint=served.url, max_attempts=1)
    assert slow.run_result.status.value == "TimeLimitExceeded"
    files = run_code(RunCodeRequest(
        code="print(open('in.txt').read()); open('out.txt', 'w').write('back')",
        language="python", files={"in.txt": base64.b64encode(b"given").decode()},
        fetch_files=["out.txt"]), endpoint=served.url, max_attempts=1)
    assert files.run_result.stdout == "given\n"
    assert base64.b64decode(files.files["out.txt"]) == b"back"
    bash = run_code(RunCodeRequest(code="echo $((6 * 7))", language="bash"),
                    endpoint=served.url, max_attempts=1)
    assert bash.run_result.stdout == "42\n"


def test_official_async_client(served) -> None:
    from sandbox_fusion import RunCodeRequest, run_code_async

    async def many():
        return await asyncio.gather(*(run_code_async(
            RunCodeRequest(code=f"print({i} * {i})", language="python"),
            endpoint=served.url, max_attempts=1) for i in range(6)))

    responses = run(many())
    assert [r.run_result.stdout for r in responses] == [f"{i * i}\n" for i in range(6)]


def test_serve_rejects_bad_requests_with_one_line(served) -> None:
    import requests

    missing = requests.post(f"{served.url}/run_code", json={"language": "python"}, timeout=30)
    assert missing.status_code == 400
    assert missing.json()["detail"] == "code: Field required"
    language = requests.post(f"{served.url}/run_code",
                             json={"code": "x", "language": "cobol"}, timeout=30)
    assert language.status_code == 400
    assert "unknown language 'cobol'" in language.json()["detail"]
    assert requests.get(f"{served.url}/v1/ping", timeout=30).json() == "pong"


def test_turnrl_backend_round_trips_every_status_through_serve(served) -> None:
    remote = make_sandbox("sandbox-fusion", url=served.url)

    async def play():
        return await asyncio.gather(
            remote.run("print('hi')"),
            remote.run("import sys; sys.exit(5)"),
            remote.run("import time; time.sleep(30)", timeout=1),
            remote.run("print('x' * 100000)", limits={"output_bytes": 2000}),
            remote.run("x = bytearray(300 << 20)", limits={"memory_mb": 64}),
            remote.run(command=["python", "-c", "import sys; print(sys.argv[1:])", "a b"]),
            remote.run("open('o', 'w').write('1')", fetch=["o"]),
        )

    ok, error, timeout, flood, memory, command, fetched = run(play())
    assert (ok.status, ok.stdout) == ("ok", "hi\n")
    assert (error.status, error.exit_code) == ("error", 5)
    assert timeout.status == "timeout"
    assert (flood.status, flood.truncated) == ("output_limit", True)
    assert memory.status == "memory"
    assert command.stdout == "['a b']\n"
    assert fetched.files == {"o": b"1"}
    with pytest.raises(SandboxUsageError, match="no field for environment variables"):
        run(remote.run("print(1)", env={"A": "1"}))


def test_turnrl_backend_reads_plain_sandboxfusion_answers() -> None:
    from aiohttp import web
    from sandbox_fusion.models import CommandRunResult, RunCodeResponse

    answers = {
        "print(1)": RunCodeResponse(status="Success", message="", run_result=CommandRunResult(
            status="Finished", execution_time=0.1, return_code=0, stdout="1\n", stderr="")),
        "loop": RunCodeResponse(status="Failed", message="", run_result=CommandRunResult(
            status="TimeLimitExceeded", execution_time=1.0, stdout="", stderr="")),
        "oom": RunCodeResponse(status="Failed", message="", run_result=CommandRunResult(
            status="Finished", return_code=1, stdout="", stderr="Traceback\nMemoryError\n")),
        "broken": RunCodeResponse(status="SandboxError", message="pod gone"),
    }
    seen: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append(body)
        return web.json_response(answers[body["code"]].dict())

    app = web.Application()
    app.router.add_post("/run_code", handler)
    with ServerThread(app) as server:
        remote = make_sandbox("sandbox-fusion", url=server.url + "/")
        results = [run(remote.run(code, timeout=3)) for code in answers]
    assert [r.status for r in results] == ["ok", "timeout", "memory", "sandbox_error"]
    assert results[0].stdout == "1\n"
    assert results[3].stderr == "pod gone"
    assert seen[0]["language"] == "python"
    assert seen[0]["run_timeout"] == 3
    assert set(seen[0]) >= {"code", "language", "stdin", "run_timeout", "files", "fetch_files"}


def test_unreachable_server_is_a_sandbox_error() -> None:
    remote = make_sandbox("sandbox-fusion", url="http://127.0.0.1:9")
    result = run(remote.run("print(1)"))
    assert result.status == "sandbox_error"
    assert "127.0.0.1:9/run_code failed" in result.stderr
