"""The permission table: creator, admin and other user; owning, watching and unrelated channel; each action."""

from __future__ import annotations

from typing import cast

import pytest

from bot.jobs.actions import CONTROL_ACTIONS, Action
from bot.jobs.permissions import MUTATING_ACTIONS, READ_ONLY_ACTIONS, RULES, Decision, Policy
from bot.jobs.records import Origin, Progress, TrackedJob

CREATOR, ADMIN, OTHER = "UCREATOR", "UADMIN", "UOTHER"
OWNER_CHANNEL, WATCHING_CHANNEL, UNRELATED_CHANNEL = "COWNER", "CWATCH", "CELSE"
POLICY = Policy(admins=frozenset({ADMIN}))


def job(creator: str | None = CREATOR, origin: Origin = Origin.COMMAND) -> TrackedJob:
    return TrackedJob(
        job_id="ftjob-perm1",
        provider="openai",
        owner_channel=OWNER_CHANNEL,
        creator=creator,
        origin=origin,
        status="running",
        status_seq=1,
        model="gpt-4o-mini",
        suffix=None,
        last_event_id=None,
        last_event_at=None,
        progress=Progress(),
        version=1,
        next_poll_at=0,
        stuck_noted=False,
        snapshot={},
        created_at=0,
        updated_at=0,
    )


def decide(action: str, user: str, channel: str, tracked: TrackedJob | None = None) -> Decision:
    tracked = job() if tracked is None else tracked
    watches = channel in (OWNER_CHANNEL, WATCHING_CHANNEL)
    # A name outside the enum still reaches the policy as it is: requests are data, and must be refused.
    known = Action(action) if action in {a.value for a in Action} else action
    return POLICY.decide(
        action=cast(Action, known), user=user, channel=channel, job=tracked, channel_watches=watches
    )


# (user, channel) → allowed, for pause / resume / cancel
CONTROL_TABLE = {
    (CREATOR, OWNER_CHANNEL): True,
    (CREATOR, WATCHING_CHANNEL): True,
    (CREATOR, UNRELATED_CHANNEL): False,
    (ADMIN, OWNER_CHANNEL): True,
    (ADMIN, WATCHING_CHANNEL): True,
    (ADMIN, UNRELATED_CHANNEL): True,
    (OTHER, OWNER_CHANNEL): False,
    (OTHER, WATCHING_CHANNEL): False,
    (OTHER, UNRELATED_CHANNEL): False,
}


@pytest.mark.parametrize("action", sorted(CONTROL_ACTIONS))
@pytest.mark.parametrize(("user", "channel"), sorted(CONTROL_TABLE))
def test_pause_resume_cancel(action: str, user: str, channel: str) -> None:
    decision = decide(action, user, channel)
    assert decision.allowed is CONTROL_TABLE[(user, channel)]
    assert (decision.reason is None) is decision.allowed


@pytest.mark.parametrize("action", sorted(READ_ONLY_ACTIONS | {"watch", "create", "open_form"}))
@pytest.mark.parametrize("user", [CREATOR, ADMIN, OTHER])
@pytest.mark.parametrize("channel", [OWNER_CHANNEL, WATCHING_CHANNEL, UNRELATED_CHANNEL])
def test_reading_and_watching_are_open_to_everyone_everywhere(action: str, user: str, channel: str) -> None:
    assert decide(action, user, channel).allowed


UNWATCH_TABLE = {
    (CREATOR, OWNER_CHANNEL): True,
    (CREATOR, WATCHING_CHANNEL): True,
    (CREATOR, UNRELATED_CHANNEL): False,
    (ADMIN, OWNER_CHANNEL): True,
    (ADMIN, WATCHING_CHANNEL): True,
    (ADMIN, UNRELATED_CHANNEL): True,
    (OTHER, OWNER_CHANNEL): False,
    (OTHER, WATCHING_CHANNEL): True,
    (OTHER, UNRELATED_CHANNEL): False,
}


@pytest.mark.parametrize(("user", "channel"), sorted(UNWATCH_TABLE))
def test_unwatch(user: str, channel: str) -> None:
    assert decide("unwatch", user, channel).allowed is UNWATCH_TABLE[(user, channel)]


def test_refusals_explain_themselves() -> None:
    elsewhere = decide("cancel", CREATOR, UNRELATED_CHANNEL)
    assert "doesn't follow `ftjob-perm1`" in (elsewhere.reason or "")
    not_yours = decide("pause", OTHER, OWNER_CHANNEL)
    assert "Only <@UCREATOR>" in (not_yours.reason or "") and "admin" in (not_yours.reason or "")
    home = decide("unwatch", OTHER, OWNER_CHANNEL)
    assert "started" in (home.reason or "")


@pytest.mark.parametrize("action", sorted(CONTROL_ACTIONS))
def test_job_with_unknown_creator_is_controlled_by_admins_only(action: str) -> None:
    adopted = job(creator=None, origin=Origin.WATCH)
    for user in (OTHER, CREATOR):
        refused = decide(action, user, WATCHING_CHANNEL, adopted)
        assert not refused.allowed
        assert "Only admins" in (refused.reason or "")
    assert decide(action, ADMIN, WATCHING_CHANNEL, adopted).allowed


def test_untracked_job_only_admins_may_control() -> None:
    decision = POLICY.decide(
        action=Action.CANCEL, user=OTHER, channel=OWNER_CHANNEL, job=None, channel_watches=False
    )
    assert not decision.allowed and decision.reason
    admin = POLICY.decide(
        action=Action.CANCEL, user=ADMIN, channel=OWNER_CHANNEL, job=None, channel_watches=False
    )
    assert admin.allowed


def test_refusals_about_untracked_jobs_name_the_job_and_the_way_in() -> None:
    policy = Policy(admins=frozenset({ADMIN}), command="/ft")
    cancel = policy.decide(
        action=Action.CANCEL,
        user=OTHER,
        channel=OWNER_CHANNEL,
        job=None,
        channel_watches=False,
        job_id="ftjob-x",
    )
    assert (cancel.reason or "").startswith("TuneOps doesn't follow `ftjob-x`, so I won't cancel it.")
    assert "`/ft watch ftjob-x` adopts it" in (cancel.reason or "")
    unwatch = policy.decide(
        action=Action.UNWATCH,
        user=OTHER,
        channel=OWNER_CHANNEL,
        job=None,
        channel_watches=False,
        job_id="ftjob-x",
    )
    assert unwatch.reason == "This channel isn't following `ftjob-x`."
    assert decide("unwatch", OTHER, UNRELATED_CHANNEL).reason == "This channel isn't following `ftjob-perm1`."


def test_unknown_action_is_refused_even_for_admins() -> None:
    decision = decide("delete_everything", ADMIN, OWNER_CHANNEL)
    assert not decision.allowed and "delete_everything" in (decision.reason or "")


def test_the_exported_sets_come_from_the_table() -> None:
    assert {"pause", "resume", "cancel", "unwatch", "deploy", "try"} == MUTATING_ACTIONS
    assert CONTROL_ACTIONS <= MUTATING_ACTIONS
    assert set(RULES) >= READ_ONLY_ACTIONS | MUTATING_ACTIONS | {"watch", "create"}
    assert not READ_ONLY_ACTIONS & MUTATING_ACTIONS


def test_every_action_has_a_rule() -> None:
    assert set(RULES) == set(Action)


def test_no_admins_configured_means_only_creators() -> None:
    policy = Policy()
    assert not policy.decide(
        action=Action.CANCEL, user=ADMIN, channel=OWNER_CHANNEL, job=job(), channel_watches=True
    ).allowed
    assert policy.decide(
        action=Action.CANCEL, user=CREATOR, channel=OWNER_CHANNEL, job=job(), channel_watches=True
    ).allowed
