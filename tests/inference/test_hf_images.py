"""The hf backend with a vision-language processor: a tiny random Llava built offline gets the
prompt's screenshot as pixel values in its first forward pass; text-only models refuse none."""

from __future__ import annotations

import asyncio
import base64
import io
from pathlib import Path
from typing import Any

import pytest

from turnrl.core.context import with_images
from turnrl.core.policy import GenerationRequest, SamplingParams
from turnrl.inference.hf import HFPolicy

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
Image = pytest.importorskip("PIL.Image")

WORDS = ["<|pad|>", "<|unk|>", "<|im_start|>", "<|im_end|>", "<image>", "user", "assistant",
         "look", "at", "the", "page", "click", "(", ")", "4", "<action>", "</action>"]
TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for p in m['content'] %}"
            "{% if p['type'] == 'image' %}<image>{% else %}{{ p['text'] }}{% endif %}"
            "{% endfor %}<|im_end|>\n{% endfor %}"
            "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
IMAGE_TOKEN = WORDS.index("<image>")


@pytest.fixture(scope="module")
def tiny_llava() -> tuple[Any, Any]:
    from tokenizers import Tokenizer, models, pre_tokenizers

    tk = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<|unk|>"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tk, unk_token="<|unk|>", pad_token="<|pad|>", eos_token="<|im_end|>",
        additional_special_tokens=["<image>", "<|im_start|>"])
    image_processor = transformers.CLIPImageProcessorPil(
        size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28})
    processor = transformers.LlavaProcessor(
        image_processor=image_processor, tokenizer=tok, patch_size=14,
        vision_feature_select_strategy="default", chat_template=TEMPLATE,
        num_additional_image_tokens=1)
    config = transformers.LlavaConfig(
        vision_config=transformers.CLIPVisionConfig(
            hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
            image_size=28, patch_size=14),
        text_config=transformers.LlamaConfig(
            vocab_size=len(WORDS), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
            num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256),
        image_token_index=IMAGE_TOKEN, vision_feature_select_strategy="default",
        vision_feature_layer=-1)
    torch.manual_seed(0)
    return transformers.LlavaForConditionalGeneration(config).eval(), processor


def png(color: tuple[int, int, int]) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (160, 210), color).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def request(image: str | None, seed: int = 1) -> GenerationRequest:
    messages = [{"role": "user", "content": "look at the page"}]
    if image is not None:
        messages = with_images(messages, [image])
    return GenerationRequest(messages, SamplingParams(max_tokens=4, temperature=0, seed=seed))


def test_the_screenshot_reaches_the_vision_tower(tiny_llava: tuple[Any, Any]) -> None:
    model, processor = tiny_llava
    policy = HFPolicy(model, processor.tokenizer, processor=processor)
    assert policy.accepts_images
    seen: list[Any] = []
    tower = model.model.vision_tower if hasattr(model.model, "vision_tower") \
        else model.vision_tower
    def record(module: Any, args: tuple, kwargs: dict) -> None:
        seen.append(kwargs["pixel_values"] if "pixel_values" in kwargs else args[0])

    hook = tower.register_forward_pre_hook(record, with_kwargs=True)
    try:
        red, blue = png((255, 0, 0)), png((0, 0, 255))
        out = asyncio.run(policy.generate([request(red), request(blue), request(None)]))
    finally:
        hook.remove()
    assert len(seen) == 2  # one first pass per image request; the text request has none
    expected = processor.image_processor(
        images=[Image.open(io.BytesIO(base64.b64decode(red))).convert("RGB")],
        return_tensors="pt")["pixel_values"]
    assert torch.allclose(seen[0].float(), expected.float())
    assert not torch.allclose(seen[0], seen[1])
    image_prompt, _, text_prompt = (c.prompt_ids for c in out)
    assert image_prompt.count(IMAGE_TOKEN) == 4  # 2x2 patches, CLS dropped
    assert IMAGE_TOKEN not in text_prompt
    for completion in out:
        assert 1 <= len(completion.token_ids) == len(completion.logprobs) <= 4
    # the screenshot changes what the model sees: the first-token distributions differ
    assert out[0].logprobs[0] != out[1].logprobs[0] or out[0].token_ids != out[1].token_ids


def test_from_pretrained_loads_the_processor(tiny_llava: tuple[Any, Any],
                                             tmp_path: Path) -> None:
    model, processor = tiny_llava
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    policy = HFPolicy.from_pretrained(str(tmp_path))
    assert policy.accepts_images
    completion = asyncio.run(policy.generate([request(png((0, 255, 0)))]))[0]
    assert completion.prompt_ids.count(IMAGE_TOKEN) == 4


def test_text_only_models_take_no_images(tiny: tuple[Any, Any]) -> None:
    model, tok = tiny
    assert HFPolicy(model, tok).accepts_images is False
    assert HFPolicy(model, tok, processor=tok).accepts_images is False  # no image processor
