"""`/finetune` text → Command, and every mistake answered in plain words that say what to do."""

from __future__ import annotations

import pytest

from bot.finetune.spec import JobSpec
from bot.jobs.actions import Action
from bot.jobs.grammar import (
    CommandError,
    CreateJob,
    Help,
    JobAction,
    ListJobs,
    OpenCreateForm,
    ShowCheckpoints,
    ShowEvents,
    ShowStatus,
    Unwatch,
    Watch,
    action_name,
    command_job_id,
    parse_command,
)


def error_of(text: str, **kwargs: str) -> CommandError:
    with pytest.raises(CommandError) as caught:
        parse_command(text, **kwargs)
    assert caught.value.message.strip()
    return caught.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help()),
        ("   ", Help()),
        ("help", Help()),
        ("HELP", Help()),
        ("help create", Help(topic="create")),
        ("create", OpenCreateForm()),
        ("list", ListJobs(scope="channel", mine=False)),
        ("list active", ListJobs(scope="active")),
        ("list all", ListJobs(scope="all")),
        ("list mine", ListJobs(scope="channel", mine=True)),
        ("List ALL Mine", ListJobs(scope="all", mine=True)),
        ("list mine active", ListJobs(scope="active", mine=True)),
        ("status ftjob-abc123", ShowStatus("ftjob-abc123")),
        ("pause ftjob-abc123", JobAction(Action.PAUSE, "ftjob-abc123")),
        ("resume ftjob-abc123", JobAction(Action.RESUME, "ftjob-abc123")),
        ("cancel ftjob-abc123", JobAction(Action.CANCEL, "ftjob-abc123")),
        ("events ftjob-abc123", ShowEvents("ftjob-abc123", 10)),
        ("events ftjob-abc123 25", ShowEvents("ftjob-abc123", 25)),
        ("events 25 ftjob-abc123", ShowEvents("ftjob-abc123", 25)),
        ("checkpoints ftjob-abc123", ShowCheckpoints("ftjob-abc123")),
        ("watch ftjob-abc123", Watch("ftjob-abc123")),
        ("unwatch ftjob-abc123", Unwatch("ftjob-abc123")),
        ("  PAUSE \u00a0  `ftjob-abc123`  ", JobAction(Action.PAUSE, "ftjob-abc123")),
        ("status *ftjob-Q1w2E3r4T5y6U7i8*", ShowStatus("ftjob-Q1w2E3r4T5y6U7i8")),
    ],
)
def test_every_subcommand(text: str, expected: object) -> None:
    assert parse_command(text) == expected


def test_action_names_and_job_ids_for_the_policy() -> None:
    assert action_name(JobAction(Action.CANCEL, "ftjob-1")) == "cancel"
    assert action_name(ShowEvents("ftjob-1")) == "events"
    assert action_name(ListJobs()) == "list"
    assert action_name(OpenCreateForm()) == "open_form"
    assert command_job_id(Watch("ftjob-1")) == "ftjob-1"
    assert command_job_id(ListJobs()) is None


def test_unknown_subcommand_suggests_the_closest_and_asks_for_usage() -> None:
    error = error_of("frobnicate ftjob-abc")
    assert error.usage
    assert "I don't know `frobnicate`." in error.message
    typo = error_of("cancle ftjob-abc")
    assert typo.message == "I don't know `cancle`. Did you mean `cancel`?"
    assert typo.usage
    assert "Did you mean `checkpoints`?" in error_of("checkpoint ftjob-a").message


def test_a_bare_job_id_or_key_value_gets_a_pointer() -> None:
    assert "/finetune status ftjob-abc" in error_of("ftjob-abc").message
    assert "create" in error_of("model=gpt-4o training_file=file-1").message


@pytest.mark.parametrize(
    "verb", ["status", "pause", "resume", "cancel", "events", "checkpoints", "watch", "unwatch"]
)
def test_missing_job_id(verb: str) -> None:
    error = error_of(verb, command="/ft")
    assert error.message.startswith(f"`{verb}` needs a job id, e.g. `/ft {verb} ftjob-abc123")


def test_wording_of_a_missing_job_id() -> None:
    assert error_of("pause").message == "`pause` needs a job id, e.g. `/finetune pause ftjob-abc123`."


def test_a_word_that_is_not_a_job_id() -> None:
    message = error_of("cancel abc123").message
    assert "`abc123` doesn't look like a job id" in message and "ftjob-" in message


def test_extra_words_are_named() -> None:
    message = error_of("pause ftjob-abc123 now please").message
    assert "`pause` takes just a job id" in message and "`now please`" in message
    assert "`later`" in error_of("events ftjob-abc123 5 later").message


@pytest.mark.parametrize("count", ["0", "51", "ten", "-3"])
def test_events_count_must_be_1_to_50(count: str) -> None:
    message = error_of(f"events ftjob-abc123 {count}").message
    assert "1 to 50" in message and f"`{count}`" in message


def test_list_words() -> None:
    assert "Did you mean `active`?" in error_of("list actve").message
    assert "`all` is given twice" in error_of("list all all").message
    assert "Choose one of `active`" in error_of("list active all").message


GOOD = "create model=gpt-4o-mini-2024-07-18 training_file=file-abc123"


def spec_of(text: str, **kwargs: str) -> JobSpec:
    command = parse_command(text, **kwargs)
    assert isinstance(command, CreateJob)
    return command.spec


def test_create_with_every_setting() -> None:
    spec = spec_of(
        "create model=gpt-4o-mini-2024-07-18 training_file=file-abc123 validation_file=file-def "
        "suffix=support seed=42 epochs=3 batch_size=auto lr_multiplier=0.5 method=DPO beta=0.1 "
        "meta.team=search meta.Owner=ana"
    )
    assert spec == JobSpec(
        model="gpt-4o-mini-2024-07-18",
        training_file="file-abc123",
        validation_file="file-def",
        suffix="support",
        seed=42,
        epochs=3,
        batch_size="auto",
        lr_multiplier=0.5,
        method="dpo",
        beta=0.1,
        metadata={"team": "search", "Owner": "ana"},
    )


@pytest.mark.parametrize(
    ("quoted", "value"),
    [
        ('suffix="my run"', "my run"),
        ("suffix='my run'", "my run"),
        ("suffix=“my run”", "my run"),
        ("suffix=‘my run’", "my run"),
        ('"suffix=my run"', "my run"),
        ("suffix=don't", "don't"),
        ("suffix=don’t", "don’t"),
    ],
)
def test_quoted_values(quoted: str, value: str) -> None:
    assert spec_of(f"{GOOD} {quoted}").suffix == value


def test_values_may_contain_equals_and_slack_escapes() -> None:
    spec = spec_of(f"{GOOD}   meta.query=a=b&amp;c   meta.note=&lt;x&gt;")
    assert spec.metadata == {"query": "a=b&c", "note": "<x>"}


def test_api_names_work_as_aliases() -> None:
    spec = spec_of(f"{GOOD} n_epochs=4 learning_rate_multiplier=auto")
    assert spec.epochs == 4 and spec.lr_multiplier == "auto"


def test_an_unclosed_quote_is_explained() -> None:
    assert "never closed" in error_of(f'{GOOD} suffix="my run').message


def test_create_reports_every_problem_at_once() -> None:
    error = error_of(
        "create suffix=x seed=abc epochs=99 lr_multiplier=-1 method=sft epoch=3 colour=red batch_size "
        "beta=0.1 meta.=1"
    )
    message = error.message
    expected = [
        "`seed` must be a whole number",
        "`epochs` must be 1–50 or auto",
        "`lr_multiplier` must be greater than 0",
        "`method` must be supervised or dpo",
        "`epoch` is not a setting I know — did you mean `epochs`?",
        "`colour` is not a setting I know",
        "`batch_size` needs a value: write it as `key=value`",
        "`model` is required",
        "`training_file` is required",
        "`meta.` needs a name after the dot",
    ]
    for part in expected:
        assert part in message, part
    assert "things to fix" in message
    assert "The settings I know:" in message
    assert "/finetune create model=<base>" in message


def test_a_flood_of_problems_shows_ten_and_keeps_the_usage_line() -> None:
    message = error_of(f"{GOOD} " + " ".join(f"k{n}=v" for n in range(200))).message
    assert "200 things to fix" in message
    assert "`k9` is not a setting I know" in message and "`k10`" not in message
    assert "…and 190 more" in message
    assert message.splitlines()[-1].startswith("Usage: `/finetune create model=<base>")
    assert "The settings I know:" in message


def test_bad_number_words() -> None:
    assert "`lr_multiplier` must be a positive number" in error_of(f"{GOOD} lr_multiplier=fast").message
    assert "`epochs` must be a whole number from 1 to 50, or auto" in error_of(f"{GOOD} epochs=three").message
    assert "`lr_multiplier` must be a positive number" in error_of(f"{GOOD} lr_multiplier=nan").message
    assert "`seed` must be a whole number from 0" in error_of(f"{GOOD} seed=-5").message


def test_beta_needs_dpo_and_repeated_keys_are_caught() -> None:
    assert "`beta` only applies to method=dpo" in error_of(f"{GOOD} beta=0.1").message
    assert "`seed` is given twice" in error_of(f"{GOOD} seed=1 seed=2").message
    assert "`model` is given twice" in error_of(f"{GOOD} base_model=x").message


def test_empty_value() -> None:
    assert "`suffix` is empty" in error_of(f"{GOOD} suffix=").message


def test_provider_rules_apply() -> None:
    assert spec_of(f"{GOOD} suffix=has.dot").suffix == "has.dot"
    assert "`suffix` on Azure" in error_of(f"{GOOD} suffix=has.dot", provider="azure").message


def test_user_words_in_messages_are_safe_mrkdwn() -> None:
    message = error_of("<!channel> hi").message
    assert "<!channel>" not in message and "&lt;!channel&gt;" in message
    assert "```" not in error_of("`` x").message
