"""Only views know Block Kit: the service and the listeners hand over `SlackMessage`s that
`bot/views/` built, and never write blocks themselves. The Slack stand-in (a fake Slack) and the emulator
are not the service and are left out."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE_VIEWS = sorted(
    path
    for folder in ("bot", "handlers")
    for path in (ROOT / folder).rglob("*.py")
    if not {"views", "standin", "emulator"} & set(path.relative_to(ROOT).parts)
)
BLOCK_TYPES = {"section", "context", "actions", "header", "divider", "mrkdwn", "plain_text", "button"}
VIEW_BUILDERS = {"fit", "more_note"}


def _block_kit_in(path: Path) -> list[str]:
    found: list[str] = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "type"
                    and isinstance(value, ast.Constant)
                    and value.value in BLOCK_TYPES
                ):
                    found.append(f"line {node.lineno}: a {value.value!r} block written by hand")
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("slack_sdk.models"):
                found.append(f"line {node.lineno}: imports {node.module}")
            if node.module == "bot.views.message":
                builders = VIEW_BUILDERS & {alias.name for alias in node.names}
                if builders:
                    found.append(f"line {node.lineno}: composes messages with {sorted(builders)}")
        if isinstance(node, ast.ImportFrom) and node.module == "bot.views":
            builders = VIEW_BUILDERS & {alias.name for alias in node.names}
            if builders:
                found.append(f"line {node.lineno}: composes messages with {sorted(builders)}")
    return found


@pytest.mark.parametrize("path", OUTSIDE_VIEWS, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_block_kit_outside_views(path: Path) -> None:
    assert _block_kit_in(path) == []


def test_the_check_sees_what_it_looks_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from bot.views.message import fit\n"
        "def answer(text):\n"
        "    return fit(text, [{'type': 'section', 'text': {'type': 'mrkdwn', 'text': text}}])\n"
    )
    found = _block_kit_in(sample)
    assert len(found) == 3, found
