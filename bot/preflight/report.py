"""What a pre-flight check found: the counts, the problems and the cost, as data, plain text or JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.jobs.prices import PRICES_AS_OF, format_usd
from bot.preflight.problems import Finding, Severity


@dataclass(frozen=True)
class Report:
    source: str
    model: str
    model_known: bool
    method: str
    encoding: str
    size_bytes: int
    examples: int
    messages: int
    tokens: int
    longest_example: int
    example_limit: int
    billed_tokens_per_epoch: int
    epochs: int
    epochs_auto: bool
    usd_per_million: float | None
    findings: tuple[Finding, ...]

    @property
    def trainable(self) -> bool:
        return not any(f.kind.severity is Severity.ERROR for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.kind.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.kind.severity is Severity.WARNING]

    @property
    def billed_tokens(self) -> int:
        return self.billed_tokens_per_epoch * self.epochs

    @property
    def usd(self) -> float | None:
        if self.usd_per_million is None:
            return None
        return self.billed_tokens * self.usd_per_million / 1_000_000

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.source,
            "trainable": self.trainable,
            "model": self.model,
            "method": self.method,
            "encoding": self.encoding,
            "bytes": self.size_bytes,
            "examples": self.examples,
            "messages": self.messages,
            "tokens": self.tokens,
            "longest_example_tokens": self.longest_example,
            "example_token_limit": self.example_limit,
            "billed_tokens_per_epoch": self.billed_tokens_per_epoch,
            "epochs": self.epochs,
            "epochs_auto": self.epochs_auto,
            "billed_tokens": self.billed_tokens,
            "usd_per_million_tokens": self.usd_per_million,
            "estimated_usd": None if self.usd is None else round(self.usd, 4),
            "prices_as_of": PRICES_AS_OF,
            "problems": [
                {
                    "kind": f.kind.code,
                    "severity": f.kind.severity.value,
                    "title": f.kind.title,
                    "count": f.count,
                    "first": [{"line": line, "detail": detail} for line, detail in f.first],
                }
                for f in self.findings
            ],
        }


def verdict(report: Report) -> str:
    if report.trainable:
        extra = f" ({_plural(len(report.warnings), 'warning')})" if report.warnings else ""
        return f"can be trained{extra}"
    return f"cannot be trained: {_plural(len(report.errors), 'kind')} of error"


def count_lines(report: Report) -> list[str]:
    """The counts and the estimate, one fact a line, in plain words (shared by the CLI and Slack)."""
    lines = [
        f"{report.examples:,} examples, {report.messages:,} messages, {report.tokens:,} tokens "
        f"({report.encoding}; longest example {report.longest_example:,} of {report.example_limit:,})",
    ]
    epochs = f"{report.epochs} epoch{'s' if report.epochs != 1 else ''}" + (
        " (auto)" if report.epochs_auto else ""
    )
    billed = f"billed {report.billed_tokens_per_epoch:,} tokens × {epochs} = {report.billed_tokens:,} tokens"
    if report.usd is None:
        lines.append(f"{billed}; no price known for {report.model}")
    else:
        lines.append(
            f"{billed}; about {format_usd(report.usd)} at ${report.usd_per_million:,.2f} per 1M "
            f"({report.model}, {report.method}, prices of {PRICES_AS_OF})"
        )
    if not report.model_known:
        lines.append(f"{report.model} is not a model TuneOps knows: counted with {report.encoding}")
    return lines


def finding_line(finding: Finding) -> str:
    """`not valid JSON (12): line 4 (…), line 9 (…) and 10 more`; a whole-file finding has no line."""
    shown = ", ".join(f"line {line} ({detail})" if line else detail for line, detail in finding.first)
    rest = finding.count - len(finding.first)
    more = f" and {rest:,} more" if rest > 0 else ""
    count = f" ({finding.count:,})" if finding.lines else ""
    return f"{finding.kind.title}{count}: {shown}{more}"


def render_text(report: Report) -> str:
    out = [f"{report.source}: {verdict(report)}", *(f"  {line}" for line in count_lines(report))]
    for label, group in (("errors", report.errors), ("warnings", report.warnings)):
        if group:
            out.append(f"{label}:")
            out.extend(f"  - {finding_line(f)}" for f in group)
    return "\n".join(out)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"
