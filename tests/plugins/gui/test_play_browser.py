"""``turnrl play gui``: the text observation in the terminal, the screenshot in a file whose
path is printed, and the episode played from typed actions."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest

from tests.plugins.gui.conftest import png_size

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("chromium")]


def test_play_prints_the_page_and_writes_screenshots(tmp_path: Path, monkeypatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from turnrl.cli import main

    # gui-train-click-button-000: 'Click on the "okay" button.', button "okay" is [6]
    monkeypatch.setattr("sys.stdin", io.StringIO("look\nclick(6)\n"))
    code = main(["play", "gui", "--task", "gui-train-click-button-000",
                 "--image-dir", str(tmp_path / "shots")])
    out = capsys.readouterr().out
    assert code == 0
    assert 'Task: Click on the "okay" button.' in out
    assert '[6] button "okay"' in out
    shots = re.findall(r"screenshot: (\S+)", out)
    assert shots == [str(tmp_path / "shots" / "step-000.png"),
                     str(tmp_path / "shots" / "step-001.png")]
    for shot in shots:
        assert png_size(base64.b64encode(Path(shot).read_bytes()).decode()) == \
            (160, 210)
    assert "(invalid action)" in out
    assert "episode won" in out
    assert out.rstrip().endswith("steps: 2  total reward: 1")
