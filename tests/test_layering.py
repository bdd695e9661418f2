"""Which parts of the code may import which: the layers, checked on the source (every import, including
those inside functions and under `TYPE_CHECKING`).

- `handlers/` are Slack listeners; the app (`bot.app`) wires them in, never the other way round.
- The domain and its services (`bot.jobs`, `bot.watch`, `bot.notify`, `bot.views`, `bot.finetune`,
  `storage`) know nothing of Slack listeners or of the app's wiring.
- `bot.jobs` returns plain outcomes and leaves the words and blocks to `bot.views`. One exception: the job
  service draws the card it posts and edits in the channel (`bot.views.card`), because the card module
  takes a drawn card.
- `bot.views` draws from data: it never calls the job service, the database or a listener.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# (importer prefix, forbidden prefix)
FORBIDDEN = [
    ("handlers", "bot.app"),
    *[
        (layer, forbidden)
        for layer in (
            "bot.jobs",
            "bot.watch",
            "bot.notify",
            "bot.views",
            "bot.finetune",
            "bot.preflight",
            "storage",
        )
        for forbidden in ("handlers", "bot.app")
    ],
    ("bot.jobs", "bot.views"),
    ("bot.views", "bot.jobs.service"),
    ("bot.views", "storage"),
    ("bot.views", "handlers"),
]
# (importing module, imported module): the exceptions the docstring explains.
ALLOWED = {("bot.jobs.service", "bot.views.card")}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _sources() -> dict[str, set[str]]:
    files = [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py"), *ROOT.glob("storage/**/*.py")]
    return {_module_name(path): _imports(path) for path in files}


def _violations(sources: dict[str, set[str]]) -> list[str]:
    found = []
    for module, imported in sorted(sources.items()):
        for name in sorted(imported):
            for layer, forbidden in FORBIDDEN:
                allowed = any(module == importer and _within(name, target) for importer, target in ALLOWED)
                if _within(module, layer) and _within(name, forbidden) and not allowed:
                    found.append(f"{module} imports {name} ({layer} must not import {forbidden})")
    return found


def test_the_layers_import_only_downwards() -> None:
    assert _violations(_sources()) == []


def test_the_scan_sees_every_layer() -> None:
    sources = _sources()
    for package in (
        "bot.jobs",
        "bot.watch",
        "bot.notify",
        "bot.views",
        "bot.finetune",
        "storage",
        "handlers",
    ):
        assert any(_within(module, package) for module in sources), package
    assert "bot.views.card" in sources["bot.jobs.service"]


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("handlers.actions", "bot.app.runtime"),
        ("bot.jobs.lists", "bot.views.lists"),
        ("bot.views.card", "bot.jobs.service"),
        ("bot.views.lists", "storage.sqlite"),
        ("storage.sqlite", "handlers.errors"),
        ("bot.notify.cards", "bot.app.bolt"),
        ("bot.jobs.service", "bot.views.replies"),
    ],
)
def test_a_forbidden_import_is_reported(module: str, imported: str) -> None:
    assert _violations({module: {imported}}) != []


def test_the_allowed_exception_is_only_the_card() -> None:
    assert _violations({"bot.jobs.service": {"bot.views.card", "bot.views.card.job_card"}}) == []
