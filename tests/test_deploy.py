"""After training on Azure, through the real bot with Entra ID tokens: Deploy from the card and typed (a job
or a checkpoint), a deployment Azure refuses, `deployments` with its idle warning, `undeploy` behind a
confirm, `try` with both models' answers side by side, and the Cancel rule for strangers."""

from __future__ import annotations

import pytest

from bot.sandbox.emulator.chat import answer_text
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.standin.models import StoredMessage
from tests.support.entra import MANAGEMENT_RESOURCE, EntraRig
from tests.support.runtime import BASE_MODEL, BotRig, StartBot, button_labels, texts_of

CHANNEL = "C_ML"


@pytest.fixture
async def azure_bot(entra: EntraRig, start_bot: StartBot, emulator: EmulatorServer) -> BotRig:
    """Azure with no key (Entra ID tokens from the stand-in identity) and an account to deploy to; the
    emulator serves the management plane on its own address too. Deployments are ready at once."""
    rig = await start_bot(
        TUNEOPS_PROVIDER="azure",
        AZURE_OPENAI_ENDPOINT=emulator.azure_endpoint,
        OPENAI_API_KEY="",
        AZURE_MANAGEMENT_URL=emulator.url,
        AZURE_SUBSCRIPTION_ID="sub-123",
        AZURE_RESOURCE_GROUP="rg-ml",
        AZURE_OPENAI_RESOURCE="acme-openai",
    )
    await rig.control.set_management(provisioning_seconds=0)
    return rig


async def _succeeded_job(rig: BotRig, *, user: str = "U_ALICE") -> tuple[str, StoredMessage]:
    """A job created in Slack, finished in the emulator, its card refreshed (now with Deploy and Try)."""
    job_id, card = await rig.create_job(user=user)
    await rig.control.advance(24 * 3600)  # the emulated job runs to the end, checkpoints and all
    assert (await rig.slack.sender.click(card, "job_refresh", user=user)).status == 200
    await rig.slack.wait_for(lambda: "Deploy" in button_labels(card))
    return job_id, card


def _thread(rig: BotRig, card: StoredMessage) -> str:
    return texts_of(rig.slack.thread(CHANNEL, card.ts))


async def _deployed_note(rig: BotRig, card: StoredMessage) -> str:
    """The job's thread once it has said a deployment is ready."""
    await rig.slack.wait_for(lambda: "Deployed as" in _thread(rig, card))
    return _thread(rig, card)


async def _fine_tuned_model(rig: BotRig, job_id: str) -> str:
    model = (await rig.services.api.retrieve_job(job_id)).fine_tuned_model
    assert model is not None
    return model


async def test_deploy_button_deploys_and_the_thread_hears(azure_bot: BotRig, entra: EntraRig) -> None:
    rig = azure_bot
    job_id, card = await _succeeded_job(rig)
    assert button_labels(card) == ["Deploy", "Try", "Refresh"]
    model = await _fine_tuned_model(rig, job_id)

    sent = await rig.slack.sender.click(card, "job_deploy")
    answer = await rig.answer_text(sent)
    name = f"tuneops-{job_id.split('-', 1)[1][-12:]}"
    assert name in answer
    note = await _deployed_note(rig, card)
    assert f"Deployed as `{name}`" in note
    assert model in note
    # Azure was asked with a management-scope Entra token for the deployment the issue names.
    (put,) = [p for method, p in rig.emulator.management.requests if method == "PUT"]
    assert put == (
        "/subscriptions/sub-123/resourceGroups/rg-ml/providers/Microsoft.CognitiveServices/accounts/"
        f"acme-openai/deployments/{name}"
    )
    assert entra.identity.tokens_for(MANAGEMENT_RESOURCE)
    entries = await rig.audit(job_id, 4)
    deploys = [(e.action, e.allowed, e.result) for e in entries if e.action == "deploy"]
    assert [allowed for _, allowed, _ in deploys] == [True, True]
    assert f"deploying {model} as {name}" in str(deploys[0][2])
    assert f"deployment {name}: Succeeded" in str(deploys[1][2])


async def test_a_checkpoint_deploys_typed_with_its_name_and_sku(azure_bot: BotRig) -> None:
    rig = azure_bot
    job_id, card = await _succeeded_job(rig)
    checkpoints = (await rig.services.api.list_checkpoints(job_id, limit=10)).data
    checkpoint = checkpoints[-1].id
    assert checkpoint.startswith("ftchkpt-")

    sent = await rig.slack.sender.slash(f"deploy {checkpoint} name=early-one sku=globalstandard capacity=2")
    answer = await rig.answer_text(sent)
    assert "early-one" in answer
    note = await _deployed_note(rig, card)
    assert "Deployed as `early-one`" in note and checkpoint in note
    (deployment,) = rig.emulator.management.deployments.values()
    assert (deployment.model, deployment.sku, deployment.capacity) == (checkpoint, "GlobalStandard", 2)


async def test_a_refused_deploy_is_explained_in_plain_words(azure_bot: BotRig) -> None:
    rig = azure_bot
    job_id, card = await _succeeded_job(rig)
    await rig.control.set_management(
        refuse_next={
            "status": 409,
            "code": "InsufficientQuota",
            "message": "This operation require 1 new capacity in quota Tokens Per Minute, which is bigger "
            "than the current available capacity 0.",
        }
    )
    answer = await rig.answer_text(await rig.slack.sender.click(card, "job_deploy"))
    assert "current available capacity 0" in answer
    assert "has no room for another deployment" in answer and "`undeploy <name>`" in answer
    thread = await rig.slack.wait_for(lambda: _thread(rig, card))
    assert "current available capacity 0" in thread
    assert rig.emulator.management.deployments == {}
    entries = await rig.audit(job_id, 3)
    assert any(e.action == "deploy" and "refused by Azure" in str(e.result) for e in entries)


async def test_deployments_lists_and_warns_about_old_ones(azure_bot: BotRig) -> None:
    rig = azure_bot
    job_id, card = await _succeeded_job(rig)
    empty = await rig.answer_text(await rig.slack.sender.slash("deployments"))
    assert "No fine-tuned model is deployed on `acme-openai`" in empty

    await rig.answer(await rig.slack.sender.slash(f"deploy {job_id} name=support-bot"))
    await _deployed_note(rig, card)
    listed = await rig.answer_text(await rig.slack.sender.slash("deployments"))
    assert "`support-bot`" in listed and "Succeeded" in listed
    assert "15 days" not in listed  # a fresh deployment is no worry yet

    await rig.control.set_management(backdate={"support-bot": 9 * 86400})
    warned = await rig.answer_text(await rig.slack.sender.slash("deployments"))
    assert "1 deployment has been up for 7 days or more" in warned
    assert "15 days without calls" in warned


async def test_undeploy_asks_first_then_deletes(azure_bot: BotRig) -> None:
    rig = azure_bot
    job_id, card = await _succeeded_job(rig)
    await rig.answer(await rig.slack.sender.slash(f"deploy {job_id} name=support-bot"))
    await _deployed_note(rig, card)

    asked = await rig.answer(await rig.slack.sender.slash("undeploy support-bot"))
    assert "support-bot" in texts_of([asked.body])
    assert len(rig.emulator.management.deployments) == 1  # nothing deleted before the confirm
    confirm = await rig.slack.wait_for(
        lambda: [e for e in rig.slack.ephemerals("U_ALICE") if "Delete deployment" in button_labels(e)]
    )
    button = next(b for b in confirm[-1].blocks if b.get("type") == "actions")["elements"][0]
    assert "confirm" in button  # Slack asks "are you sure" before it sends the click
    done = await rig.answer_text(await rig.slack.sender.click(confirm[-1], button["action_id"]))
    assert "support-bot" in done and "deleted" in done.lower()
    assert rig.emulator.management.deployments == {}
    entries = await rig.audit(job_id, 5)
    assert any(
        e.action == "undeploy" and e.allowed and "deleted deployment support-bot" in str(e.result)
        for e in entries
    )


async def test_try_posts_both_answers_side_by_side(azure_bot: BotRig) -> None:
    rig = azure_bot
    job_id, card = await _succeeded_job(rig)
    model = await _fine_tuned_model(rig, job_id)
    not_yet = await rig.answer_text(await rig.slack.sender.slash(f"try {job_id} What is our refund policy?"))
    assert "not deployed yet" in not_yet and f"deploy {job_id}" in not_yet

    await rig.answer(await rig.slack.sender.slash(f"deploy {job_id} name=support-bot"))
    await _deployed_note(rig, card)
    await rig.answer(await rig.slack.sender.slash(f"try {job_id} What is our refund policy?"))
    posted = await rig.slack.wait_for(
        lambda: [m for m in rig.slack.thread(CHANNEL, card.ts) if "heard" in texts_of([m])]
    )
    shown = texts_of(posted)
    assert answer_text(model, "What is our refund policy?") in shown
    assert answer_text(BASE_MODEL, "What is our refund policy?") in shown
    # Side by side: the two answers are two fields of one section.
    fields = [b["fields"] for b in posted[0].blocks if b.get("fields")]
    assert len(fields) == 1 and len(fields[0]) == 2


async def test_try_button_opens_a_prompt_form(azure_bot: BotRig) -> None:
    rig = azure_bot
    job_id, card = await _succeeded_job(rig)
    await rig.answer(await rig.slack.sender.slash(f"deploy {job_id} name=support-bot"))
    await _deployed_note(rig, card)
    assert (await rig.slack.sender.click(card, "job_try")).status == 200
    view = await rig.slack.wait_for(lambda: rig.slack.open_view("U_ALICE"))
    assert (await rig.slack.sender.submit_view(view, {"prompt": "Hello there"})).status == 200
    posted = await rig.slack.wait_for(
        lambda: [m for m in rig.slack.thread(CHANNEL, card.ts) if "Hello there" in texts_of([m])]
    )
    assert answer_text(BASE_MODEL, "Hello there") in texts_of(posted)
    entries = await rig.audit(job_id, 5)
    assert any(e.action == "try" and e.allowed for e in entries)


async def test_a_stranger_may_not_deploy_or_undeploy(azure_bot: BotRig) -> None:
    rig = azure_bot
    job_id, card = await _succeeded_job(rig)
    refused = await rig.answer_text(await rig.slack.sender.click(card, "job_deploy", user="U_MALLORY"))
    only = f"Only <@U_ALICE>, who started `{job_id}`, or an admin can deploy it."
    assert only in refused
    assert rig.emulator.management.deployments == {}
    assert not (await rig.refusal(job_id, "deploy")).allowed

    checkpoint = (await rig.services.api.list_checkpoints(job_id, limit=10)).data[-1].id
    typed = await rig.answer_text(await rig.slack.sender.slash(f"deploy {checkpoint}", user="U_MALLORY"))
    assert only in typed
    assert rig.emulator.management.deployments == {}

    await rig.answer(await rig.slack.sender.slash(f"deploy {job_id} name=support-bot"))
    await _deployed_note(rig, card)
    await rig.answer(await rig.slack.sender.slash("undeploy support-bot", user="U_MALLORY"))
    confirm = await rig.slack.wait_for(
        lambda: [e for e in rig.slack.ephemerals("U_MALLORY") if "Delete deployment" in button_labels(e)]
    )
    button = next(b for b in confirm[-1].blocks if b.get("type") == "actions")["elements"][0]
    no = await rig.answer_text(
        await rig.slack.sender.click(confirm[-1], button["action_id"], user="U_MALLORY")
    )
    assert only in no
    assert len(rig.emulator.management.deployments) == 1
    assert not (await rig.refusal(job_id, "undeploy")).allowed


async def test_help_names_the_after_training_commands(azure_bot: BotRig) -> None:
    text = await azure_bot.answer_text(await azure_bot.slack.sender.slash("help deploy"))
    assert "sku=standard|globalstandard|developer" in text
    every = await azure_bot.answer_text(await azure_bot.slack.sender.slash("help"))
    for form in ("deployments", "undeploy <name>", "try <job-id> <prompt>"):
        assert form in every


async def test_the_thread_waits_for_provisioning_and_hears_a_failure(azure_bot: BotRig) -> None:
    rig = azure_bot
    job_id, card = await _succeeded_job(rig)
    await rig.control.set_management(provisioning_seconds=1.5)
    answer = await rig.answer_text(await rig.slack.sender.slash(f"deploy {job_id} name=slow-one"))
    assert "Azure says `Creating`" in answer and "I'll say in the job's thread" in answer
    await _deployed_note(rig, card)  # told only once Azure said Succeeded
    gets = [m for m, path in rig.emulator.management.requests if m == "GET" and path.endswith("/slow-one")]
    assert gets  # it asked again until the state settled

    await rig.control.set_management(
        provisioning_seconds=0.5, fail_next="The model's region has no capacity for this SKU."
    )
    await rig.answer(await rig.slack.sender.slash(f"deploy {job_id} name=doomed-one"))
    failed = await rig.slack.wait_for(
        lambda: "did not become ready" in _thread(rig, card) and _thread(rig, card)
    )
    assert "`doomed-one` did not become ready (Failed)" in str(failed)
    assert "no capacity for this SKU" in str(failed)
    entries = await rig.audit(job_id, 6)
    assert any("deployment doomed-one: failed" in str(e.result) for e in entries)


async def test_on_openai_try_needs_no_deployment_and_deploy_explains_why(bot: BotRig) -> None:
    job_id, card = await bot.create_job()
    await bot.control.advance(24 * 3600)
    assert (await bot.slack.sender.click(card, "job_refresh")).status == 200
    await bot.slack.wait_for(lambda: "Try" in button_labels(card))
    assert "Deploy" not in button_labels(card)
    model = await _fine_tuned_model(bot, job_id)

    await bot.answer(await bot.slack.sender.slash(f"try {job_id} Say hi"))
    posted = await bot.slack.wait_for(
        lambda: [m for m in bot.slack.thread(CHANNEL, card.ts) if "Say hi" in texts_of([m])]
    )
    assert answer_text(model, "Say hi") in texts_of(posted)
    assert answer_text(BASE_MODEL, "Say hi") in texts_of(posted)
    why = await bot.answer_text(await bot.slack.sender.slash(f"deploy {job_id}"))
    assert "Deployments are for Azure AI Foundry" in why and "call it by its name" in why


async def test_a_cancelled_jobs_checkpoint_deploys(azure_bot: BotRig) -> None:
    # Azure lists a job's checkpoints once it has ended: a job stopped after its first epoch still offers one.
    rig = azure_bot
    job_id, card = await rig.create_job()
    for _ in range(600):  # run it (emulated seconds) until its first epoch saved a checkpoint
        events = (await rig.services.api.list_events(job_id, limit=50)).data
        if any("Checkpoint created" in event.message for event in events):
            break
        await rig.control.advance(2)
    await rig.answer(await rig.slack.sender.slash(f"cancel {job_id}"))
    assert await rig.job_status_in_emulator(job_id) == "cancelled"
    checkpoints = (await rig.services.api.list_checkpoints(job_id, limit=10)).data
    assert checkpoints
    answer = await rig.answer_text(await rig.slack.sender.slash(f"deploy {checkpoints[0].id} name=mid-way"))
    assert "mid-way" in answer
    note = await _deployed_note(rig, card)
    assert f"Deployed as `mid-way` (`{checkpoints[0].id}`" in note
