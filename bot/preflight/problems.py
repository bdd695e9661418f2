"""The kinds of problem a training file can have, and how they are gathered line by line.

An error stops training (the API would reject the file, or the job would fail); a warning does not (the
job runs, but probably not as intended, or costs more than it should).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

SHOWN_LINES = 5


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"


class Kind(Enum):
    # value: (code, severity, what it means in plain words)
    NOT_JSON = ("not_json", Severity.ERROR, "not valid JSON")
    NOT_OBJECT = ("not_object", Severity.ERROR, "not a JSON object")
    BLANK_LINE = ("blank_line", Severity.ERROR, "blank line")
    MISSING_MESSAGES = ("missing_messages", Severity.ERROR, "missing or empty `messages`")
    UNKNOWN_KEY = ("unknown_key", Severity.ERROR, "unknown key")
    BAD_ROLE = ("bad_role", Severity.ERROR, "role outside system, user, assistant, tool, function")
    MISSING_CONTENT = ("missing_content", Severity.ERROR, "message without content")
    NO_ASSISTANT = ("no_assistant", Severity.ERROR, "no assistant message")
    BAD_WEIGHT = ("bad_weight", Severity.ERROR, "`weight` not 0 or 1 (or not on an assistant message)")
    BAD_TOOL_CALL = ("bad_tool_call", Severity.ERROR, "malformed tool call or tool definition")
    BAD_DPO = ("bad_dpo", Severity.ERROR, "malformed DPO example")
    WRONG_METHOD = ("wrong_method", Severity.ERROR, "example of the other training method")
    SPECIAL_TOKEN = ("special_token", Severity.ERROR, "special token in the text")
    TOO_FEW = ("too_few_examples", Severity.ERROR, "fewer than 10 examples")
    FILE_TOO_LARGE = ("file_too_large", Severity.ERROR, "file over 512 MB")
    TOO_LONG = ("too_long", Severity.WARNING, "over the model's token limit per example (truncated)")
    DUPLICATE = ("duplicate", Severity.WARNING, "duplicate example")

    @property
    def code(self) -> str:
        return self.value[0]

    @property
    def severity(self) -> Severity:
        severity: Severity = self.value[1]
        return severity

    @property
    def title(self) -> str:
        return self.value[2]


@dataclass
class Finding:
    """Every occurrence of one kind: the first few with their line and detail, and how many in all."""

    kind: Kind
    count: int = 0
    first: list[tuple[int | None, str]] = field(default_factory=list)

    @property
    def lines(self) -> list[int]:
        return [line for line, _ in self.first if line is not None]


class Findings:
    def __init__(self) -> None:
        self._by_kind: dict[Kind, Finding] = {}

    def add(self, kind: Kind, line: int | None, detail: str) -> None:
        finding = self._by_kind.get(kind)
        if finding is None:
            finding = self._by_kind[kind] = Finding(kind)
        finding.count += 1
        if len(finding.first) < SHOWN_LINES:
            finding.first.append((line, detail))

    def all(self) -> list[Finding]:
        """Errors first, then warnings, each in the order of the kinds above."""
        order = list(Kind)
        return sorted(
            self._by_kind.values(),
            key=lambda f: (f.kind.severity is not Severity.ERROR, order.index(f.kind)),
        )

    @property
    def has_errors(self) -> bool:
        return any(kind.severity is Severity.ERROR for kind in self._by_kind)
