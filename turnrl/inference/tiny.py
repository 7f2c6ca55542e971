"""A tiny, randomly initialised causal LM with a tokenizer built from an environment's own words.

This is the embedded default model: no download, no network, seconds on a CPU. The vocabulary
is collected by playing the environment (expert and random actions over its task panels) and
rendering prompts through the context builder, so every word the model reads or should write
(observations, admissible actions, prompt-template words, ``<think>``/``<action>`` tags) is one
token and nothing is ``[UNK]`` in practice. That keeps sequences short and lets a 2-layer model
learn the toy tasks by RL in minutes, which is what the CPU quickstart and the trainer tests need.

The tokenizer is a ``tokenizers`` WordLevel model (words and single punctuation marks, the
tags and chat markers as added tokens) wrapped in ``PreTrainedTokenizerFast`` with a ChatML-like
chat template; model and tokenizer round-trip through ``save_pretrained`` / ``from_pretrained``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from turnrl.core.context import TEMPLATES, Turn, instruction_for, resolve_template
from turnrl.core.types import Observation, Task

log = logging.getLogger(__name__)

SPECIALS = ("<|pad|>", "<|unk|>", "<|im_start|>", "<|im_end|>")
TAGS = ("<think>", "</think>", "<action>", "</action>")
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_WORD_RE = re.compile(r"\w+|[^\w\s]")
_CODE_RE = re.compile(r"\s+|\w+|[^\w\s]")
"""``tiny_tokenizer="code"`` environments: whitespace runs are tokens too, so replies that are
programs (newlines, indentation, code fences) survive encode -> decode exactly."""


def words(text: str) -> list[str]:
    """The pre-tokenizer's split (``\\w+`` runs and single punctuation marks)."""
    return _WORD_RE.findall(text)


VOCABULARY_TEMPLATES = ("verl-agent", "auto", "plain", "raw")
"""The built-in prompt templates whose renderings feed a tiny vocabulary (with the env's own
``auto`` choice), fixed by name. Word ids are ordered by count, so rendering through every
*registered* template let a template added for one environment reorder another's ids, and a
reordered vocabulary is another random model: adding ``raw`` for the code env (commit 0fe29d1)
moved ALFWorld seed 1's post-SFT success from 0.111 to 0.261 (issue 20). A template registered
later changes no tiny model; ``tests/inference/test_tiny_vocabulary.py`` pins the vocabularies
the documented numbers were measured with."""


async def collect_env_texts(env_name: str, *, tasks_per_split: int = 16, max_steps: int = 30,
                            seed: int = 0, host: Any = None,
                            env_options: dict[str, Any] | None = None,
                            task_options: dict[str, Any] | None = None) -> list[str]:
    """Texts the model will meet in ``env_name``: observations, actions and rendered prompts.

    Plays expert episodes (when the environment has an expert) and random-action episodes on the
    first ``tasks_per_split`` tasks of every split, built with the run's own ``env_options``
    (factory) and ``task_options`` (panel builder): options that change the tasks (a larger
    grid, another data source) change the words, and a word the vocabulary lacks becomes
    ``<unk>`` for the whole run. An environment whose words are not all met in a few episodes
    (WebShop's catalog) registers ``vocabulary=callable(**task_options) -> texts`` too.
    """
    from turnrl.core.host import get_host

    host = host or get_host()
    spec = host.env(env_name)
    rng = random.Random(f"tiny/{env_name}/{seed}")
    texts: list[str] = ["system", "user", "assistant"]
    vocabulary = spec.extras.get("vocabulary")
    if vocabulary is not None:  # the env's own word list (e.g. a whole product catalog)
        if isinstance(vocabulary, str):
            from turnrl.core.host import import_target

            vocabulary = import_target(vocabulary)
        texts += list(vocabulary(**(task_options or {})))
    for split in spec.splits:
        for task in host.tasks(env_name, split, **(task_options or {}))[:tasks_per_split]:
            for mode in ("expert", "random"):
                if mode == "expert" and spec.expert is None:
                    continue
                texts += await _play(host, env_name, task, mode, rng, max_steps,
                                     env_options or {})
    return texts


async def _play(host: Any, env_name: str, task: Task, mode: str, rng: random.Random,
                max_steps: int, env_options: dict[str, Any]) -> list[str]:
    env = host.make(env_name, **env_options)
    spec = host.env(env_name)
    expert = spec.expert(task) if mode == "expert" else None
    history: list[Turn] = []
    texts: list[str] = []
    try:
        obs: Observation = await env.reset(task, seed=task.seed)
        instruction = instruction_for(task.data, obs.text)
        for _ in range(max_steps):
            for template in (*(TEMPLATES[name] for name in VOCABULARY_TEMPLATES),
                             resolve_template("auto", spec)):
                texts += [m["content"] for m in template.render(instruction, history, obs, 2)]
                if obs.actions:
                    texts += [template.format_action(a) for a in obs.actions]
            if expert is not None:
                action = expert.act(obs)
            elif obs.actions:
                action = rng.choice(obs.actions)
            else:
                break
            texts.append(action)
            tr = await env.step(action)
            history.append(Turn(obs.text, action))
            obs = tr.observation
            if tr.done:
                texts.append(obs.text)
                break
    except Exception as exc:  # a failing episode gives the words it got to; the others go on
        log.warning("tiny vocabulary: %s episode of %s stopped early: %s: %s", mode, task.id,
                    type(exc).__name__, exc)
    finally:
        await env.close()
    return texts


def build_tokenizer(texts: Iterable[str], *, min_count: int = 1,
                    keep_whitespace: bool = False) -> Any:
    """A word-level ``PreTrainedTokenizerFast`` whose vocabulary is the words of ``texts``
    (``keep_whitespace``: whitespace runs too, decoded by plain concatenation: exact text)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    split = _CODE_RE if keep_whitespace else _WORD_RE
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(split.findall(text))
    vocab: dict[str, int] = {tok: i for i, tok in enumerate(SPECIALS)}
    for word, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if c >= min_count and word not in vocab:
            vocab[word] = len(vocab)
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<|unk|>"))
    if keep_whitespace:
        core.pre_tokenizer = pre_tokenizers.Split(Regex(_CODE_RE.pattern), behavior="isolated")
        core.decoder = decoders.Fuse()  # tokens already hold their whitespace
    else:
        core.pre_tokenizer = pre_tokenizers.Sequence([  # exactly ``words()``'s split
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Split(Regex(_WORD_RE.pattern), behavior="isolated"),
        ])
        core.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # joins words: spaces
    core.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIALS])
    core.add_tokens([AddedToken(t, special=False, normalized=False) for t in TAGS])
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<|pad|>", unk_token="<|unk|>",
        bos_token="<|im_start|>", eos_token="<|im_end|>",
        **({"clean_up_tokenization_spaces": False} if keep_whitespace else {}),
    )
    tok.chat_template = CHAT_TEMPLATE
    tok.padding_side = "left"
    return tok


MIN_HEAD_DIM = 32
"""vLLM's CPU attention refuses heads narrower than this; the tiny model keeps to it so that
``hf`` and ``vllm`` load the same directory."""


def build_model(vocab_size: int, *, hidden_size: int = 64, layers: int = 2, heads: int = 2,
                max_positions: int = 4096, seed: int = 0, eos_token_id: int | None = None,
                pad_token_id: int | None = None) -> Any:
    """A randomly initialised Llama-architecture causal LM (seeded: the same on every machine).

    Llama rather than Qwen2: transformers 5 forces ``AutoTokenizer`` to its own BPE class for
    ``model_type="qwen2"`` directories, which would replace our word-level tokenizer on reload.
    Heads are at least ``MIN_HEAD_DIM`` wide (64 wide / 2 heads by default) so that vLLM loads
    the same model; a narrower head is refused here rather than by vLLM at engine start.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    if hidden_size % heads or hidden_size // heads < MIN_HEAD_DIM:
        raise ValueError(
            f"tiny model: hidden_size {hidden_size} / heads {heads} must be a whole head size "
            f">= {MIN_HEAD_DIM} (vLLM's CPU attention refuses narrower heads); use fewer heads "
            "or a wider model")
    config = LlamaConfig(
        vocab_size=vocab_size, hidden_size=hidden_size, intermediate_size=2 * hidden_size,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=max(1, heads // 2),
        max_position_embeddings=max_positions, tie_word_embeddings=True,
        eos_token_id=eos_token_id, pad_token_id=pad_token_id, bos_token_id=None,
    )
    gen = torch.random.fork_rng(devices=[])
    with gen:
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    return model.eval()


def build_tiny(env_name: str, *, seed: int = 0, hidden_size: int = 64, layers: int = 2,
               heads: int = 2, tasks_per_split: int = 16, host: Any = None,
               env_options: dict[str, Any] | None = None,
               task_options: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """``(model, tokenizer)`` for ``env_name``; call from sync code (see ``abuild_tiny``)."""
    return _run_sync(abuild_tiny(env_name, seed=seed, hidden_size=hidden_size, layers=layers,
                                 heads=heads, tasks_per_split=tasks_per_split, host=host,
                                 env_options=env_options, task_options=task_options))


async def abuild_tiny(env_name: str, *, seed: int = 0, hidden_size: int = 64, layers: int = 2,
                      heads: int = 2, tasks_per_split: int = 16, host: Any = None,
                      env_options: dict[str, Any] | None = None,
                      task_options: dict[str, Any] | None = None) -> tuple[Any, Any]:
    from turnrl.core.host import get_host

    host = host or get_host()
    texts = await collect_env_texts(env_name, tasks_per_split=tasks_per_split, seed=seed,
                                    host=host, env_options=env_options,
                                    task_options=task_options)
    code = host.env(env_name).extras.get("tiny_tokenizer") == "code"
    tok = build_tokenizer(texts, keep_whitespace=code)
    model = build_model(len(tok), hidden_size=hidden_size, layers=layers, heads=heads, seed=seed,
                        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    return model, tok


def save_tiny(env_name: str, out_dir: str | Path, **kwargs: Any) -> Path:
    """Build and save the tiny model + tokenizer; load with ``hf:<out_dir>`` or
    ``vllm:<out_dir>``."""
    model, tok = build_tiny(env_name, **kwargs)
    return save_model_dir(model, tok, out_dir)


def save_model_dir(model: Any, tokenizer: Any, out_dir: str | Path) -> Path:
    """``save_pretrained`` model and tokenizer into one directory in the standard layout
    (``config.json``, ``model.safetensors``, ``tokenizer.json`` + its config), which both
    transformers and vLLM load."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def _run_sync(coro: Any) -> Any:
    """Run a coroutine from sync code, also when an event loop already runs in this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
