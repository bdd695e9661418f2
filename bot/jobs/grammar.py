"""`/finetune` text → a typed `Command`, or a `CommandError` that says in plain words what is wrong.

The grammar is DESIGN.md §2. Parsing is strict but forgiving of what Slack and keyboards do to text: Slack's
`&amp;`/`&lt;`/`&gt;` escapes, smart quotes (“ ” ‘ ’), non-breaking spaces, backticks around a copied job id,
upper-case subcommands. A create request reports every problem at once, using the same value parsing as the
create form (`spec_from_values`) and `JobSpec.problems`.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from bot.finetune.spec import AUTO, Auto, JobSpec, ProviderName
from bot.views.format import bullet_list

T = TypeVar("T")

DEFAULT_COMMAND = "/finetune"
EXAMPLE_JOB_ID = "ftjob-abc123"
MAX_EVENTS = 50
DEFAULT_EVENTS = 10
JOB_ID = re.compile(r"^ftjob-[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")

SUBCOMMANDS = (
    "help",
    "create",
    "list",
    "status",
    "pause",
    "resume",
    "cancel",
    "events",
    "checkpoints",
    "watch",
    "unwatch",
)
JOB_SUBCOMMANDS = ("status", "pause", "resume", "cancel", "events", "checkpoints", "watch", "unwatch")
LIST_WORDS = ("active", "all", "mine")

# create: key → what the value is, for the "did you mean" list and the form's block ids.
SPEC_KEYS = (
    "model",
    "training_file",
    "validation_file",
    "suffix",
    "seed",
    "epochs",
    "batch_size",
    "lr_multiplier",
    "method",
    "beta",
)
KEY_ALIASES = {
    "base_model": "model",
    "training_file_id": "training_file",
    "train_file": "training_file",
    "validation_file_id": "validation_file",
    "n_epochs": "epochs",
    "learning_rate_multiplier": "lr_multiplier",
    "lr": "lr_multiplier",
}
META_PREFIXES = ("meta.", "metadata.")


# ---------------------------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class Help:
    topic: str | None = None


@dataclass(frozen=True)
class CreateJob:
    spec: JobSpec


@dataclass(frozen=True)
class OpenCreateForm:
    pass


@dataclass(frozen=True)
class ListJobs:
    """`list` → this channel's jobs, active and recent ("channel"); `list active` → only its active ones;
    `list all` → every job of the account, from the API. `mine` keeps the jobs the person started."""

    scope: Literal["channel", "active", "all"] = "channel"
    mine: bool = False


@dataclass(frozen=True)
class JobAction:
    action: Literal["pause", "resume", "cancel"]
    job_id: str


@dataclass(frozen=True)
class ShowStatus:
    job_id: str


@dataclass(frozen=True)
class ShowEvents:
    job_id: str
    limit: int = DEFAULT_EVENTS


@dataclass(frozen=True)
class ShowCheckpoints:
    job_id: str


@dataclass(frozen=True)
class Watch:
    job_id: str


@dataclass(frozen=True)
class Unwatch:
    job_id: str


Command = (
    Help
    | CreateJob
    | OpenCreateForm
    | ListJobs
    | JobAction
    | ShowStatus
    | ShowEvents
    | ShowCheckpoints
    | Watch
    | Unwatch
)


class CommandError(Exception):
    """Bad command text. `message` is plain words for the person (mrkdwn); `usage` asks the reply to add
    the usage text."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage


def action_name(command: Command) -> str:
    """The command's action in the words of the permission policy and the audit log."""
    match command:
        case Help():
            return "help"
        case CreateJob():
            return "create"
        case OpenCreateForm():
            return "open_form"
        case ListJobs():
            return "list"
        case JobAction(action=action):
            return action
        case ShowStatus():
            return "status"
        case ShowEvents():
            return "events"
        case ShowCheckpoints():
            return "checkpoints"
        case Watch():
            return "watch"
        case Unwatch():
            return "unwatch"


def command_job_id(command: Command) -> str | None:
    """The job a command is about, if any."""
    job_id = getattr(command, "job_id", None)
    return job_id if isinstance(job_id, str) else None


# ---------------------------------------------------------------------------------------------- parsing


def parse_command(text: str, *, command: str = DEFAULT_COMMAND, provider: str = "openai") -> Command:
    words = tokenize(text)
    if not words:
        return Help()
    verb, args = words[0].lower(), words[1:]
    if verb in ("help", "-h", "--help", "?"):
        return Help(topic=args[0].lower() if args else None)
    if verb == "create":
        if not args:
            return OpenCreateForm()
        return CreateJob(_create_spec(args, command=command, provider=_provider(provider)))
    if verb == "list":
        return _list(args, command=command)
    if verb in JOB_SUBCOMMANDS:
        return _job_command(verb, args, command=command)
    raise _unknown_subcommand(words[0], args, command=command)


def tokenize(text: str) -> list[str]:
    """Split like a shell, but for chat text: quotes open a value only at the start of a word or right
    after `=` (so the apostrophe in `don't` stays an apostrophe), and any kind of quote mark works."""
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    words: list[str] = []
    current: list[str] = []
    in_word = False
    closing: str | None = None
    opened_at = ""
    for char in text:
        if closing is not None:
            if char in closing:
                closing = None
            else:
                current.append(char)
            continue
        if char.isspace():
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
            continue
        at_value_start = not in_word or (current and current[-1] == "=")
        if at_value_start and char in _OPENING_QUOTES:
            closing = _OPENING_QUOTES[char]
            opened_at = "".join(current) + char
            in_word = True
            continue
        current.append(char)
        in_word = True
    if closing is not None:
        raise CommandError(
            f"The quote in {_shown(opened_at)} is never closed. Put the closing quote after the value, "
            'e.g. `suffix="my run"`.'
        )
    if in_word:
        words.append("".join(current))
    return words


_DOUBLE = '"“”„‟«»'
_SINGLE = "'‘’‚‛"
_OPENING_QUOTES = {**dict.fromkeys(_DOUBLE, _DOUBLE), **dict.fromkeys(_SINGLE, _SINGLE)}


def _provider(provider: str) -> ProviderName:
    return "azure" if provider == "azure" else "openai"


def _shown(word: str, limit: int = 40) -> str:
    """A word from the user, quoted as inline code and made safe for mrkdwn."""
    if len(word) > limit:
        word = word[: limit - 1] + "…"
    word = word.replace("`", "'").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"`{word}`"


def _suggest(word: str, choices: tuple[str, ...] | list[str]) -> str | None:
    matches = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _unknown_subcommand(word: str, args: list[str], *, command: str) -> CommandError:
    if looks_like_job_id(_strip_code(word)):
        return CommandError(
            f"That looks like a job id. To see it, try `{command} status {_strip_code(word)}`.", usage=True
        )
    if "=" in word:
        return CommandError(
            f"To start a job, begin with `create`, e.g. `{command} create model=gpt-4o-mini-2024-07-18 "
            "training_file=file-abc123`.",
            usage=True,
        )
    message = f"I don't know {_shown(word)}."
    suggestion = _suggest(word, SUBCOMMANDS)
    if suggestion:
        message += f" Did you mean `{suggestion}`?"
    return CommandError(message, usage=True)


def _strip_code(word: str) -> str:
    return word.strip("`*_")


def looks_like_job_id(word: str) -> bool:
    return bool(JOB_ID.match(word))


def _job_command(verb: str, args: list[str], *, command: str) -> Command:
    example = f"`{command} {verb} {EXAMPLE_JOB_ID}{' 20' if verb == 'events' else ''}`"
    if not args:
        return _raise(f"`{verb}` needs a job id, e.g. {example}.")
    if verb == "events" and len(args) == 2 and _is_int(args[0]) and looks_like_job_id(_strip_code(args[1])):
        args = [args[1], args[0]]  # `events 20 ftjob-…` reads just as well
    job_id = _strip_code(args[0])
    if not looks_like_job_id(job_id):
        return _raise(
            f"{_shown(args[0])} doesn't look like a job id: job ids start with `ftjob-`, e.g. {example}."
        )
    extra = args[1:]
    if verb == "events" and extra:
        count = extra[0]
        if not _is_int(count) or not 1 <= int(count) <= MAX_EVENTS:
            return _raise(
                f"The number of events must be a whole number from 1 to {MAX_EVENTS}, not {_shown(count)}; "
                f"e.g. {example}."
            )
        if len(extra) > 1:
            return _raise(_extra_words(verb, extra[1:], "a job id and a number of events"))
        return ShowEvents(job_id, int(count))
    if extra:
        return _raise(_extra_words(verb, extra, "just a job id"))
    match verb:
        case "status":
            return ShowStatus(job_id)
        case "events":
            return ShowEvents(job_id)
        case "checkpoints":
            return ShowCheckpoints(job_id)
        case "watch":
            return Watch(job_id)
        case "unwatch":
            return Unwatch(job_id)
        case "pause":
            return JobAction("pause", job_id)
        case "resume":
            return JobAction("resume", job_id)
        case _:
            return JobAction("cancel", job_id)


def _raise(message: str) -> Command:
    raise CommandError(message)


def _extra_words(verb: str, extra: list[str], takes: str) -> str:
    words = " ".join(extra)
    return f"`{verb}` takes {takes}; I don't know what to do with {_shown(words)}."


def _is_int(word: str) -> bool:
    return bool(re.fullmatch(r"[+-]?\d{1,18}", word))


def _list(args: list[str], *, command: str) -> ListJobs:
    scope: Literal["channel", "active", "all"] = "channel"
    mine = False
    seen: set[str] = set()
    for arg in args:
        word = arg.lower()
        if word not in LIST_WORDS:
            message = f"`list` understands `active`, `all` and `mine`, not {_shown(arg)}."
            suggestion = _suggest(word, LIST_WORDS)
            if suggestion:
                message += f" Did you mean `{suggestion}`?"
            raise CommandError(message + f" E.g. `{command} list active mine`.")
        if word in seen:
            raise CommandError(f"`{word}` is given twice.")
        seen.add(word)
        if word == "mine":
            mine = True
        elif scope != "channel":
            raise CommandError(
                "Choose one of `active` (this channel's running jobs) or `all` (every job of the account)."
            )
        else:
            scope = "active" if word == "active" else "all"
    return ListJobs(scope=scope, mine=mine)


# ---------------------------------------------------------------------------------------------- create


def _create_spec(args: list[str], *, command: str, provider: ProviderName) -> JobSpec:
    problems: list[tuple[str, str]] = []
    values: dict[str, str] = {}
    metadata: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        name = key.strip().lower()
        if not sep:
            suggestion = canonical_key(name)
            example = f"{suggestion or 'suffix'}={_example_value(suggestion or 'suffix')}"
            problems.append((key, f"needs a value: write it as `key=value`, e.g. `{example}`"))
            continue
        meta_key = _meta_key(key)
        if meta_key is not None:
            if not meta_key:
                problems.append((key, "needs a name after the dot, e.g. `meta.team=search`"))
            elif meta_key in metadata:
                problems.append((f"meta.{meta_key}", "is given twice"))
            else:
                metadata[meta_key] = value
            continue
        canonical = canonical_key(name)
        if canonical is None:
            hint = _suggest(name, list(SPEC_KEYS) + list(KEY_ALIASES))
            fix = f" — did you mean `{KEY_ALIASES.get(hint, hint)}`?" if hint else ""
            problems.append((key, f"is not a setting I know{fix}"))
            continue
        if canonical in values:
            problems.append((canonical, "is given twice"))
            continue
        values[canonical] = value
    spec, spec_problems = spec_from_values(values, metadata, provider=provider)
    problems.extend(spec_problems)
    if problems or spec is None:
        raise CommandError(_create_problems_text(problems, command=command))
    return spec


def _meta_key(key: str) -> str | None:
    lowered = key.lower()
    for prefix in META_PREFIXES:
        if lowered.startswith(prefix):
            return key[len(prefix) :]
    return None


def canonical_key(name: str) -> str | None:
    name = name.lower().replace("-", "_")
    if name in SPEC_KEYS:
        return name
    return KEY_ALIASES.get(name)


def _example_value(key: str) -> str:
    return {
        "model": "gpt-4o-mini-2024-07-18",
        "training_file": "file-abc123",
        "validation_file": "file-def456",
        "suffix": "my-run",
        "seed": "42",
        "epochs": "3",
        "batch_size": "auto",
        "lr_multiplier": "0.5",
        "method": "dpo",
        "beta": "0.1",
    }.get(key, "value")


def _create_problems_text(problems: list[tuple[str, str]], *, command: str) -> str:
    count = len(problems)
    lines = [f"I can't start that job yet — {count} thing{'s' if count != 1 else ''} to fix:"]
    lines.extend(bullet_list([f"{_shown(field)} {message}" for field, message in problems]))
    if any(message.startswith("is not a setting I know") for _, message in problems):
        known = ", ".join(f"`{key}`" for key in SPEC_KEYS)
        lines.append(f"The settings I know: {known} and `meta.<key>`.")
    lines.append(
        f"Usage: `{command} create model=<base> training_file=<file-id> [validation_file=<file-id>] "
        "[suffix=<text>] [seed=<n>] [epochs=<n|auto>] [batch_size=<n|auto>] [lr_multiplier=<x|auto>] "
        "[method=supervised|dpo] [beta=<x|auto>] [meta.<key>=<value> …]`"
    )
    return "\n".join(lines)


def spec_from_values(
    values: Mapping[str, str], metadata: Mapping[str, str] | None = None, *, provider: ProviderName = "openai"
) -> tuple[JobSpec | None, list[tuple[str, str]]]:
    """Build a `JobSpec` from raw text values keyed by `SPEC_KEYS`, reporting every problem at once as
    `(field, message)` pairs like `JobSpec.problems` ("seed", "must be a whole number…")."""
    problems: list[tuple[str, str]] = []
    failed: set[str] = set()

    def parsed(key: str, parse: Callable[[str], T]) -> T | None:
        raw = values.get(key)
        if raw is None:
            return None
        raw = raw.strip()
        if not raw:
            problems.append((key, f"is empty: give a value after `=`, e.g. `{key}={_example_value(key)}`"))
            failed.add(key)
            return None
        try:
            return parse(raw)
        except ValueError as error:
            problems.append((key, str(error)))
            failed.add(key)
            return None

    model = parsed("model", _text) or ""
    training_file = parsed("training_file", _text) or ""
    spec = JobSpec(
        model=model,
        training_file=training_file,
        validation_file=parsed("validation_file", _text),
        suffix=parsed("suffix", _text),
        seed=parsed("seed", _seed),
        epochs=parsed("epochs", _count("1 to 50")),
        batch_size=parsed("batch_size", _count("1 to 256")),
        lr_multiplier=parsed("lr_multiplier", _positive("lr_multiplier=0.5")),
        method=parsed("method", _method) or "supervised",
        beta=parsed("beta", _positive("beta=0.1")),
        metadata=dict(metadata or {}),
    )
    for field, message in spec.problems(provider):
        if field in failed or (field == "beta" and "method" in failed):
            continue  # already reported as unreadable; a second message would only confuse
        if field in ("model", "training_file") and field in values:
            continue
        problems.append((field, message))
    return (None if problems else spec), problems


def _text(raw: str) -> str:
    return raw


def _seed(raw: str) -> int:
    if not _is_int(raw):
        raise ValueError("must be a whole number, e.g. `seed=42`")
    return int(raw)


def _count(allowed: str) -> Callable[[str], int | Auto]:
    def parse(raw: str) -> int | Auto:
        if raw.lower() == AUTO:
            return AUTO
        if not _is_int(raw):
            raise ValueError(f"must be a whole number from {allowed}, or auto")
        return int(raw)

    return parse


def _positive(example: str) -> Callable[[str], float | Auto]:
    def parse(raw: str) -> float | Auto:
        if raw.lower() == AUTO:
            return AUTO
        try:
            number = float(raw)
        except ValueError:
            raise ValueError(f"must be a positive number or auto, e.g. `{example}`") from None
        if not math.isfinite(number):
            raise ValueError(f"must be a positive number or auto, e.g. `{example}`")
        return number

    return parse


def _method(raw: str) -> Literal["supervised", "dpo"]:
    lowered = raw.lower()
    if lowered == "supervised":
        return "supervised"
    if lowered == "dpo":
        return "dpo"
    hint = _suggest(lowered, ("supervised", "dpo"))
    raise ValueError("must be supervised or dpo" + (f" — did you mean `{hint}`?" if hint else ""))
