"""Loads every module of `tests/support` as a plugin, so each area keeps its fixtures in its own file."""

from __future__ import annotations

import pkgutil

from tests import support

pytest_plugins = [f"tests.support.{module.name}" for module in pkgutil.iter_modules(support.__path__)]
