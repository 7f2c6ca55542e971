"""Images in prompts: the context builder attaches the current observation's images for
backends that accept them, and the OpenAI backend sends them as image_url parts."""

from __future__ import annotations

import pytest

from turnrl.core.context import (
    ContextBuilder,
    PromptTemplate,
    Turn,
    get_template,
    message_images,
    message_text,
    resolve_template,
    with_images,
)
from turnrl.core.env import EnvSpec
from turnrl.core.types import Observation
from turnrl.inference.openai import OpenAIPolicy, _chat_message

OBS = Observation(text="the page", images=("AAAA", "BBBB"))


def test_images_ride_along_only_when_the_backend_takes_them() -> None:
    history = [Turn("before", "click(1)")]
    text_only = ContextBuilder("verl-agent").messages("do it", history, OBS)
    assert isinstance(text_only[-1]["content"], str)
    with_pics = ContextBuilder("verl-agent", images=True).messages("do it", history, OBS)
    content = with_pics[-1]["content"]
    assert content[:2] == [{"type": "image", "image": "AAAA"}, {"type": "image", "image": "BBBB"}]
    assert content[2] == {"type": "text", "text": text_only[-1]["content"]}
    assert message_text(with_pics[-1]) == text_only[-1]["content"]
    assert message_images(with_pics[-1]) == ["AAAA", "BBBB"]
    no_pics = ContextBuilder("verl-agent", images=True).messages(
        "do it", history, Observation(text="the page"))
    assert no_pics == text_only


def test_with_images_targets_the_last_user_message() -> None:
    messages = [{"role": "system", "content": "sys"}, {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}]
    out = with_images(messages, ["IMG"])
    assert out[:3] == messages[:3]
    assert messages[3]["content"] == "c"
    assert out[3]["content"] == [{"type": "image", "image": "IMG"}, {"type": "text", "text": "c"}]
    assert with_images([{"role": "system", "content": "s"}], ["I"])[-1] == {
        "role": "user", "content": [{"type": "image", "image": "I"}]}


def test_openai_format_and_when_the_backend_accepts_images() -> None:
    message = with_images([{"role": "user", "content": "look"}], ["QUJD"])[0]
    assert _chat_message(message) == {"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}},
        {"type": "text", "text": "look"}]}
    plain = {"role": "user", "content": "hi"}
    assert _chat_message(plain) is plain
    assert OpenAIPolicy("http://127.0.0.1:1").accepts_images is True
    assert OpenAIPolicy("http://127.0.0.1:1", images=False).accepts_images is False


def test_an_environment_registers_its_own_template() -> None:
    own = PromptTemplate(lambda *a: [{"role": "user", "content": "own"}],
                         get_template("plain").parse, lambda a: a)
    spec = EnvSpec(name="e", plugin="p", factory=object, tasks=list, extras={"template": own})
    assert resolve_template("auto", spec) is own
    assert resolve_template("verl-agent", spec) is get_template("verl-agent")
    by_path = EnvSpec(name="g", plugin="p", factory=object, tasks=list,
                      extras={"template": "turnrl.plugins.gui.prompt:GUI_TEMPLATE"})
    from turnrl.plugins.gui.prompt import GUI_TEMPLATE

    assert resolve_template("auto", by_path) is GUI_TEMPLATE
    bad = EnvSpec(name="b", plugin="p", factory=object, tasks=list, extras={"template": 3})
    with pytest.raises(TypeError, match="not a PromptTemplate"):
        resolve_template("auto", bad)
