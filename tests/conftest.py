"""Loads every module of `tests/support` as a plugin, so each area keeps its fixtures in its own file."""

from __future__ import annotations

import pkgutil

import pytest

# Support modules import each other; registering the package keeps pytest's assertion rewriting on for all.
pytest.register_assert_rewrite("tests.support")

from tests import support  # noqa: E402

pytest_plugins = [f"tests.support.{module.name}" for module in pkgutil.iter_modules(support.__path__)]
