"""TUNEOPS_WEBHOOK_SECRET: one `whsec_…` secret, or several during a rotation; a mistyped one is named."""

from __future__ import annotations

import base64

import pytest

from bot.config import ConfigError, load_settings
from bot.ops.redaction import redact, register_settings_secrets

NEW = "whsec_" + base64.b64encode(b"the-new-signing-key-0123").decode()
OLD = "whsec_" + base64.b64encode(b"the-old-signing-key-0123").decode()


def test_several_secrets_are_read_in_order_and_unset_means_no_webhooks() -> None:
    assert load_settings(TUNEOPS_WEBHOOK_SECRET=f" {NEW} ,{OLD}, ").webhook_secrets == [NEW, OLD]
    assert load_settings(TUNEOPS_WEBHOOK_SECRET=None).webhook_secrets == []
    # A secret whose base64 padding was dropped (some dashboards show it so) is still accepted.
    assert load_settings(TUNEOPS_WEBHOOK_SECRET=NEW.rstrip("=")).webhook_secrets == [NEW.rstrip("=")]


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("sk-not-a-webhook-secret", "should start with whsec_"),
        ("whsec_", "followed by base64"),
        ("whsec_not base64!", "followed by base64"),
        (f"{NEW},oops", "secret 2 should start with whsec_"),
    ],
)
def test_a_mistyped_secret_is_named_without_echoing_it(value: str, says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(TUNEOPS_WEBHOOK_SECRET=value)
    [problem] = raised.value.problems
    assert problem.startswith("TUNEOPS_WEBHOOK_SECRET") and says in problem
    assert "oops" not in problem and "not-a-webhook" not in problem


def test_each_secret_is_kept_out_of_logs_and_messages() -> None:
    register_settings_secrets(load_settings(TUNEOPS_WEBHOOK_SECRET=f"{NEW},{OLD}"))
    said = redact(f"verifying with {NEW} then {OLD}")
    assert NEW not in said and OLD not in said
