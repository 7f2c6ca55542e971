"""``hf``: a local transformers causal LM as a ``Policy``, with batched sampling.

Requests arrive one per episode step from many concurrent episodes; a small async batcher
gathers whatever is waiting (up to ``max_batch_size``, waiting at most ``batch_wait_s`` for
stragglers) into one left-padded batch and decodes it with a KV cache in a worker thread, so
the event loop keeps stepping environments meanwhile.

We sample with our own decode loop instead of ``model.generate`` for two reasons the trainer
relies on:

* Determinism: every request gets its own ``torch.Generator`` seeded with
  ``SamplingParams.seed``, so a request samples the same tokens whatever else shares its batch
  and whatever the concurrency (up to float noise between batch shapes).
* Log-probs with a stated meaning. ``Completion.logprobs[i]`` is
  ``log_softmax(logits_i / T)[token_i]``: the temperature-scaled distribution, *before* top-k /
  top-p truncation (``T = 1`` for greedy, ``temperature == 0``). The trainer reproduces it
  with one forward pass over ``prompt_ids + token_ids`` and
  ``log_softmax(logits[:, :-1] / T).gather(...)``.

``Completion.text`` decodes ``token_ids`` without special tokens; generation stops at EOS
(kept in ``token_ids``, it was sampled), after ``max_tokens``, or once the decoded text
contains a stop string (the text is cut just after it; the tokens stay as sampled).

Vision-language models: given a processor with an image processor (``from_pretrained`` loads
one when the model directory has a processor config), the policy ``accepts_images``: every
request is rendered by the processor's chat template, the images among its messages' parts
(the GUI environment's screenshot, ``core.context.with_images``) go through the processor into
the model's first forward pass (``pixel_values`` and whatever else the processor makes), and
it is decoded on its own (batch of one; image inputs of different sizes do not pad into one
batch). ``prompt_ids`` then hold the processor's ids,
image placeholder tokens included; the trainer's re-forward of those ids has no images, so
training a VLM on image prompts is not supported yet (evaluation and rollouts are).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from turnrl.core.context import render_chat
from turnrl.core.policy import Completion, GenerationRequest, SamplingParams


@dataclass(slots=True)
class _Pending:
    request: GenerationRequest
    future: asyncio.Future[Completion]


class HFPolicy:
    """A transformers model + tokenizer behind the ``Policy`` protocol."""

    def __init__(self, model: Any, tokenizer: Any, *, max_batch_size: int = 32,
                 batch_wait_s: float = 0.002, device: str | None = None,
                 processor: Any = None) -> None:
        import torch

        self.model = model.eval()
        self.tokenizer = tokenizer
        self.processor = processor if getattr(processor, "image_processor", None) is not None \
            else None
        """A vision-language processor (``None`` for a text-only model)."""
        self.max_batch_size = max_batch_size
        self.batch_wait_s = batch_wait_s
        self.device = torch.device(device) if device else next(model.parameters()).device
        if self.device != next(model.parameters()).device:
            self.model.to(self.device)
        self.eos_ids = _eos_ids(model, tokenizer)
        self.cache_arg = kv_cache_name(model)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self._lock = threading.Lock()  # model use vs. weight loading
        self._queue: asyncio.Queue[_Pending] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._closed = False
        self.batches: list[int] = []
        """Sizes of the batches run so far (observability; tests check that batching happens)."""

    @classmethod
    def from_pretrained(cls, path: str, *, dtype: Any = None, **kwargs: Any) -> HFPolicy:
        """A causal LM, or a vision-language model with its processor when the directory has
        an image processor config."""
        from pathlib import Path

        from transformers import AutoModelForCausalLM, AutoTokenizer

        if any((Path(path) / f).exists() for f in ("preprocessor_config.json",
                                                    "processor_config.json")):
            from transformers import AutoModelForImageTextToText, AutoProcessor

            processor = AutoProcessor.from_pretrained(path)
            if getattr(processor, "image_processor", None) is not None:
                model = AutoModelForImageTextToText.from_pretrained(path, dtype=dtype)
                return cls(model, processor.tokenizer, processor=processor, **kwargs)
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
        return cls(model, tok, **kwargs)

    @property
    def accepts_images(self) -> bool:
        """True with a vision-language processor: prompts may then carry images."""
        return self.processor is not None

    # ------------------------------------------------------------------ Policy API
    async def generate(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        if self._closed:
            raise RuntimeError("HFPolicy.generate called after close()")
        loop = asyncio.get_running_loop()
        if self._queue is None or self._worker is None or self._worker.done():
            self._queue = asyncio.Queue()
            self._worker = loop.create_task(self._serve(self._queue))
        futures = []
        for req in requests:
            fut: asyncio.Future[Completion] = loop.create_future()
            self._queue.put_nowait(_Pending(req, fut))
            futures.append(fut)
        return list(await asyncio.gather(*futures))

    async def close(self) -> None:
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker
            self._worker = None

    def load_weights(self, weights: Mapping[str, Any] | Iterable[tuple[str, Any]] | Any, *,
                     strict: bool = False) -> None:
        """Swap in new weights: a state dict or ``(name, tensor)`` stream (the contract in
        ``turnrl.core.policy``), or a module whose weights to share.

        Called by the trainer after each update. Waits for the batch in flight to finish, so a
        completion is never sampled from a mix of old and new weights. ``strict`` requires every
        tensor (the tied ``lm_head`` excepted); unknown names are always refused.
        """
        import torch

        if isinstance(weights, torch.nn.Module):
            with self._lock:
                self.model = weights.eval()
                self.cache_arg = kv_cache_name(self.model)
            return
        items = weights.items() if isinstance(weights, Mapping) else weights
        state = {k: (v.full_tensor() if hasattr(v, "full_tensor") else v) for k, v in items}
        with self._lock:
            missing, unexpected = self.model.load_state_dict(state, strict=False)
        tied = {"lm_head.weight"} if getattr(self.model.config, "tie_word_embeddings",
                                             False) else set()
        missing = sorted(set(missing) - tied) if strict else []
        if unexpected or missing:
            raise ValueError(f"load_weights: missing {missing}, unexpected {sorted(unexpected)}")

    # ------------------------------------------------------------------ batching
    async def _serve(self, queue: asyncio.Queue[_Pending]) -> None:
        while True:
            batch = [await queue.get()]
            deadline = asyncio.get_running_loop().time() + self.batch_wait_s
            while len(batch) < self.max_batch_size:
                timeout = deadline - asyncio.get_running_loop().time()
                if queue.empty() and timeout <= 0:
                    break
                try:
                    batch.append(queue.get_nowait() if not queue.empty() else
                                 await asyncio.wait_for(queue.get(), timeout))
                except asyncio.TimeoutError:
                    break
            batch = [p for p in batch if not p.future.done()]  # cancelled by a timeout
            if not batch:
                continue
            try:
                results = await asyncio.to_thread(self._generate_sync,
                                                  [p.request for p in batch])
            except Exception as exc:
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(exc)
                continue
            for p, r in zip(batch, results, strict=True):
                if not p.future.done():
                    p.future.set_result(r)

    # ------------------------------------------------------------------ decoding
    def _prompt_ids(self, req: GenerationRequest) -> list[int]:
        if req.prompt_ids is not None:
            return list(req.prompt_ids)
        return render_chat(self.tokenizer, req.messages)

    def _generate_sync(self, requests: Sequence[GenerationRequest]) -> list[Completion]:
        import torch

        with self._lock, torch.inference_mode():
            self.batches.append(len(requests))
            # with a processor, prompts go through its chat template (images or not)
            visual = [self.processor is not None and r.prompt_ids is None for r in requests]
            if not any(visual):
                return self._decode(requests, [self._prompt_ids(r) for r in requests])
            results: list[Completion | None] = [None] * len(requests)
            text = [i for i, v in enumerate(visual) if not v]
            if text:
                done = self._decode([requests[i] for i in text],
                                    [self._prompt_ids(requests[i]) for i in text])
                for i, completion in zip(text, done, strict=True):
                    results[i] = completion
            for i, v in enumerate(visual):
                if v:
                    results[i] = self._decode_visual(requests[i])
            return [r for r in results if r is not None]

    def _decode(self, requests: Sequence[GenerationRequest],
                prompts: list[list[int]]) -> list[Completion]:
        import torch

        n, dev = len(requests), self.device
        width = max(len(p) for p in prompts)
        ids = torch.full((n, width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((n, width), dtype=torch.long)
        for i, p in enumerate(prompts):
            ids[i, width - len(p):] = torch.tensor(p, dtype=torch.long)
            mask[i, width - len(p):] = 1
        ids, mask = ids.to(dev), mask.to(dev)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        gens = [_generator(r.sampling) for r in requests]
        temps = torch.tensor([[r.sampling.temperature or 1.0] for r in requests], device=dev)
        greedy = torch.tensor([r.sampling.temperature == 0 for r in requests], device=dev)
        out_tokens: list[list[int]] = [[] for _ in range(n)]
        out_logps: list[list[float]] = [[] for _ in range(n)]
        finish = ["length"] * n
        active = [True] * n
        max_new = max(r.sampling.max_tokens for r in requests)
        cache, cache_arg = None, self.cache_arg
        step_ids, step_pos = ids, positions
        for t in range(max_new):
            out = self.model(input_ids=step_ids, attention_mask=mask, position_ids=step_pos,
                             use_cache=True, **{cache_arg: cache})
            cache = out[cache_arg]
            toks, logps = _sample_batch(out.logits[:, -1, :].float(), requests, temps, greedy,
                                        gens)
            next_tok = torch.tensor(toks, dtype=torch.long)
            for i, req in enumerate(requests):
                if not active[i]:
                    continue
                tok, logp = toks[i], logps[i]
                out_tokens[i].append(tok)
                out_logps[i].append(logp)
                stopped = req.sampling.stop and self._hit_stop(out_tokens[i], req.sampling.stop)
                if tok in self.eos_ids or stopped:
                    active[i], finish[i] = False, "stop"
                elif t + 1 >= req.sampling.max_tokens:
                    active[i] = False
            if not any(active):
                break
            step_ids = next_tok.to(dev).unsqueeze(1)
            step_pos = step_pos[:, -1:] + 1
            mask = torch.cat([mask, torch.ones((n, 1), dtype=mask.dtype, device=dev)], dim=1)
        return [Completion(text=self._text(toks, r.sampling.stop), prompt_ids=p, token_ids=toks,
                           logprobs=lps, finish_reason=f)
                for r, p, toks, lps, f in zip(requests, prompts, out_tokens, out_logps, finish,
                                               strict=True)]

    def _decode_visual(self, request: GenerationRequest) -> Completion:
        from turnrl.inference.hf_vision import decode_with_processor

        return decode_with_processor(self, request)

    def _hit_stop(self, tokens: list[int], stop: tuple[str, ...]) -> bool:
        text = self.tokenizer.decode(tokens[-16:], skip_special_tokens=True)
        return any(s in text for s in stop)

    def _text(self, tokens: list[int], stop: tuple[str, ...]) -> str:
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        cuts = [text.find(s) + len(s) for s in stop if s in text]
        return text[:min(cuts)] if cuts else text


def kv_cache_name(model: Any) -> str:
    """The name of the KV cache in ``model.forward``'s arguments and outputs.

    Recent transformers 5 releases renamed ``past_key_values`` to ``cache`` (argument and output
    field; 5.24 warns, ``FutureWarning``, on the old spelling); earlier releases only know
    ``past_key_values``. We read which one this model's ``forward`` takes, once per model,
    instead of pinning transformers or comparing version strings.
    """
    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def _generator(sp: SamplingParams) -> Any:
    import torch

    g = torch.Generator()
    if sp.seed is None:
        g.seed()
    else:
        g.manual_seed(int(sp.seed) % (2**63))
    return g


def _sample_batch(logits: Any, requests: Sequence[GenerationRequest], temps: Any, greedy: Any,
                  gens: list[Any]) -> tuple[list[int], list[float]]:
    """One token per row and its log-prob under ``softmax(logits / T)`` (module docstring).

    Vectorised on the model's device; the only per-row work is one uniform draw from the row's
    own CPU generator (so a request's sample does not depend on its batch or device), turned
    into a token by inverse-CDF sampling over the row's top-k / top-p filtered distribution.
    """
    import torch

    scaled = logits / temps
    logp = torch.log_softmax(scaled, -1)
    filtered = scaled
    for i, r in enumerate(requests):
        sp = r.sampling
        if (0 < sp.top_k < scaled.shape[-1]) or sp.top_p < 1.0:
            if filtered is scaled:
                filtered = scaled.clone()
            _filter_row(filtered[i], sp)
    cdf = torch.softmax(filtered, -1).cumsum(-1)
    u = torch.tensor([float(torch.rand((), generator=g)) for g in gens], device=logits.device)
    drawn = torch.searchsorted(cdf, (u * cdf[:, -1])[:, None], right=True)[:, 0]
    drawn = drawn.clamp(max=logits.shape[-1] - 1)
    tokens = torch.where(greedy, scaled.argmax(-1), drawn)
    chosen = logp.gather(1, tokens[:, None])[:, 0]
    return tokens.tolist(), chosen.tolist()


def _filter_row(row: Any, sp: SamplingParams) -> None:
    """Top-k, then top-p (nucleus: keep the smallest set reaching p), in place."""
    import torch

    if 0 < sp.top_k < row.numel():
        kth = torch.topk(row, sp.top_k).values[-1]
        row[row < kth] = float("-inf")
    if sp.top_p < 1.0:
        sorted_logits, order = torch.sort(row, descending=True)
        probs = torch.softmax(sorted_logits, -1)
        drop = probs.cumsum(-1) - probs >= sp.top_p  # keep the token that crosses p
        row[order[drop]] = float("-inf")


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    for value in (getattr(model.config, "eos_token_id", None), tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, list | tuple):
            ids.update(int(v) for v in value)
    return ids


def make_hf_policy(spec: str, **options: Any) -> HFPolicy:
    """Factory for ``--policy hf:PATH`` (a saved model directory), ``hf:tiny`` or
    ``hf:tiny:SEED`` (the embedded tiny model built for ``options["env"]``).

    Only those two spellings build the random tiny model: anything else is a path, and a path
    that is not a saved model directory is refused naming it (a typo must not silently train
    or evaluate a random network).
    """
    from pathlib import Path

    env = options.pop("env", None)
    host = options.pop("host", None)
    name, _, seed_text = spec.partition(":")
    if name == "tiny":
        if env is None:
            raise ValueError("hf:tiny needs the environment name to build its vocabulary")
        if seed_text and not seed_text.lstrip("-").isdigit():
            raise ValueError(f"hf:tiny:SEED takes an integer seed, got {seed_text!r}")
        from turnrl.inference.tiny import build_tiny

        model, tok = build_tiny(env, seed=int(seed_text or 0), host=host)
        return HFPolicy(model, tok, **options)
    if not spec:
        raise ValueError("hf needs a saved model directory (hf:PATH) or the embedded tiny "
                         "model (hf:tiny, hf:tiny:SEED)")
    path = Path(spec)
    if not path.is_dir():
        raise ValueError(f"no model directory at {spec!r} (hf:PATH takes a directory written by "
                         "save_pretrained; hf:tiny builds the embedded tiny model)")
    if not (path / "config.json").is_file():
        raise ValueError(f"{spec!r} is not a saved transformers model (no config.json in it)")
    return HFPolicy.from_pretrained(spec, **options)
