"""One table of words for the relay's refusals (client/views/present/outcomes.py
``REFUSAL_WHY``), read by the CLI and the app alike, and what a live session does after
each (client/core/refusals.py; docs/PROTOCOL.md §9.14)."""

from __future__ import annotations

from client.core.refusals import AFTER_REFUSAL, AfterRefusal, after_refusal
from client.views.present import Delivery, delivery_sentence, refusal_sentence, refusal_why
from client.views.present.outcomes import REFUSAL_UNKNOWN, REFUSAL_WHY, SENT_LATER_APP
from schemas.errors import ErrorCode


def test_every_worded_code_is_a_relay_code_and_every_recovery_has_words() -> None:
    codes = {c.value for c in ErrorCode}
    assert set(REFUSAL_WHY) <= codes
    assert set(AFTER_REFUSAL) <= set(REFUSAL_WHY)


def test_a_code_no_table_holds_is_said_in_the_apps_words_and_retried() -> None:
    hostile = "zz_new\u202eeulav\u001b[2J"
    assert refusal_why(hostile) == REFUSAL_UNKNOWN
    assert "zz_new" not in refusal_sentence(hostile)
    assert after_refusal(hostile) is AfterRefusal.RETRY


def test_what_follows_each_refusal() -> None:
    assert after_refusal("quota_exceeded") is AfterRefusal.RETRY
    assert after_refusal("chain_gap") is AfterRefusal.RESEED
    assert after_refusal("device_revoked") is AfterRefusal.STOP


def test_a_refusal_no_retry_undoes_does_not_promise_a_later_delivery() -> None:
    said = delivery_sentence(
        Delivery(delivered=False, reason="device_revoked", final=True), later=SENT_LATER_APP
    )
    assert said == (
        "Saved on this device; not delivered yet: this device was removed from the space and "
        "can no longer send. It stays on this device."
    )
    quota = delivery_sentence(
        Delivery(delivered=False, reason="quota_exceeded"), later=SENT_LATER_APP
    )
    assert quota.startswith(
        f"Saved on this device; not delivered yet: {REFUSAL_WHY['quota_exceeded']}."
    )
    assert quota.endswith(SENT_LATER_APP)
