"""The card and `status` tell every setting the job was given, link to the job in the provider's dashboard,
and on success show the fine-tuned model's id as inline code, ready to copy."""

from __future__ import annotations

from bot.finetune.spec import JobSpec
from bot.sandbox.emulator.server import EmulatorServer
from bot.sandbox.emulator.state import DEMO_TRAINING_FILE, DEMO_VALIDATION_FILE
from tests.support.runtime import BASE_MODEL, BotRig, StartBot, texts_of

EVERYTHING = (
    f"validation_file={DEMO_VALIDATION_FILE} suffix=all-set seed=42 epochs=2 batch_size=4 "
    "lr_multiplier=0.5 meta.team=nlp meta.run=seven"
)


async def test_the_card_shows_every_setting_given_and_the_dashboard_link(bot: BotRig) -> None:
    job_id, card = await bot.create_job(extra=EVERYTHING)
    text = texts_of([card])
    assert "supervised · epochs `2` · batch size `4` · LR multiplier `0.5` · seed `42`" in text
    assert f"Validation file `{DEMO_VALIDATION_FILE}`" in text
    assert "`team`=`nlp`" in text and "`run`=`seven`" in text
    assert "tuneops_" not in text  # TuneOps's own bookkeeping is not a setting
    assert f"<https://platform.openai.com/finetune/{job_id}|Open in the OpenAI dashboard>" in text

    status = await bot.answer_text(await bot.slack.sender.slash(f"status {job_id}", user="U_BOB"))
    assert "LR multiplier `0.5` · seed `42`" in status
    assert "`team`=`nlp`" in status
    assert f"https://platform.openai.com/finetune/{job_id}" in status


async def test_settings_left_to_the_api_are_folded_into_one_line(bot: BotRig) -> None:
    job = await bot.services.api.create_job(
        JobSpec(model=BASE_MODEL, training_file=DEMO_TRAINING_FILE, method="dpo")
    )
    # The real API reports `auto` until it has chosen; the emulator chooses at once, so say it did not.
    await bot.control.set_job_fields(
        job.id,
        {
            "method": {
                "type": "dpo",
                "dpo": {"hyperparameters": {"n_epochs": 3, "batch_size": "auto", "beta": "auto"}},
            },
            "hyperparameters": {"n_epochs": 3, "batch_size": "auto"},
        },
    )
    status = await bot.answer_text(await bot.slack.sender.slash(f"status {job.id}"))
    assert "dpo · epochs `3`" in status
    assert "_auto: batch size, LR multiplier, beta_" in status
    assert "Validation file" not in status  # none was given: nothing to say


async def test_a_succeeded_card_gives_the_model_id_as_inline_code(bot: BotRig) -> None:
    job_id, _ = await bot.create_job()
    await bot.control.set_job(job_id, status="succeeded")
    status = await bot.answer_text(await bot.slack.sender.slash(f"status {job_id}"))
    model = (await bot.services.api.retrieve_job(job_id)).fine_tuned_model
    assert model and model.startswith("ft:gpt-4o-mini-2024-07-18:")
    assert f"*Fine-tuned model*\n`{model}`" in status


async def test_an_azure_card_links_to_the_foundry_portal(
    start_bot: StartBot, emulator: EmulatorServer
) -> None:
    rig = await start_bot(
        TUNEOPS_PROVIDER="azure",
        AZURE_OPENAI_ENDPOINT=emulator.azure_endpoint,
        AZURE_OPENAI_API_KEY=emulator.api_key,
    )
    _, card = await rig.create_job()
    text = texts_of([card])
    assert "<https://ai.azure.com/resource/fine-tuning|Open in Azure AI Foundry>" in text
    assert "platform.openai.com" not in text
