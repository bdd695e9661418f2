"""Every `/finetune` subcommand, typed in the Slack stand-in and sent to the running bot as a signed request."""

from __future__ import annotations

import json

from bot.finetune.spec import JobSpec
from bot.jobs.creator import CREATOR_METADATA_KEY
from bot.jobs.intents import INTENT_METADATA_KEY
from bot.jobs.records import Origin
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE
from tests.support.audit import audit_rows
from tests.support.runtime import BASE_MODEL, CREATE_ARGS, BotRig, StartBot, button_labels, texts_of


async def test_help_and_empty_text_show_the_usage(bot: BotRig) -> None:
    for text in ("help", ""):
        sent = await bot.slack.sender.slash(text)
        answer = await bot.answer_text(sent)
        assert "How to use `/finetune`" in answer
        assert "/finetune create model=" in answer
        assert (await bot.answer(sent)).response_type == "ephemeral"


async def test_create_with_arguments_starts_the_job_and_posts_its_card(bot: BotRig) -> None:
    sent = await bot.slack.sender.slash(
        f"create model={BASE_MODEL} training_file={DEMO_TRAINING_FILE} suffix=support epochs=2 meta.team=search",
        user="U_ALICE",
        channel="C_ML",
    )
    assert sent.status == 200
    answer = await bot.answer_text(sent)
    assert "Started `ftjob-" in answer

    cards = await bot.slack.wait_for(lambda: bot.slack.messages("C_ML"))
    assert len(cards) == 1
    card = cards[0]
    job = (await bot.store.channel_jobs("C_ML"))[0]
    assert job.job_id in card.text
    assert button_labels(card) == ["Cancel", "Refresh"]  # validating: only Cancel (and Refresh)
    assert card.metadata == {"event_type": "tuneops_card", "event_payload": {"job_id": job.job_id}}

    # Tracked as owned by the channel, started by Alice, with its card remembered.
    assert (job.owner_channel, job.creator, job.origin, job.model) == (
        "C_ML",
        "U_ALICE",
        Origin.COMMAND,
        BASE_MODEL,
    )
    watch = await bot.store.get_watch(job.job_id, "C_ML")
    assert watch is not None and watch.card_ts == card.ts
    # The API got what was typed, plus who started it and the create's intent (closed once tracked).
    api_job = await bot.services.api.retrieve_job(job.job_id)
    assert api_job.user_provided_suffix == "support"
    metadata = dict(api_job.metadata or {})
    assert metadata.pop(INTENT_METADATA_KEY).startswith("ti_")
    assert metadata == {"team": "search", CREATOR_METADATA_KEY: "U_ALICE"}
    assert await bot.store.open_intents() == []
    audit = await bot.store.audit_for_job(job.job_id)
    assert [(a.action, a.user, a.allowed) for a in audit] == [("create", "U_ALICE", True)]
    assert audit[0].result and audit[0].result.startswith("created")


async def test_create_without_arguments_opens_the_form(bot: BotRig) -> None:
    sent = await bot.slack.sender.slash("create", user="U_ALICE", channel="C_ML")
    assert sent.status == 200
    view = await bot.slack.wait_for(lambda: bot.slack.open_view("U_ALICE"))
    assert view.callback_id == "create_job"
    assert json.loads(view.private_metadata) == {"channel_id": "C_ML"}
    assert {block.get("block_id") for block in view.blocks} >= {"model", "training_file", "epochs", "seed"}
    assert bot.slack.calls_to("views.open")[0].ok


async def test_create_with_bad_arguments_lists_every_problem_and_starts_nothing(bot: BotRig) -> None:
    sent = await bot.slack.sender.slash("create model= training_fil=file-x epochs=0 seed=abc colour=red")
    answer = await bot.answer_text(sent)
    for fragment in ("`model`", "`training_fil`", "training_file", "`epochs`", "`seed`", "`colour`"):
        assert fragment in answer, fragment
    assert "Did you mean" in answer or "did you mean" in answer
    assert (await bot.services.api.list_jobs()).data == []
    assert bot.slack.messages("C_ML") == []


async def test_create_with_bare_words_suggests_the_command_meant(bot: BotRig) -> None:
    answer = await bot.answer_text(await bot.slack.sender.slash("create gpt-4o-mini file-train-demo"))
    assert "did you mean `/finetune create model=gpt-4o-mini training_file=file-train-demo`?" in answer
    assert "things to fix" not in answer
    # The suggestion and where the help is, nothing more (the text and its block carry the same lines).
    assert len(set(answer.splitlines())) == 2
    assert (await bot.services.api.list_jobs()).data == []


async def test_two_hundred_unknown_keys_still_end_with_the_usage_line(bot: BotRig) -> None:
    flood = " ".join(f"k{n}=v" for n in range(200))
    answer = await bot.answer_text(await bot.slack.sender.slash(f"create {CREATE_ARGS} {flood}"))
    assert "200 things to fix" in answer and "…and 190 more" in answer
    assert "Usage: `/finetune create model=<base>" in answer
    assert (await bot.services.api.list_jobs()).data == []


async def test_unknown_subcommand_gets_usage_and_did_you_mean(bot: BotRig) -> None:
    answer = await bot.answer_text(await bot.slack.sender.slash("stauts ftjob-abc"))
    assert "Did you mean `status`?" in answer
    assert "How to use `/finetune`" in answer


async def test_status_shows_the_current_card_privately_and_records_it(bot: BotRig) -> None:
    job_id, card = await bot.create_job()
    await bot.control.set_job(job_id, status="running", step=4)
    sent = await bot.slack.sender.slash(f"status {job_id}", user="U_BOB")
    post = await bot.answer(sent)
    assert post.response_type == "ephemeral"
    assert "Running" in texts_of([post.body])
    assert job_id in texts_of([post.body])
    tracked = await bot.store.get_job(job_id)
    assert tracked is not None and tracked.status == "running"
    # The status change was recorded, so the thread will be told (by the notifier) — and the channel's
    # card was not posted again.
    assert len(bot.slack.messages("C_ML")) == 1 and card.ts == bot.slack.messages("C_ML")[0].ts


async def test_status_of_a_job_nobody_tracks_still_shows_it(bot: BotRig) -> None:
    job = await bot.services.api.create_job(JobSpec(model=BASE_MODEL, training_file=DEMO_TRAINING_FILE))
    answer = await bot.answer_text(await bot.slack.sender.slash(f"status {job.id}"))
    assert job.id in answer
    assert await bot.store.get_job(job.id) is None


async def test_pause_resume_and_cancel_by_command_update_the_card_in_place(bot: BotRig) -> None:
    job_id, card = await bot.running_job()

    answer = await bot.answer_text(await bot.slack.sender.slash(f"pause {job_id}"))
    assert "Pause requested" in answer
    assert await bot.job_status_in_emulator(job_id) == "paused"
    await bot.slack.wait_for(lambda: card.edited)
    assert button_labels(card) == ["Resume", "Cancel", "Refresh"]

    answer = await bot.answer_text(await bot.slack.sender.slash(f"resume {job_id}"))
    assert "Resume requested" in answer
    assert await bot.job_status_in_emulator(job_id) in ("queued", "running")
    await bot.slack.wait_for(lambda: len(card.versions) == 2)
    assert "Resume" not in button_labels(card)

    answer = await bot.answer_text(await bot.slack.sender.slash(f"cancel {job_id}"))
    assert "Cancel requested" in answer
    assert await bot.job_status_in_emulator(job_id) == "cancelled"
    await bot.slack.wait_for(lambda: len(card.versions) == 3)
    assert button_labels(card) == ["Refresh"]
    assert len(bot.slack.messages("C_ML")) == 1  # edited, never re-posted

    tracked = await bot.store.get_job(job_id)
    assert tracked is not None and tracked.status == "cancelled"
    actions = [(a.action, a.allowed) for a in reversed(await bot.store.audit_for_job(job_id))]
    assert actions == [("create", True), ("pause", True), ("resume", True), ("cancel", True)]


async def test_an_api_refusal_is_quoted_with_its_code(bot: BotRig) -> None:
    job_id, _ = await bot.create_job()  # validating_files: it cannot be paused
    answer = await bot.answer_text(await bot.slack.sender.slash(f"pause {job_id}"))
    assert "The fine-tuning API refused to pause" in answer
    assert f"Job {job_id}" in answer
    assert "(invalid_job_state)" in answer
    audit = (await bot.store.audit_for_job(job_id))[0]
    assert (audit.action, audit.allowed) == ("pause", True)
    assert audit.result is not None and audit.result.startswith("failed: invalid_job_state")


async def test_a_create_the_api_failed_on_is_not_called_refused_and_may_have_started(bot: BotRig) -> None:
    await bot.control.set_faults(status=500, count=1, method="POST", path_contains="/fine_tuning/jobs")
    answer = await bot.answer_text(await bot.slack.sender.slash(f"create {CREATE_ARGS}"))
    assert "refused" not in answer
    assert (
        "The fine-tuning API failed while starting the job; it may have started anyway — check "
        "`/finetune list all mine` before trying again." in answer
    )
    assert "The server had an error" in answer  # the API's own words
    # The client did not try again (a second create could start a second, billed job).
    assert (await bot.control.stats())["by_operation"]["createFineTuningJob"] == {"500": 1}


async def test_a_create_the_api_rate_limited_failed_and_started_nothing(bot: BotRig) -> None:
    await bot.control.set_faults(status=429, count=1, method="POST", path_contains="/fine_tuning/jobs")
    answer = await bot.answer_text(await bot.slack.sender.slash(f"create {CREATE_ARGS}"))
    assert "The fine-tuning API failed to start the job:" in answer
    assert "refused" not in answer and "may have started" not in answer


async def test_events_and_checkpoints(bot: BotRig) -> None:
    job_id, _ = await bot.create_job()
    await bot.control.advance(24 * 3600)  # the emulated job runs to the end
    assert await bot.job_status_in_emulator(job_id) == "succeeded"
    events = await bot.answer_text(await bot.slack.sender.slash(f"events {job_id} 5"))
    assert f"Latest events of {job_id}" in events
    assert "successfully completed" in events
    checkpoints = await bot.answer_text(await bot.slack.sender.slash(f"checkpoints {job_id}"))
    assert f"of {job_id}" in checkpoints
    assert "step" in checkpoints


async def test_watch_adopts_a_job_started_elsewhere_and_unwatch_lets_it_go(bot: BotRig) -> None:
    job = await bot.services.api.create_job(JobSpec(model=BASE_MODEL, training_file=DEMO_TRAINING_FILE))

    answer = await bot.answer_text(
        await bot.slack.sender.slash(f"watch {job.id}", user="U_BOB", channel="C_OPS")
    )
    assert "now follows" in answer
    card = (await bot.slack.wait_for(lambda: bot.slack.messages("C_OPS")))[0]
    assert job.id in card.text
    tracked = await bot.store.get_job(job.id)
    assert tracked is not None
    assert (tracked.owner_channel, tracked.creator, tracked.origin) == ("C_OPS", None, Origin.WATCH)

    # A second channel follows it too, with its own card.
    await bot.answer(await bot.slack.sender.slash(f"watch {job.id}", user="U_CAROL", channel="C_ML"))
    assert len(bot.slack.messages("C_ML")) == 1
    assert {w.channel for w in await bot.store.watches(job.id)} == {"C_OPS", "C_ML"}

    # Watching again posts nothing new.
    again = await bot.answer_text(
        await bot.slack.sender.slash(f"watch {job.id}", user="U_CAROL", channel="C_ML")
    )
    assert "already follows" in again
    assert len(bot.slack.messages("C_ML")) == 1

    answer = await bot.answer_text(
        await bot.slack.sender.slash(f"unwatch {job.id}", user="U_CAROL", channel="C_ML")
    )
    assert "no longer follows" in answer
    assert {w.channel for w in await bot.store.watches(job.id)} == {"C_OPS"}
    # Once it stopped following, the channel has nothing to unwatch: the policy says so.
    answer = await bot.answer_text(
        await bot.slack.sender.slash(f"unwatch {job.id}", user="U_CAROL", channel="C_ML")
    )
    assert f"This channel isn't following `{job.id}`." in answer
    # A refusal is audited just after its answer is posted: wait for the entry, don't race it.
    audit = [(a.action, a.channel, a.allowed) for a in await bot.audit(job.id, 5)]
    assert audit == [
        ("watch", "C_OPS", True),
        ("watch", "C_ML", True),
        ("watch", "C_ML", True),
        ("unwatch", "C_ML", True),
        ("unwatch", "C_ML", False),
    ]


async def test_watch_knows_who_started_a_job_tuneops_created(start_bot: StartBot) -> None:
    first = await start_bot()
    job_id, _ = await first.create_job(user="U_ALICE")
    # A second install with a fresh database adopts the job: its metadata still names the creator.
    second = await start_bot()
    await second.answer(await second.slack.sender.slash(f"watch {job_id}", user="U_BOB", channel="C_NEW"))
    tracked = await second.store.get_job(job_id)
    assert tracked is not None and (tracked.creator, tracked.owner_channel) == ("U_ALICE", "C_NEW")


async def test_watch_of_an_unknown_job_quotes_the_api(bot: BotRig) -> None:
    answer = await bot.answer_text(await bot.slack.sender.slash("watch ftjob-doesnotexist"))
    assert "refused to find `ftjob-doesnotexist`" in answer
    assert await bot.store.get_job("ftjob-doesnotexist") is None


async def test_list_variants(bot: BotRig) -> None:
    alice_job, _ = await bot.create_job(user="U_ALICE")
    bob_job, _ = await bot.create_job(user="U_BOB", extra="suffix=bob")
    await bot.control.set_job(bob_job, status="succeeded")
    await bot.answer(await bot.slack.sender.slash(f"status {bob_job}"))  # records that it finished
    outside = await bot.services.api.create_job(JobSpec(model=BASE_MODEL, training_file=DEMO_TRAINING_FILE))

    channel = await bot.answer_text(await bot.slack.sender.slash("list"))
    assert alice_job in channel and bob_job in channel and outside.id not in channel
    active = await bot.answer_text(await bot.slack.sender.slash("list active"))
    assert alice_job in active and bob_job not in active
    mine = await bot.answer_text(await bot.slack.sender.slash("list mine", user="U_BOB"))
    assert bob_job in mine and alice_job not in mine
    everything = await bot.answer_text(await bot.slack.sender.slash("list all"))
    assert {alice_job, bob_job, outside.id} <= {word.strip("`*") for word in everything.split()}
    all_mine = await bot.answer_text(await bot.slack.sender.slash("list all mine", user="U_ALICE"))
    assert alice_job in all_mine and bob_job not in all_mine and outside.id not in all_mine
    elsewhere = await bot.answer_text(await bot.slack.sender.slash("list", channel="C_EMPTY"))
    assert alice_job not in elsewhere and "No jobs here yet" in elsewhere
    # Every list is in the audit log (reads are actions too), `all` included: it asks the API.
    lists = [
        (row.user, row.channel, row.result)
        for row in audit_rows(bot.services.settings.db_path)
        if row.action == "list"
    ]
    assert lists == [
        ("U_ALICE", "C_ML", "this channel, page 1: 2 jobs"),
        ("U_ALICE", "C_ML", "active here, page 1: 1 job"),
        ("U_BOB", "C_ML", "this channel, mine, page 1: 1 job"),
        ("U_ALICE", "C_ML", "the account, page 1: 3 jobs"),
        ("U_ALICE", "C_ML", "the account, mine, page 1: 1 job"),
        ("U_ALICE", "C_EMPTY", "this channel, page 1: 0 jobs"),
    ]


async def test_opening_the_form_is_audited_and_help_is_not(bot: BotRig) -> None:
    await bot.answer(await bot.slack.sender.slash("help"))
    await bot.slack.sender.slash("create", channel="C_TRAINING")
    await bot.slack.wait_for(lambda: bot.slack.open_view("U_ALICE"))
    rows = await bot.slack.wait_for(lambda: audit_rows(bot.services.settings.db_path))
    assert [(r.action, r.channel, r.job_id, r.allowed, r.result) for r in rows] == [
        ("open_form", "C_TRAINING", None, True, "form opened")
    ]
