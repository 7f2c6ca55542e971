"""The embedded tiny model: vocabulary from the environment, save/load round trip."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import turnrl
from turnrl.core.context import ContextBuilder
from turnrl.inference.tiny import SPECIALS, TAGS, build_model, build_tokenizer, words


def test_every_word_of_the_env_is_in_the_vocabulary(tiny: tuple[Any, Any]) -> None:
    _, tok = tiny
    unk = tok.unk_token_id

    async def texts() -> list[str]:
        out = []
        # a task the vocabulary was NOT built from (valid split index 20 > tasks_per_split)
        task = turnrl.tasks("toy-env", "valid")[20]
        env = turnrl.make("toy-env")
        obs = await env.reset(task, seed=task.seed)
        out.append(ContextBuilder().messages("", [], obs)[0]["content"])
        for a in obs.actions or ():
            out.append(a)
        return out

    for text in asyncio.run(texts()):
        ids = tok(text, add_special_tokens=False)["input_ids"]
        assert unk not in ids, tok.convert_ids_to_tokens(ids)
        # one token per word or punctuation mark (fewer: each tag is one token)
        saved = sum(text.count(t) * (len(words(t)) - 1) for t in TAGS)
        assert len(ids) == len(words(text)) - saved


def test_tags_and_chat_markers_are_single_tokens(tiny: tuple[Any, Any]) -> None:
    _, tok = tiny
    for t in (*TAGS, *SPECIALS):
        assert len(tok(t, add_special_tokens=False)["input_ids"]) == 1, t
    text = "<think> go </think> <action> go north </action>"
    assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text


def test_chat_template_and_generation_prompt(tiny: tuple[Any, Any]) -> None:
    _, tok = tiny
    ids = tok.apply_chat_template([{"role": "user", "content": "go north"}],
                                  add_generation_prompt=True, tokenize=True)
    ids = ids["input_ids"] if hasattr(ids, "keys") else ids
    assert tok.convert_ids_to_tokens(ids) == [
        "<|im_start|>", "user", "go", "north", "<|im_end|>", "<|im_start|>", "assistant"]


def test_model_is_seeded_and_small(tiny: tuple[Any, Any]) -> None:
    import torch

    model, tok = tiny
    again = build_model(len(tok), seed=0, eos_token_id=tok.eos_token_id,
                        pad_token_id=tok.pad_token_id)
    other = build_model(len(tok), seed=1)
    sd, sd2, sd3 = model.state_dict(), again.state_dict(), other.state_dict()
    assert all(torch.equal(sd[k], sd2[k]) for k in sd)
    assert not all(torch.equal(sd[k], sd3[k]) for k in sd)
    assert sum(p.numel() for p in model.parameters()) < 200_000
    assert model.config.num_hidden_layers == 2


def test_save_and_load_round_trip(tiny: tuple[Any, Any], tiny_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model, tok = tiny
    tok2 = AutoTokenizer.from_pretrained(tiny_dir)
    model2 = AutoModelForCausalLM.from_pretrained(tiny_dir)
    text = "You are in a 4x4 grid . <action> go north </action>"
    assert tok2(text)["input_ids"] == tok(text)["input_ids"]
    assert tok2.chat_template == tok.chat_template
    ids = torch.tensor([tok(text)["input_ids"]])
    with torch.no_grad():
        assert torch.allclose(model(ids).logits, model2(ids).logits, atol=1e-6)


def test_min_count_filters_rare_words() -> None:
    tok = build_tokenizer(["a a b"], min_count=2)
    assert tok.convert_tokens_to_ids("a") != tok.unk_token_id
    assert tok.convert_tokens_to_ids("b") == tok.unk_token_id


def test_vocabulary_follows_the_run_task_and_env_options() -> None:
    """A run on a 12x12 grid (``env.task_options``) must know ``12x12``; the default panel
    (8x8) never says it, so a vocabulary built without the options would map it to <unk>."""
    from turnrl.inference.tiny import collect_env_texts

    default = asyncio.run(collect_env_texts("toy-env", tasks_per_split=2))
    sized = asyncio.run(collect_env_texts("toy-env", tasks_per_split=2,
                                          task_options={"size": 12},
                                          env_options={"max_steps": 7}))
    assert not any("12x12" in t for t in default)
    assert any("12x12" in t for t in sized)
    tok = build_tokenizer(sized)
    assert tok.unk_token_id not in tok("You are in a 12x12 grid.",
                                       add_special_tokens=False)["input_ids"]


def test_recipe_builds_the_tiny_vocabulary_with_the_run_options() -> None:
    from turnrl.core.config import load_config
    from turnrl.trainers.config import TrainConfig
    from turnrl.trainers.recipe import build_model

    cfg = load_config(None, ["policy.backend=hf", "policy.model=tiny", "model.layers=1",
                             "model.hidden_size=32", "model.heads=1",
                             "env.task_options.size=12"],
                      model=TrainConfig)
    _, tok = build_model(cfg, turnrl.get_host())
    assert tok.unk_token_id not in tok("12x12", add_special_tokens=False)["input_ids"]
