"""Exports with both partners' consent (client/export/consent.py, docs/PROTOCOL.md
"Exports", "Consent").

The story: Alex proposes an agreement; Blake declines it, giving a reason in Blake's own
words. Alex exports the agreement's history for a therapist. Blake's reason leaves only
with Blake's signed ``export_consented`` for that export (same recipient and purpose,
not expired); the facts (that Blake declined, when) never need it.
"""

from __future__ import annotations

import msgspec
import pytest

from client.core.verify import VerifiedEvent
from client.export import (
    ExportError,
    FindingCode,
    build_export,
    choose_with_consent,
    render_html,
    verify_export,
)
from client.keys import crypto
from client.views.fold import causal_order
from schemas.ids import EventId
from schemas.intimacy import IntimacyCheckIn
from schemas.practices import (
    AgreementAccepted,
    AgreementDeclined,
    AgreementProposed,
    ExportConsented,
    LeftOut,
)
from tests.client.builders import (
    EPOCH_KEYS,
    SPACE_ID,
    START_MS,
    Built,
    Pair,
    new_verifier,
    paired,
)
from tests.client.test_export import doc_of, signed_by

REASON = "I am not ready to promise this while we are still in crisis"
RECIPIENT = "Dr. Rivera"
PURPOSE = "Our session on 12 January"
CREATED_AT_MS = START_MS + 3_600_000
DAY_MS = 86_400_000


class Story:
    """Membership, Alex's proposal, Blake's decline with a reason, Blake's accept of a
    second proposal (no words), and whatever consents a test adds."""

    def __init__(self, *blake_consents: ExportConsented, intimacy: bool = False) -> None:
        self.pair: Pair = paired()
        alex, blake = self.pair.alex, self.pair.blake
        self.proposal = alex.write(
            AgreementProposed(title="Phones away at dinner", clauses=["No phones at the table"]),
            deps=[self.pair.joined],
        )
        self.declined = blake.write(
            AgreementDeclined(version=self.proposal.event_id, reason=REASON),
            deps=[self.proposal],
        )
        self.second = alex.write(
            AgreementProposed(title="Sunday walks", clauses=["We walk on Sundays"]),
            deps=[self.declined],
        )
        self.accepted = blake.write(
            AgreementAccepted(version=self.second.event_id), deps=[self.second]
        )
        built = [*self.pair.membership, self.proposal, self.declined, self.second, self.accepted]
        self.agreement_events = {
            e.event_id for e in (self.proposal, self.declined, self.second, self.accepted)
        }
        self.consents: list[Built] = []
        for consent in blake_consents:
            self.consents.append(blake.write(consent, deps=[self.accepted]))
        built += self.consents
        if intimacy:
            self.intimate = blake.write(IntimacyCheckIn(comfort=2), deps=[self.accepted])
            self.agreement_events.add(self.intimate.event_id)
            built.append(self.intimate)
        self.verifier = new_verifier()
        self.events: list[VerifiedEvent] = []
        self._admit(built)

    def _admit(self, built: list[Built]) -> None:
        for b in built:
            outcome = self.verifier.admit(b.data)
            assert outcome.event is not None, (outcome.code, outcome.reason)
            self.events.append(outcome.event)
        self.events = causal_order(self.events)

    @property
    def chosen(self) -> set[EventId]:
        return {self.pair.genesis.event_id, self.pair.joined.event_id, *self.agreement_events}

    def export(
        self, *, recipient: str = RECIPIENT, purpose: str = PURPOSE
    ) -> tuple[bytes, list[LeftOut]]:
        """What ``trellis export --for --purpose --until`` does: choose, declare, build."""
        asked = ExportConsented(
            recipient=recipient, purpose=purpose, expires_at=CREATED_AT_MS + 30 * DAY_MS
        )
        kept, left_out = choose_with_consent(
            space_id=SPACE_ID,
            events=self.events,
            chosen=self.chosen,
            exporter=self.pair.alex.device_id,
            declaration=asked,
            created_at_ms=CREATED_AT_MS,
        )
        declaration = self.pair.alex.write(
            msgspec.structs.replace(asked, left_out=left_out), deps=[self.events[-1]]
        )
        self._admit([declaration])
        return self.build(kept | {declaration.event_id}), left_out

    def build(self, chosen: set[EventId]) -> bytes:
        return build_export(
            space_id=SPACE_ID,
            events=self.events,
            chosen=chosen,
            events_key_for_epoch=lambda epoch: crypto.events_key_for(EPOCH_KEYS[epoch]),
            exporter=self.pair.alex.device,
            title="Agreements",
            created_at_ms=CREATED_AT_MS,
        )


def blake_says_yes(expires_at: int = CREATED_AT_MS + 7 * DAY_MS, **changes: str) -> ExportConsented:
    fields = {"recipient": RECIPIENT, "purpose": PURPOSE, **changes}
    return ExportConsented(expires_at=expires_at, **fields)


def test_building_refuses_the_partners_words_without_their_consent() -> None:
    story = Story()
    declaration = story.pair.alex.write(
        ExportConsented(recipient=RECIPIENT, purpose=PURPOSE, expires_at=CREATED_AT_MS + DAY_MS),
        deps=[story.events[-1]],
    )
    story._admit([declaration])
    with pytest.raises(ExportError) as refused:
        story.build(story.chosen | {declaration.event_id})
    message = str(refused.value)
    assert "Blake's own words" in message
    assert "a reason for declining" in message
    assert "trellis export-consent" in message
    assert REASON not in message


def test_without_consent_the_partners_words_are_left_out_and_the_report_says_so() -> None:
    story = Story()
    document, left_out = story.export()
    assert left_out == [
        LeftOut(
            event=story.declined.event_id,
            kind="agreement_declined",
            about=story.proposal.event_id,
        )
    ]
    verified, findings = verify_export(document)
    assert findings == []
    assert verified is not None
    revealed = {e.event_id for e in verified.revealed}
    assert story.declined.event_id not in revealed
    # The facts without words still leave: Blake's acceptance of the second version.
    assert story.accepted.event_id in revealed
    report = render_html(document)
    assert REASON not in report
    assert REASON not in document.decode()
    assert "left out" in report
    assert "Blake has not consented" in report


def test_with_the_partners_consent_their_words_are_in_the_export() -> None:
    story = Story(blake_says_yes())
    document, left_out = story.export()
    assert left_out == []
    verified, findings = verify_export(document)
    assert findings == []
    assert verified is not None
    revealed = {e.event_id for e in verified.revealed}
    assert {story.declined.event_id, story.consents[0].event_id} <= revealed
    report = render_html(document)
    assert REASON in report
    assert "Blake consented" in report


def test_an_expired_consent_does_not_count() -> None:
    story = Story(blake_says_yes(expires_at=CREATED_AT_MS - 1))
    document, left_out = story.export()
    assert [item.event for item in left_out] == [story.declined.event_id]
    assert REASON not in render_html(document)


def test_a_consent_for_another_recipient_or_purpose_does_not_count() -> None:
    for other in (
        blake_says_yes(recipient="Our lawyer"),
        blake_says_yes(purpose="Court"),
    ):
        story = Story(other)
        _, left_out = story.export()
        assert [item.event for item in left_out] == [story.declined.event_id]


def test_recipient_and_purpose_match_regardless_of_case_and_spacing() -> None:
    story = Story(blake_says_yes(recipient="  dr.  RIVERA "))
    _, left_out = story.export()
    assert left_out == []


def test_intimacy_data_never_leaves_in_the_partners_export_even_with_consent() -> None:
    story = Story(blake_says_yes(), intimacy=True)
    _, left_out = story.export()
    assert [item.event for item in left_out] == [story.intimate.event_id]


def test_verifying_refuses_an_export_showing_the_partners_words_without_their_consent() -> None:
    """A dishonest exporter's own software drops Blake's consent from a signed export:
    the exporter can sign the document, but cannot make Blake's consent."""
    story = Story(blake_says_yes())
    document, _ = story.export()
    doc = doc_of(document)
    consent_id = story.consents[0].event_id.hex()
    forged = msgspec.structs.replace(
        doc, revealed=[r for r in doc.revealed if r.event_id != consent_id]
    )
    verified, findings = verify_export(signed_by(forged, story.pair.alex.device))
    assert verified is None
    assert [f.code for f in findings] == [FindingCode.WORDS_WITHOUT_CONSENT]
    assert story.declined.event_id.hex()[:8] in findings[0].where


def test_verifying_refuses_a_consent_that_had_expired_when_the_export_was_made() -> None:
    """The exporter re-dates a signed export to after the partner's consent ended."""
    story = Story(blake_says_yes(expires_at=CREATED_AT_MS + DAY_MS))
    document, left_out = story.export()
    assert left_out == []
    doc = doc_of(document)
    assert doc.summary is not None
    later = msgspec.structs.replace(
        doc,
        created_at=CREATED_AT_MS + 2 * DAY_MS,
        summary=msgspec.structs.replace(doc.summary, as_of=CREATED_AT_MS + 2 * DAY_MS),
    )
    verified, findings = verify_export(signed_by(later, story.pair.alex.device))
    assert verified is None
    # Blake's words, and Blake's consent itself (a recipient and purpose it no longer
    # covers are Blake's words too).
    assert {f.code for f in findings} == {FindingCode.WORDS_WITHOUT_CONSENT}
    assert any(story.declined.event_id.hex()[:8] in f.where for f in findings)


def test_verifying_refuses_an_export_without_a_declaration_showing_the_partners_words() -> None:
    """A modified client leaves out the declaration (and the partner's consent) to skip
    the consent check: every export must say whom it is for, so it does not verify, as
    JSON or as a report."""
    story = Story(blake_says_yes())
    document, _ = story.export()
    honest, _ = verify_export(document)
    assert honest is not None
    alex = story.pair.alex.device_id
    declaration = next(
        e.event_id for e in honest.revealed if e.kind == "export_consented" and e.author == alex
    )
    unsaid = {declaration.hex(), story.consents[0].event_id.hex()}
    doc = doc_of(document)
    forged = signed_by(
        msgspec.structs.replace(
            doc, revealed=[r for r in doc.revealed if r.event_id not in unsaid]
        ),
        story.pair.alex.device,
    )
    assert REASON.encode() in msgspec.json.encode(  # Blake's words are still readable in it
        [e.payload for e in honest.revealed if e.event_id == story.declined.event_id]
    )
    verified, findings = verify_export(forged)
    assert verified is None
    assert [f.code for f in findings] == [FindingCode.NO_DECLARATION]
    assert "whom it is for" in findings[0].message
    with pytest.raises(ExportError, match="does not verify"):
        render_html(forged)
