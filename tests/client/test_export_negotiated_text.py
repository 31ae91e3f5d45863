"""The other partner's proposals in an export (client/export/consent.py ``NEGOTIATED``,
docs/PROTOCOL.md "Exports", "Consent", "Negotiated text").

The story of tests/client/test_export_consent.py, exported by Blake this time: Alex
proposed "Phones away at dinner", which Blake declined, and "Sunday walks", which Blake
accepted. "Sunday walks" is both partners' words and leaves with Blake's acceptance;
"Phones away at dinner" is Alex's alone and leaves only with Alex's consent.
"""

from __future__ import annotations

import msgspec
import pytest

from client.export import (
    ExportError,
    FindingCode,
    build_export,
    choose_with_consent,
    render_html,
    verify_export,
)
from client.keys import crypto
from schemas.ids import EventId
from schemas.practices import ExportConsented, LeftOut
from tests.client.builders import EPOCH_KEYS, SPACE_ID
from tests.client.test_export import doc_of, signed_by
from tests.client.test_export_consent import CREATED_AT_MS, DAY_MS, PURPOSE, RECIPIENT, Story

ASKED = ExportConsented(
    recipient=RECIPIENT, purpose=PURPOSE, expires_at=CREATED_AT_MS + 30 * DAY_MS
)


def _blakes_export(story: Story) -> tuple[bytes, set[EventId], list[LeftOut]]:
    """What ``trellis export`` does on Blake's device for the agreements' history."""
    blake = story.pair.blake
    chosen = story.chosen - {story.accepted.event_id}  # the acceptance comes by itself
    kept, left_out = choose_with_consent(
        space_id=SPACE_ID,
        events=story.events,
        chosen=chosen,
        exporter=blake.device_id,
        declaration=ASKED,
        created_at_ms=CREATED_AT_MS,
    )
    declaration = blake.write(
        msgspec.structs.replace(ASKED, left_out=left_out), deps=[story.events[-1]]
    )
    story._admit([declaration])
    document = _build(story, kept | {EventId(declaration.event_id)})
    return document, kept, left_out


def _build(story: Story, chosen: set[EventId]) -> bytes:
    return build_export(
        space_id=SPACE_ID,
        events=story.events,
        chosen=chosen,
        events_key_for_epoch=lambda epoch: crypto.events_key_for(EPOCH_KEYS[epoch]),
        exporter=story.pair.blake.device,
        title="Agreements",
        created_at_ms=CREATED_AT_MS,
    )


def test_the_version_blake_accepted_leaves_and_the_one_he_declined_does_not() -> None:
    story = Story()
    document, kept, left_out = _blakes_export(story)

    assert EventId(story.accepted.event_id) in kept
    assert EventId(story.second.event_id) in kept
    assert [(i.event, i.kind, i.about) for i in left_out] == [
        (story.proposal.event_id, "agreement_proposed", story.proposal.event_id)
    ]
    verified, findings = verify_export(document)
    assert findings == []
    assert verified is not None
    report = render_html(document)
    assert "Sunday walks" in report
    assert "Phones away at dinner" not in report.split("<script", 1)[0]
    assert "Left out: an agreement proposal by Alex" in report


def test_with_alexs_consent_both_versions_leave() -> None:
    story = Story()
    consent = story.pair.alex.write(
        msgspec.structs.replace(ASKED, expires_at=CREATED_AT_MS + DAY_MS),
        deps=[story.accepted],
    )
    story._admit([consent])
    document, _, left_out = _blakes_export(story)
    assert left_out == []
    assert verify_export(document)[1] == []
    assert "Phones away at dinner" in render_html(document)


def test_building_refuses_alexs_unaccepted_proposal_by_name() -> None:
    story = Story()
    declaration = story.pair.blake.write(ASKED, deps=[story.events[-1]])
    story._admit([declaration])
    with pytest.raises(ExportError, match=r"Alex's own words \(an agreement proposal"):
        _build(story, {EventId(story.proposal.event_id), EventId(declaration.event_id)})


def test_a_forged_export_that_smuggles_alexs_proposal_is_refused() -> None:
    """Blake's modified app reveals the declined proposal anyway, and signs."""
    story = Story()
    document, _, _ = _blakes_export(story)
    doc = doc_of(document)
    held = next(e for e in story.events if e.event_id == story.proposal.event_id)
    key = crypto.content_key_of(crypto.events_key_for(EPOCH_KEYS[0]), held.envelope).hex()
    order = {e.event_id.hex(): n for n, e in enumerate(story.events)}
    revealed = sorted(
        [*doc.revealed, type(doc.revealed[0])(held.event_id.hex(), key)],
        key=lambda r: order[r.event_id],
    )
    forged = signed_by(msgspec.structs.replace(doc, revealed=revealed), story.pair.blake.device)

    verified, findings = verify_export(forged)
    assert verified is None
    assert FindingCode.WORDS_WITHOUT_CONSENT in {f.code for f in findings}
    assert any(story.proposal.event_id.hex()[:8] in f.where for f in findings)
