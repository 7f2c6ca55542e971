"""``openai``: an aiohttp client for any OpenAI-compatible server (vLLM, SGLang, ...).

Requests go out concurrently (bounded by ``max_concurrency`` connections), one HTTP call per
generation request; the server does the batching. Transient failures (connection refused or
reset, HTTP 408, 429 and 5xx) are retried by ``tenacity`` with jittered exponential backoff
(``wait_random_exponential``: full jitter, so many episodes that failed together do not retry
in lock-step), and a ``Retry-After`` header (seconds or an HTTP date) is honoured, up to
``max_backoff_s``; when the server stays unreachable the error names the URL. ``check()`` asks
the server once (``GET /models``, no retries) so a command can refuse a wrong or unreachable
URL before it starts a rollout, instead of failing every episode in turn.

Token ids and log-probs, so the trainer never re-tokenises text:

* With a local tokenizer (``tokenizer=PATH``), or when a request carries ``prompt_ids``, we
  render the chat template ourselves and call ``/v1/completions`` with the prompt as token ids,
  so ``prompt_ids`` are exactly what the server saw. Otherwise ``/v1/chat/completions`` (the
  server renders the template; ``prompt_ids`` are filled only if the server returns them).
* We ask for the sampled tokens' log-probs (``logprobs=0`` / ``logprobs=true, top_logprobs=0``)
  and, with ``vllm_extras`` (default on), vLLM's ``return_tokens_as_token_ids`` (tokens come
  back as ``"token_id:<id>"``) and ``return_token_ids`` (``token_ids`` / ``prompt_token_ids`` on
  the choice), plus ``top_k`` and ``include_stop_str_in_output``. Turn ``vllm_extras`` off for
  servers that reject unknown fields. A server that returns none of these gives text-only
  completions (empty ``token_ids``/``logprobs``), which evaluation accepts and training refuses.

Images: a prompt whose messages carry image parts (the GUI environment's screenshot, see
``core.context.with_images``) goes to ``/v1/chat/completions`` with each image as an
``image_url`` content part holding a ``data:image/png;base64,...`` URL (the OpenAI vision
format, which vLLM and SGLang accept for vision-language models). ``accepts_images`` is on
unless ``images=False`` or a local tokenizer renders the prompt (token ids cannot carry them).

vLLM's log-probs are those of its sampler's ``logprobs_mode`` (by default the raw model
distribution, before temperature); ``hf`` reports temperature-scaled ones (see ``hf.py``).
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Sequence
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from turnrl.core.context import render_chat
from turnrl.core.policy import Completion, GenerationRequest, SamplingParams

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class ServerError(RuntimeError):
    """The server could not be reached or kept failing; the message names the URL."""


class _Transient(Exception):
    """One failed attempt worth retrying; ``retry_after`` is the server's ``Retry-After``."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class _WaitRetryAfterOrJitter:
    """tenacity wait: the server's ``Retry-After`` when it sent one, else jittered exponential
    backoff; both capped at ``cap`` seconds."""

    def __init__(self, backoff_s: float, cap: float) -> None:
        self.jitter = wait_random_exponential(multiplier=backoff_s, max=cap)
        self.cap = cap

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        after = getattr(exc, "retry_after", None)
        if after is not None:
            return min(float(after), self.cap)
        return float(self.jitter(state))


def normalize_url(url: str) -> str:
    """``http://host:port`` or ``.../v1`` -> ``http://host:port/v1``."""
    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"openai policy: {url!r} is not an http(s) URL")
    return url if url.endswith("/v1") else url + "/v1"


class OpenAIPolicy:
    """``Policy`` over an OpenAI-compatible HTTP endpoint."""

    def __init__(self, base_url: str, *, model: str | None = None, tokenizer: Any = None,
                 api_key: str | None = None, max_concurrency: int = 64, retries: int = 4,
                 backoff_s: float = 0.5, max_backoff_s: float = 30.0,
                 request_timeout_s: float = 600.0,
                 vllm_extras: bool = True, weights_dir: str | None = None,
                 images: bool = True, weight_reload: str = "turnrl") -> None:
        self.base_url = normalize_url(base_url)
        self.images = images
        self.weights_dir = weights_dir
        """Directory shared with the server for the trainer's weight push (``weight_sync``)."""
        from turnrl.inference.weight_sync import RELOAD_STYLES

        if weight_reload not in RELOAD_STYLES:
            raise ValueError(f"openai policy: weight_reload {weight_reload!r} is not one of "
                             f"{sorted(RELOAD_STYLES)}")
        self.weight_reload = weight_reload
        """How the server is told to reload ``weights_dir``: ``turnrl`` (turnrl's own server,
        ``POST /update_weights_from_disk``) or ``vllm`` (a vLLM OpenAI server started with
        ``VLLM_SERVER_DEV_MODE=1``: ``POST /collective_rpc`` ``reload_weights``)."""
        self.model = model
        self.tokenizer = _load_tokenizer(tokenizer)
        self.api_key = api_key
        self.max_concurrency = max_concurrency
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.request_timeout_s = request_timeout_s
        self.vllm_extras = vllm_extras
        self._session: Any = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._model_lock: asyncio.Lock | None = None

    @property
    def accepts_images(self) -> bool:
        """Whether prompts may carry images (chat requests only; see the module docstring)."""
        return self.images and self.tokenizer is None

    # ------------------------------------------------------------------ Policy API
    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        return list(await asyncio.gather(*(self._one(r) for r in requests)))

    async def check(self, timeout_s: float = 10.0) -> None:
        """Ask the server once (``GET /models``, no retries, its own session) whether it is
        there and serves a model; raise ``ServerError`` naming the URL and the error. Commands
        call it before a rollout (``Policy.check``)."""
        import aiohttp

        url = self.base_url + "/models"
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            async with aiohttp.ClientSession(
                    headers=headers, timeout=aiohttp.ClientTimeout(total=timeout_s)) as session, \
                    session.get(url) as resp:
                if resp.status >= 400:
                    raise ServerError(f"{url} answered HTTP {resp.status}: "
                                      f"{(await resp.text())[:200]}")
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise ServerError(f"no OpenAI-compatible server at {url}: "
                              f"{type(exc).__name__}: {exc}".rstrip(": ")) from None
        ids = [str(m.get("id")) for m in (data.get("data") or []) if isinstance(m, dict)] \
            if isinstance(data, dict) else []
        if not ids:
            raise ServerError(f"{url} lists no model (is it an OpenAI-compatible server?)")
        if self.model is not None and self.model not in ids:
            raise ServerError(f"{url} does not serve model {self.model!r}; it serves "
                              f"{', '.join(ids[:5])}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def end_rollout(self) -> None:
        """The rollout's event loop is about to end: close its HTTP session (the next rollout,
        on a new loop, opens another)."""
        await self.close()

    def load_weights(self, weights: Any, *, strict: bool = False) -> None:
        """The trainer's weight push (the sync contract of ``turnrl.core.policy``): write the
        tensors to ``weights_dir`` and have the server reload them (``weight_sync`` documents
        both reload styles). Blocking: from async code use ``await policy.aload_weights(...)``
        (or ``asyncio.to_thread``) rather than stalling the event loop."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self.aload_weights(weights, strict=strict))
            return
        raise RuntimeError("OpenAIPolicy.load_weights called inside an event loop; "
                           "use `await policy.aload_weights(weights)`")

    async def aload_weights(self, weights: Any, *, strict: bool = False) -> None:
        """Async form of ``load_weights``; uses its own HTTP session, so it works from any loop.
        ``strict`` is the server's business: turnrl's server always loads a whole checkpoint;
        vLLM's reload accepts a partial one."""
        from turnrl.inference.weight_sync import reload_from_directory, write_weights

        if not self.weights_dir:
            raise ValueError("openai policy cannot receive weights: pass weights_dir=DIR, a "
                             "directory that both the trainer and the server can read")
        write_weights(weights.items() if hasattr(weights, "items") else weights,
                      self.weights_dir)
        await reload_from_directory(self.base_url.removesuffix("/v1"), self.weights_dir,
                                    style=self.weight_reload, api_key=self.api_key)

    # ------------------------------------------------------------------ internals
    async def _one(self, req: GenerationRequest) -> Completion:
        model = await self._model_name()
        prompt_ids = req.prompt_ids
        if prompt_ids is None and self.tokenizer is not None:
            prompt_ids = render_chat(self.tokenizer, req.messages)
        body: dict[str, Any] = {"model": model, **self._sampling_fields(req.sampling)}
        if prompt_ids is not None:
            body.update(prompt=list(prompt_ids), logprobs=0)
            data = await self._post("/completions", body)
            return _from_completion(data["choices"][0], list(prompt_ids), data)
        body.update(messages=[_chat_message(m) for m in req.messages], logprobs=True,
                    top_logprobs=0)
        data = await self._post("/chat/completions", body)
        return _from_chat(data["choices"][0], data)

    def _sampling_fields(self, sp: SamplingParams) -> dict[str, Any]:
        fields: dict[str, Any] = {"max_tokens": sp.max_tokens, "temperature": sp.temperature,
                                  "top_p": sp.top_p}
        if sp.seed is not None:
            fields["seed"] = sp.seed
        if sp.stop:
            fields["stop"] = list(sp.stop)
        if self.vllm_extras:
            fields.update(return_tokens_as_token_ids=True, return_token_ids=True,
                          include_stop_str_in_output=True)
            if sp.top_k > 0:
                fields["top_k"] = sp.top_k
        return fields

    async def _model_name(self) -> str:
        if self.model is not None:
            return self.model
        if self._model_lock is None or self._session_loop is not asyncio.get_running_loop():
            self._model_lock = asyncio.Lock()
        async with self._model_lock:
            if self.model is None:
                data = await self._request("GET", "/models", None)
                models = data.get("data") or []
                if not models:
                    raise ServerError(f"{self.base_url}/models lists no model; pass model=...")
                self.model = str(models[0]["id"])
        return self.model

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._request("POST", path, body)

    async def _request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        url = self.base_url + path
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=_WaitRetryAfterOrJitter(self.backoff_s, self.max_backoff_s),
            retry=retry_if_exception_type(_Transient), reraise=True)
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._attempt(method, url, body)
        except _Transient as exc:
            raise ServerError(f"cannot get an answer from the OpenAI-compatible server at {url} "
                              f"after {self.retries + 1} attempts ({exc})") from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _attempt(self, method: str, url: str, body: dict[str, Any] | None) -> Any:
        """One HTTP call: the answer, ``_Transient`` for what a retry may fix, ``ServerError``
        for what it cannot (a 4xx other than 408/429)."""
        import aiohttp

        try:
            async with self._get_session().request(method, url, json=body) as resp:
                if resp.status in RETRY_STATUSES:
                    raise _Transient(f"HTTP {resp.status}: {(await resp.text())[:200]}",
                                     retry_after_seconds(resp.headers.get("Retry-After")))
                if resp.status >= 400:
                    raise ServerError(f"{url} answered HTTP {resp.status}: "
                                      f"{(await resp.text())[:500]}")
                return await resp.json()
        except aiohttp.ClientConnectionError as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc

    def _get_session(self) -> Any:
        """The HTTP session of the running event loop. The trainer calls ``asyncio.run`` once
        per rollout, and an aiohttp session is bound to the loop that made it: a session left
        from an earlier (closed) loop is dropped, never reused."""
        import aiohttp

        loop = asyncio.get_running_loop()
        if self._session is not None and self._session_loop is not loop:
            self._session = None  # its loop is gone; its sockets went with it
        if self._session is None or self._session.closed:
            self._session_loop = loop
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._session = aiohttp.ClientSession(
                headers=headers, timeout=aiohttp.ClientTimeout(total=self.request_timeout_s),
                connector=aiohttp.TCPConnector(limit=self.max_concurrency))
        return self._session


def _chat_message(message: dict[str, Any]) -> dict[str, Any]:
    """A message in the OpenAI format: image parts become ``image_url`` data URLs."""
    content = message.get("content")
    if not isinstance(content, list):
        return message
    parts = []
    for part in content:
        if part.get("type") == "image":
            parts.append({"type": "image_url",
                          "image_url": {"url": f"data:image/png;base64,{part['image']}"}})
        else:
            parts.append(part)
    return {**message, "content": parts}


def _token_id(token: str) -> int | None:
    """vLLM's ``return_tokens_as_token_ids`` spells tokens ``"token_id:<id>"``."""
    if isinstance(token, str) and token.startswith("token_id:"):
        return int(token.split(":", 1)[1])
    return None


def _from_completion(choice: dict[str, Any], prompt_ids: list[int],
                     data: dict[str, Any]) -> Completion:
    lp = choice.get("logprobs") or {}
    tokens = lp.get("tokens") or []
    logprobs = [float(x) for x in lp.get("token_logprobs") or [] if x is not None]
    ids = choice.get("token_ids") or [_token_id(t) for t in tokens]
    ids = [int(i) for i in ids] if ids and all(i is not None for i in ids) else []
    if len(logprobs) != len(ids):
        logprobs = []
    return Completion(text=choice.get("text", ""),
                      prompt_ids=list(choice.get("prompt_token_ids") or prompt_ids),
                      token_ids=ids, logprobs=logprobs,
                      finish_reason=choice.get("finish_reason") or "stop")


def _from_chat(choice: dict[str, Any], data: dict[str, Any]) -> Completion:
    content = ((choice.get("logprobs") or {}).get("content")) or []
    logprobs = [float(c["logprob"]) for c in content]
    ids = choice.get("token_ids") or [_token_id(c.get("token", "")) for c in content]
    ids = [int(i) for i in ids] if ids and all(i is not None for i in ids) else []
    if len(logprobs) != len(ids):
        logprobs = []
    prompt = choice.get("prompt_token_ids") or data.get("prompt_token_ids") or []
    return Completion(text=(choice.get("message") or {}).get("content") or "",
                      prompt_ids=[int(i) for i in prompt], token_ids=ids, logprobs=logprobs,
                      finish_reason=choice.get("finish_reason") or "stop")


def _load_tokenizer(tokenizer: Any) -> Any:
    if tokenizer is None or not isinstance(tokenizer, str):
        return tokenizer
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tokenizer)


def make_openai_policy(spec: str, **options: Any) -> OpenAIPolicy:
    """Factory for ``--policy openai:URL`` (options: model, tokenizer, api_key, ...)."""
    options.pop("env", None)
    options.pop("host", None)
    if not spec:
        raise ValueError("openai policy needs a URL: --policy openai:http://HOST:PORT/v1")
    return OpenAIPolicy(spec, **options)
