"""The results file of a finished job: a CSV with one row per step.

Columns differ between providers and over time, so the header is read, never assumed. Some servers return
the CSV base64-encoded; when the content is not a CSV with a `step` column, base64 is tried.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from dataclasses import dataclass

from bot.finetune.errors import ResultsFormatError

Cell = int | float | str | None
Row = dict[str, Cell]


@dataclass(frozen=True)
class ResultsTable:
    columns: tuple[str, ...]
    rows: tuple[Row, ...]

    def __len__(self) -> int:
        return len(self.rows)

    def last(self) -> Row | None:
        return self.rows[-1] if self.rows else None

    def column(self, name: str) -> list[Cell]:
        return [row.get(name) for row in self.rows]

    def latest(self, name: str) -> float | None:
        """The last numeric value of a column (validation cells are empty on most steps)."""
        for row in reversed(self.rows):
            value = row.get(name)
            if isinstance(value, int | float):
                return float(value)
        return None

    def final_losses(self) -> dict[str, float]:
        """For every column whose name mentions `loss`, its last recorded value."""
        found: dict[str, float] = {}
        for name in self.columns:
            if "loss" in name.lower():
                value = self.latest(name)
                if value is not None:
                    found[name] = value
        return found


def _cell(name: str, text: str) -> Cell:
    text = text.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if name == "step" and number.is_integer():
        return int(number)
    return number


def _table(text: str) -> ResultsTable | None:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if not header:
        return None
    columns = tuple(name.strip() for name in header)
    if "step" not in columns:
        return None
    rows = []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        rows.append({name: _cell(name, value) for name, value in zip(columns, record, strict=False)})
    return ResultsTable(columns=columns, rows=tuple(rows))


def _text(content: bytes) -> str | None:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


def parse_results(content: bytes | str) -> ResultsTable:
    """Parse a results CSV, plain or base64-encoded; `ResultsFormatError` if it is neither."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    text = _text(raw)
    table = _table(text) if text is not None else None
    if table is not None:
        return table
    try:
        decoded = base64.b64decode(b"".join(raw.split()), validate=True)
    except (binascii.Error, ValueError):
        decoded = None
    if decoded is not None:
        text = _text(decoded)
        table = _table(text) if text is not None else None
        if table is not None:
            return table
    raise ResultsFormatError("the results file is not a CSV with a step column (plain or base64)")
