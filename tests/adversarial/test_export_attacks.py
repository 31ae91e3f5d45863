"""Someone forging or editing an export a therapist is shown (docs/THREAT_MODEL.md §17.1,
§17.2, §21.1, §21.2; docs/PROTOCOL.md §5.18, "Exports").

1. Text that turns the report around: a partner's name, a title or a clause holding a
   RIGHT-TO-LEFT OVERRIDE or terminal control characters. The HTML report and
   ``trellis verify-export`` show none of them, and the report still verifies byte for
   byte; the signed JSON keeps what was written.
2. A made-up "left out": the exporter's declaration lists, as the partner's words left
   out and "sealed in this file", an event that is not there, or is the exporter's own.
   ``verify-export`` refuses it (``bad_left_out``); an honest export carries the chain
   of every event it leaves out, so the report's "sealed in this file" is true.
3. A date that reads one way to a person and another to the fold: an expiry written in
   full-width digits looks like 2027-03-01 and never comes. The schema takes ASCII
   digits only.
4. The partner's recovery plan (their inner circle, its definitions) in the other
   partner's export without their consent: it is their words, not a negotiated
   agreement, so it needs their consent like a journal entry.
5. A consent the exporter made: offline, with no relay to refuse it, the exporter signs
   a rejoin invite for the partner, a new device redeems it and "consents" as the
   partner. A device the other member vouched for never consents for its member.
   The same for a shared-language entry (a cue and what it means): intimacy data.
6. The partner who joined under the exporter's own name: "withdrawn by Alex" in Alex's
   export, when Blake withdrew. Two members of one name are told apart by member id.

Every envelope is real (tests/client/builders.py); each forged export is signed by the
forger's own device, as a dishonest partner would.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from client.cli.parser import main as trellis
from client.core.verify import VerifiedEvent
from client.export import build_export, choose_with_consent, render_html, verify_export
from client.export.format import (
    HTML_SCRIPT_CLOSE,
    HTML_SCRIPT_OPEN,
    ChainDoc,
    ExportDocument,
    RevealedDoc,
    b64,
    encode_document,
    from_b64,
    signed_bytes,
)
from client.keys import crypto
from client.views.fold import causal_order
from client.views.shown import UNSHOWN
from schemas.envelope import decode_envelope
from schemas.payloads import (
    EventBody,
    InviteIssued,
    JournalEntry,
    PayloadFormatError,
    TermProposed,
    decode_payload,
    encode_payload,
)
from schemas.practices import (
    AgreementAccepted,
    AgreementDeclined,
    AgreementProposed,
    AgreementWithdrawn,
    CircleItem,
    ExportConsented,
    LeftOut,
    ThreeCircles,
    Window,
)
from tests.client.builders import (
    EPOCH_KEYS,
    SPACE_ID,
    START_MS,
    Built,
    Writer,
    fixed_bytes,
    genesis,
    invite_issued,
    member_joined,
    new_verifier,
)

DAY_MS = 86_400_000
CREATED_AT_MS = START_MS + DAY_MS
ASKED = ExportConsented(
    recipient="Dr. Rivera", purpose="Our session", expires_at=CREATED_AT_MS + 30 * DAY_MS
)
RLO = "\u202e"
TURNING = f"{RLO}\u2066\x1b[2J\x1b]0;title\x07\r\x9b"
"""A right-to-left override, an isolate, and terminal controls: clear screen, window
title, carriage return, an 8-bit CSI."""


def _admitted(built: list[Built]) -> list[VerifiedEvent]:
    verifier = new_verifier()
    events = []
    for b in built:
        outcome = verifier.admit(b.data)
        assert outcome.event is not None, (outcome.code, outcome.reason)
        events.append(outcome.event)
    return causal_order(events)


def _exported(
    writer: Writer,
    built: list[Built],
    chosen: set[bytes],
    *,
    title: str = "Agreements",
    left_out: list[LeftOut] | None = None,
) -> bytes:
    """``writer``'s export of ``chosen``: what ``trellis export`` does (the consent
    rules choose, the declaration lists what they left out), unless ``left_out`` says
    what a modified app declares instead."""
    events = _admitted(built)
    kept, honest = choose_with_consent(
        space_id=SPACE_ID,
        events=events,
        chosen={e.event_id for e in events if e.event_id in chosen},
        exporter=writer.device_id,
        declaration=ASKED,
        created_at_ms=CREATED_AT_MS,
    )
    declared = writer.write(
        msgspec.structs.replace(ASKED, left_out=honest if left_out is None else left_out),
        deps=[built[-1]],
    )
    events = _admitted([*built, declared])
    return build_export(
        space_id=SPACE_ID,
        events=events,
        chosen=kept | {declared.event_id},
        events_key_for_epoch=lambda epoch: crypto.events_key_for(EPOCH_KEYS[epoch]),
        exporter=writer.device,
        title=title,
        created_at_ms=CREATED_AT_MS,
    )


def _couple(blake_name: str = "Blake") -> tuple[Writer, Writer, list[Built]]:
    alex, blake = Writer("alex", "Alex"), Writer("blake", blake_name)
    created = genesis(alex)
    invited = invite_issued(alex)
    joined = member_joined(blake, deps=[invited])
    return alex, blake, [created, invited, joined]


def _page_text(report: str) -> str:
    """The report without the embedded JSON: what a reader sees or prints."""
    opening = HTML_SCRIPT_OPEN.decode("ascii")
    before, rest = report.split(opening, 1)
    return before + rest.split(HTML_SCRIPT_CLOSE.decode("ascii"), 1)[1]


# --- 1. text that turns the report around ---------------------------------------------


def _turning_story() -> tuple[Writer, list[Built], Built]:
    alex, blake, built = _couple(blake_name=f"Bla{TURNING}ke")
    proposal = alex.write(
        AgreementProposed(
            title=f"Phones{TURNING} away",
            clauses=[f"No phones at{TURNING} dinner"],
            binds=["both"],
        ),
        deps=[built[-1]],
    )
    accepted = blake.write(AgreementAccepted(version=proposal.event_id), deps=[proposal])
    return alex, [*built, proposal, accepted], proposal


def test_the_html_report_shows_no_bidi_or_control_character_and_still_verifies() -> None:
    alex, built, proposal = _turning_story()
    export = _exported(
        alex, built, {b.event_id for b in built[3:]}, title=f"For{TURNING} Dr. Rivera"
    )
    report = render_html(export)

    page = _page_text(report)
    assert not set(map(ord, page)) & (UNSHOWN.keys()), (
        "the page shows a control or bidirectional override character"
    )
    assert "Phones[2J]0;title away" in page  # the words stay, their controls go
    assert "Bla[2J]0;titleke" in page
    # The signed data keeps what was written, and the page is still its rendering.
    doc = msgspec.json.decode(export, type=ExportDocument)
    assert doc.title == f"For{TURNING} Dr. Rivera"
    verified, findings = verify_export(report.encode("utf-8"))
    assert findings == []
    assert verified is not None
    assert verified.title == doc.title
    assert proposal.event_id in {e.event_id for e in verified.revealed}


def test_an_edited_report_that_adds_an_override_back_is_refused() -> None:
    alex, built, _ = _turning_story()
    report = render_html(_exported(alex, built, {b.event_id for b in built[3:]}))
    edited = report.replace("Phones[2J]0;title away", f"Phones away{RLO}", 1)
    assert edited != report
    _, findings = verify_export(edited.encode("utf-8"))
    assert [f.code for f in findings] == ["html_altered"]


def test_verify_export_prints_nothing_a_terminal_acts_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A partner's name, an export's title, recipient and clauses are printed by
    ``trellis verify-export --show``: without the filter, ESC sequences in them clear
    the screen or erase the lines above ("does NOT agree") and print their own."""
    alex, built, _ = _turning_story()
    file = tmp_path / "export.json"
    file.write_bytes(
        _exported(alex, built, {b.event_id for b in built[3:]}, title=f"For{TURNING} Dr. Rivera")
    )

    assert trellis(["verify-export", str(file), "--show"]) == 0

    out = capsys.readouterr()
    printed = out.out + out.err
    assert not set(map(ord, printed)) & UNSHOWN.keys()
    assert "Verified: For[2J]0;title Dr. Rivera" in printed
    assert "No phones at[2J]0;title dinner" in printed


def test_json_output_keeps_every_character_as_an_escape() -> None:
    from client.cli.terminal import json_text

    text = json_text({"name": f"Bla{TURNING}ke"})
    assert not set(map(ord, text)) & UNSHOWN.keys()
    assert json.loads(text) == {"name": f"Bla{TURNING}ke"}


# --- 2. a made-up "left out" ------------------------------------------------------------


def _declined_story() -> tuple[Writer, Writer, list[Built], Built, Built]:
    """Alex proposes; Blake declines with a reason Blake has not consented to share."""
    alex, blake, built = _couple()
    proposal = alex.write(
        AgreementProposed(title="Money talk", clauses=["Share statements"]), deps=[built[-1]]
    )
    declined = blake.write(
        AgreementDeclined(version=proposal.event_id, reason="Not while we are in crisis"),
        deps=[proposal],
    )
    return alex, blake, [*built, proposal, declined], proposal, declined


def test_an_honest_export_carries_the_partners_left_out_event_sealed() -> None:
    alex, blake, built, proposal, declined = _declined_story()
    export = _exported(alex, built, {proposal.event_id, declined.event_id})

    verified, findings = verify_export(export)
    assert findings == []
    assert verified is not None
    assert [i.event for i in verified.declaration.left_out] == [declined.event_id]
    # "sealed in this file" is true: Blake's chain is carried, the decline unreadable.
    blakes = next(c for c in verified.chains if c.device == blake.device_id)
    assert declined.event_id in blakes.event_ids
    assert declined.seq not in blakes.revealed_seqs
    assert "Left out: a reason for declining by Blake" in render_html(export)


@pytest.mark.parametrize("what", ["made_up", "own", "revealed", "not_words"])
def test_a_left_out_that_is_not_the_partners_sealed_words_is_refused(what: str) -> None:
    """The report would read "Left out: a disclosure by Blake (…), sealed in this file:
    Blake has not consented…", telling the therapist Blake keeps a disclosure back."""
    alex, blake, built, proposal, declined = _declined_story()
    accepted = blake.write(AgreementAccepted(version=proposal.event_id), deps=[declined])
    own = alex.write(AgreementProposed(title="Sleep", clauses=["By 23:00"]), deps=[accepted])
    built += [accepted, own]
    event, kind = {
        "made_up": (fixed_bytes("no such event", 32), "disclosure"),  # in no chain
        "own": (own.event_id, "disclosure"),  # Alex's own, sealed
        "revealed": (accepted.event_id, "agreement_accepted"),  # readable here
        "not_words": (declined.event_id, "member_joined"),  # a kind without words
    }[what]
    chosen = {proposal.event_id, accepted.event_id}  # Blake's chain is carried

    export = _exported(alex, built, chosen, left_out=[LeftOut(event=event, kind=kind)])
    _, findings = verify_export(export)

    assert [f.code for f in findings] == ["bad_left_out"]


# --- 3. dates in other digits ---------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        AgreementProposed(title="Phones", clauses=["x"], expires_on="２０２７-０３-０１"),
        AgreementProposed(title="Phones", clauses=["x"], review_on="٢٠٢٧-٠٣-٠١"),
        AgreementProposed(
            title="Talk", clauses=["x"], kind="window", window=Window(weekday=0, time="1９:0０")
        ),
        AgreementProposed(
            title="Talk", clauses=["x"], kind="window", window=Window(weekday=0, time="19:00\n")
        ),
    ],
)
def test_a_date_or_time_in_other_digits_does_not_decode(payload: AgreementProposed) -> None:
    """Full-width or Arabic-Indic digits look like a date to a person; the fold compares
    dates as text, where they sort after every year: an expiry that never comes."""
    with pytest.raises(PayloadFormatError):
        decode_payload(encode_payload(payload))


# --- 4. the partner's recovery plan ------------------------------------------------------


def _plan_story() -> tuple[Writer, Writer, list[Built], Built]:
    alex, blake, built = _couple()
    plan = blake.write(
        AgreementProposed(
            title="My recovery plan",
            clauses=["I keep my plan"],
            kind="recovery_plan",
            circles=ThreeCircles(
                items=[
                    CircleItem(circle="inner", text="Dating apps", definition="any account"),
                    CircleItem(circle="outer", text="Morning runs"),
                ]
            ),
        ),
        deps=[built[-1]],
    )
    read = alex.write(AgreementAccepted(version=plan.event_id), deps=[plan])
    return alex, blake, [*built, plan, read], plan


def test_the_partners_recovery_plan_leaves_only_with_their_consent() -> None:
    alex, blake, built, plan = _plan_story()

    # Alex's app leaves Blake's plan sealed and says so.
    export = _exported(alex, built, {plan.event_id, built[-1].event_id})
    verified, findings = verify_export(export)
    assert findings == []
    assert verified is not None
    assert plan.event_id not in {e.event_id for e in verified.revealed}
    assert [i.event for i in verified.declaration.left_out] == [plan.event_id]
    assert "Dating apps" not in render_html(export)

    # A modified app that reveals it anyway, and signs, is refused.
    doc = msgspec.json.decode(export, type=ExportDocument)
    events = {e.event_id: e for e in _admitted(built)}
    events_key = crypto.events_key_for(EPOCH_KEYS[0])
    key = crypto.content_key_of(events_key, events[plan.event_id].envelope)
    # Right after Blake's join, which it follows; before Alex's reading of it.
    at = [r.event_id for r in doc.revealed].index(built[2].event_id.hex()) + 1
    shown = RevealedDoc(event_id=plan.event_id.hex(), content_key=key.hex())
    forged = msgspec.structs.replace(doc, revealed=[*doc.revealed[:at], shown, *doc.revealed[at:]])
    _, findings = verify_export(_signed(forged, alex))
    assert "words_without_consent" in {f.code for f in findings}

    # With Blake's consent to this export, the plan is in it.
    alex, blake, built, plan = _plan_story()
    consent = blake.write(ASKED, deps=[built[-1]])
    with_consent = _exported(alex, [*built, consent], {plan.event_id, built[-1].event_id})
    verified, findings = verify_export(with_consent)
    assert findings == []
    assert verified is not None
    assert plan.event_id in {e.event_id for e in verified.revealed}


def _signed(doc: ExportDocument, writer: Writer) -> bytes:
    envelopes = [[from_b64(e) or b"" for e in c.envelopes] for c in doc.chains]
    signature = writer.device.sign(signed_bytes(doc, envelopes))
    return encode_document(msgspec.structs.replace(doc, signature=signature.hex()))


# --- 5. a consent the exporter made ------------------------------------------------------


def _opened(built: Built) -> VerifiedEvent:
    """An event as a forger's own tool holds it, without any app's admission."""
    env = decode_envelope(built.data)
    body = msgspec.msgpack.decode(
        crypto.open_event(crypto.events_key_for(EPOCH_KEYS[0]), env), type=EventBody
    )
    return VerifiedEvent(built.event_id, env, built.data, body, decode_payload(body.payload))


def _forged_v1(writer: Writer, built: list[Built], reveal: set[bytes]) -> bytes:
    """A version-1 export (no first page to get right) a forger's own tool assembles:
    the complete chain of every device with a revealed event, the revealed events in
    the order given (causal), signed by the forger's device."""
    events = [_opened(b) for b in built]
    shown = [e for e in events if e.event_id in reveal]
    authors = list(dict.fromkeys(e.author for e in shown))
    chains = {
        a: sorted((e for e in events if e.author == a), key=lambda e: e.envelope.seq)
        for a in authors
    }
    events_key = crypto.events_key_for(EPOCH_KEYS[0])
    doc = ExportDocument(
        format="trellis-export",
        version=1,
        space_id=SPACE_ID.hex(),
        title="History",
        created_at=CREATED_AT_MS,
        exporter=writer.device_id.hex(),
        chains=[
            ChainDoc(
                device=a.hex(),
                head_seq=len(c),
                head_id=c[-1].event_id.hex(),
                envelopes=[b64(e.canonical) for e in c],
            )
            for a, c in chains.items()
        ],
        revealed=[
            RevealedDoc(
                event_id=e.event_id.hex(),
                content_key=crypto.content_key_of(events_key, e.envelope).hex(),
            )
            for e in shown
        ],
        signature="00" * 64,
    )
    return _signed(doc, writer)


def test_a_consent_from_a_device_the_exporter_vouched_for_does_not_count() -> None:
    alex, blake, built = _couple()
    words = blake.write(JournalEntry(text="What I could not say in the session"), deps=[built[-1]])
    secret = fixed_bytes("forged rejoin secret", crypto.INVITE_SECRET_BYTES)
    keys = crypto.InviteKeys.from_secret(secret)
    rejoin = alex.write(
        InviteIssued(
            invite_id=keys.invite_id,
            verify_key=keys.verify_key,
            kind="rejoin",
            expires_at=CREATED_AT_MS,
            for_member=blake.member_id,
        ),
        deps=[words],
    )
    fake = Writer("fake blake", "Blake")
    joined = member_joined(fake, secret, deps=[rejoin], member_id=blake.member_id)
    consent = fake.write(ASKED, deps=[joined])
    declaration = alex.write(ASKED, deps=[consent])
    forged = [*built, words, rejoin, joined, consent, declaration]

    _, findings = verify_export(_forged_v1(alex, forged, {b.event_id for b in forged}))
    assert "words_without_consent" in {f.code for f in findings}

    # The same consent from Blake's own device counts.
    alex, blake, built = _couple()
    words = blake.write(JournalEntry(text="What I could not say in the session"), deps=[built[-1]])
    real = blake.write(ASKED, deps=[words])
    honest = [*built, words, real, alex.write(ASKED, deps=[real])]
    verified, findings = verify_export(_forged_v1(alex, honest, {b.event_id for b in honest}))
    assert findings == []
    assert verified is not None
    assert words.event_id in {e.event_id for e in verified.revealed}


# --- 6. the partner who joined under the exporter's name ------------------------------


def test_two_members_of_one_name_are_told_apart_in_the_report() -> None:
    alex, blake, built = _couple(blake_name=" ALEX ")
    proposal = alex.write(AgreementProposed(title="Phones", clauses=["x"]), deps=[built[-1]])
    withdrew = blake.write(AgreementWithdrawn(version=proposal.event_id), deps=[proposal])
    built += [proposal, withdrew]

    export = _exported(alex, built, {proposal.event_id, withdrew.event_id})
    verified, findings = verify_export(export)
    assert findings == []
    assert verified is not None
    names = {verified.name_of(alex.device_id), verified.name_of(blake.device_id)}
    assert names == {
        f"Alex (member {alex.member_id.hex()[:8]})",
        f" ALEX  (member {blake.member_id.hex()[:8]})",
    }
    shown_withdrawal = next(e for e in verified.revealed if e.event_id == withdrew.event_id)
    assert blake.member_id.hex()[:8] in shown_withdrawal.summary
    assert f"(member {blake.member_id.hex()[:8]})" in render_html(export)


def test_members_of_different_names_keep_them_as_written() -> None:
    alex, blake, built = _couple()
    proposal = alex.write(AgreementProposed(title="Phones", clauses=["x"]), deps=[built[-1]])
    accepted = blake.write(AgreementAccepted(version=proposal.event_id), deps=[proposal])
    built += [proposal, accepted]
    verified, _ = verify_export(_exported(alex, built, {proposal.event_id, accepted.event_id}))
    assert verified is not None
    assert set(verified.member_names.values()) == {"Alex", "Blake"}


def test_the_partners_shared_language_entry_leaves_only_with_their_consent() -> None:
    """Shared language (PROTOCOL.md §5.13) is intimacy data: a modified app that puts
    the partner's cue and its meaning in an export, with no consent of theirs, is
    refused; the exporter's own entries are theirs to share."""
    alex, blake, built = _couple()
    cue = blake.write(
        TermProposed(term="pineapple", meaning="I need us to stop now", kind="stop"),
        deps=[built[-1]],
    )
    own = alex.write(TermProposed(term="green", meaning="all good, go on", kind="ok"), deps=[cue])
    declaration = alex.write(ASKED, deps=[own])
    events = [*built, cue, own, declaration]

    _, findings = verify_export(_forged_v1(alex, events, {b.event_id for b in events}))
    assert [f.code for f in findings] == ["words_without_consent"]
    assert cue.event_id.hex()[:8] in findings[0].where

    mine = [b for b in events if b is not cue]
    verified, findings = verify_export(_forged_v1(alex, mine, {b.event_id for b in mine}))
    assert findings == []
    assert verified is not None
