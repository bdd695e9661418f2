"""`/finetune` text → a typed `Command`, or a `CommandError` that says in plain words what is wrong.

`/finetune <subcommand> [job id] [arguments]`. Parsing is strict but forgiving of what Slack and keyboards
do to text: Slack's `&amp;`/`&lt;`/`&gt;` escapes, smart quotes (“ ” ‘ ’), non-breaking spaces, backticks
around a copied job id, upper-case subcommands. `create`'s `key=value` arguments are read by
`bot.jobs.create_args`, which reports every problem at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.finetune.spec import JobSpec, ProviderName
from bot.jobs.actions import Action, ControlAction, control_action
from bot.jobs.after_training import AFTER_TRAINING_COMMANDS, AfterTrainingCommand
from bot.jobs.bare_words import bare_create_suggestion
from bot.jobs.create_args import create_problems_text, create_spec
from bot.jobs.subscribe_args import (
    ArgumentError,
    AuditRequest,
    audit_request,
    subscribe_filter,
    unsubscribe_which,
)
from bot.jobs.subscriptions import JobFilter
from bot.jobs.words import is_int, shown, suggest
from bot.schedule.commands import ScheduleWordsError, SetDigest, SetQuiet, parse_digest, parse_quiet

DEFAULT_COMMAND = "/finetune"
EXAMPLE_JOB_ID = "ftjob-abc123"
MAX_EVENTS = 50
DEFAULT_EVENTS = 10
JOB_ID = re.compile(r"^ftjob-[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")

# The subcommands are named after the actions they ask for (the form's and the buttons' have none).
JOB_SUBCOMMANDS = (
    Action.STATUS,
    Action.PAUSE,
    Action.RESUME,
    Action.CANCEL,
    Action.EVENTS,
    Action.CHECKPOINTS,
    Action.CHART,
    Action.WATCH,
    Action.UNWATCH,
)
CHANNEL_SUBCOMMANDS = (
    Action.SUBSCRIBE,
    Action.SUBSCRIPTIONS,
    Action.UNSUBSCRIBE,
    Action.SETTINGS,
    Action.AUDIT,
)
SUBCOMMANDS = (
    Action.HELP,
    Action.CREATE,
    Action.LIST,
    Action.UPLOAD,
    *JOB_SUBCOMMANDS,
    *CHANNEL_SUBCOMMANDS,
    Action.DIGEST,
    Action.QUIET,
)
LIST_WORDS = ("active", "all", "mine")


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
    action: ControlAction
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
class ShowChart:
    """`chart <job-id>`: the loss curve, posted in the thread of the job's card in this channel."""

    job_id: str


@dataclass(frozen=True)
class Watch:
    job_id: str


@dataclass(frozen=True)
class Unwatch:
    job_id: str


@dataclass(frozen=True)
class Subscribe:
    filter: JobFilter


@dataclass(frozen=True)
class ListSubscriptions:
    pass


@dataclass(frozen=True)
class Unsubscribe:
    number: int | None  # 1 = the channel's oldest subscription; None: all of them


@dataclass(frozen=True)
class OpenSettings:
    pass


@dataclass(frozen=True)
class ShowAudit:
    request: AuditRequest

    @property
    def job_id(self) -> str | None:
        return self.request.job_id


@dataclass(frozen=True)
class OpenUploadForm:
    """`upload` → the form to attach a training file, check it, and upload it for a job."""


Command = (
    Help
    | CreateJob
    | OpenCreateForm
    | ListJobs
    | JobAction
    | ShowStatus
    | ShowEvents
    | ShowCheckpoints
    | ShowChart
    | Watch
    | Unwatch
    | Subscribe
    | ListSubscriptions
    | Unsubscribe
    | OpenSettings
    | ShowAudit
    | SetDigest
    | SetQuiet
    | OpenUploadForm
    | AfterTrainingCommand
)


class CommandError(Exception):
    """Bad command text. `message` is plain words for the person (mrkdwn); `usage` asks the reply to add
    the usage text."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage


def action_name(command: Command) -> Action:
    """The command's action, as the permission policy and the audit log name it."""
    match command:
        case Help():
            return Action.HELP
        case CreateJob():
            return Action.CREATE
        case OpenCreateForm():
            return Action.OPEN_FORM
        case ListJobs():
            return Action.LIST
        case JobAction(action=action):
            return action
        case ShowStatus():
            return Action.STATUS
        case ShowEvents():
            return Action.EVENTS
        case ShowCheckpoints():
            return Action.CHECKPOINTS
        case ShowChart():
            return Action.CHART
        case Watch():
            return Action.WATCH
        case Unwatch():
            return Action.UNWATCH
        case Subscribe():
            return Action.SUBSCRIBE
        case ListSubscriptions():
            return Action.SUBSCRIPTIONS
        case Unsubscribe():
            return Action.UNSUBSCRIBE
        case OpenSettings():
            return Action.SETTINGS
        case ShowAudit(request=request):
            return Action.AUDIT_ALL if request.everywhere else Action.AUDIT
        case SetDigest():
            return Action.DIGEST
        case SetQuiet():
            return Action.QUIET
        case OpenUploadForm():
            return Action.UPLOAD
        case _ if isinstance(command, AFTER_TRAINING_COMMANDS):
            return command.action
    raise AssertionError(f"no action for {command!r}")


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
        bare = bare_create_suggestion(args, command=command)
        if bare is not None:
            raise CommandError(bare)
        spec, problems = create_spec(args, provider=_provider(provider))
        if spec is None:
            raise CommandError(create_problems_text(problems, command=command))
        return CreateJob(spec)
    if verb == "list":
        return _list(args, command=command)
    if verb == "upload":
        if args:
            raise CommandError(f"`{command} upload` takes no words: it opens a form to attach the file.")
        return OpenUploadForm()
    if verb in JOB_SUBCOMMANDS:
        return _job_command(Action(verb), args, command=command)
    if verb in CHANNEL_SUBCOMMANDS:
        try:
            return _channel_command(Action(verb), args, command=command)
        except ArgumentError as error:
            raise CommandError(str(error)) from None
    if verb in (Action.DIGEST, Action.QUIET):
        try:
            return (parse_digest if verb == Action.DIGEST else parse_quiet)(args, command=command)
        except ScheduleWordsError as error:
            raise CommandError(str(error)) from None
    from bot.jobs.deploy_grammar import AFTER_TRAINING_VERBS, parse_after_training  # it imports this module

    if verb in AFTER_TRAINING_VERBS:
        return parse_after_training(verb, args, command=command)
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
            f"The quote in {shown(opened_at)} is never closed. Put the closing quote after the value, "
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
    message = f"I don't know {shown(word)}."
    suggestion = suggest(word, SUBCOMMANDS)
    if suggestion:
        message += f" Did you mean `{suggestion}`?"
    return CommandError(message, usage=True)


def _strip_code(word: str) -> str:
    return word.strip("`*_")


def looks_like_job_id(word: str) -> bool:
    return bool(JOB_ID.match(word))


def _job_command(verb: Action, args: list[str], *, command: str) -> Command:
    example = f"`{command} {verb} {EXAMPLE_JOB_ID}{' 20' if verb is Action.EVENTS else ''}`"
    if not args:
        return _raise(f"`{verb}` needs a job id, e.g. {example}.")
    if (
        verb is Action.EVENTS
        and len(args) == 2
        and is_int(args[0])
        and looks_like_job_id(_strip_code(args[1]))
    ):
        args = [args[1], args[0]]  # `events 20 ftjob-…` reads just as well
    job_id = _strip_code(args[0])
    if not looks_like_job_id(job_id):
        return _raise(
            f"{shown(args[0])} doesn't look like a job id: job ids start with `ftjob-`, e.g. {example}."
        )
    extra = args[1:]
    if verb is Action.EVENTS and extra:
        count = extra[0]
        if not is_int(count) or not 1 <= int(count) <= MAX_EVENTS:
            return _raise(
                f"The number of events must be a whole number from 1 to {MAX_EVENTS}, not {shown(count)}; "
                f"e.g. {example}."
            )
        if len(extra) > 1:
            return _raise(_extra_words(verb, extra[1:], "a job id and a number of events"))
        return ShowEvents(job_id, int(count))
    if extra:
        return _raise(_extra_words(verb, extra, "just a job id"))
    control = control_action(verb)
    if control is not None:
        return JobAction(control, job_id)
    match verb:
        case Action.STATUS:
            return ShowStatus(job_id)
        case Action.EVENTS:
            return ShowEvents(job_id)
        case Action.CHECKPOINTS:
            return ShowCheckpoints(job_id)
        case Action.CHART:
            return ShowChart(job_id)
        case Action.WATCH:
            return Watch(job_id)
        case _:
            return Unwatch(job_id)


def _channel_command(verb: Action, args: list[str], *, command: str) -> Command:
    match verb:
        case Action.SUBSCRIBE:
            return Subscribe(subscribe_filter(args, command=command))
        case Action.UNSUBSCRIBE:
            return Unsubscribe(unsubscribe_which(args, command=command))
        case Action.AUDIT:
            return ShowAudit(audit_request(args, command=command, looks_like_job_id=looks_like_job_id))
    if args:
        return _raise(_extra_words(verb, args, "no arguments"))
    return ListSubscriptions() if verb is Action.SUBSCRIPTIONS else OpenSettings()


def _raise(message: str) -> Command:
    raise CommandError(message)


def _extra_words(verb: str, extra: list[str], takes: str) -> str:
    words = " ".join(extra)
    return f"`{verb}` takes {takes}; I don't know what to do with {shown(words)}."


def _list(args: list[str], *, command: str) -> ListJobs:
    scope: Literal["channel", "active", "all"] = "channel"
    mine = False
    seen: set[str] = set()
    for arg in args:
        word = arg.lower()
        if word not in LIST_WORDS:
            message = f"`list` understands `active`, `all` and `mine`, not {shown(arg)}."
            suggestion = suggest(word, LIST_WORDS)
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
