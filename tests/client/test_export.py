"""Exports for a third party (client/export/, docs/PROTOCOL.md "Exports").

The story: Alex creates the space and Blake joins; Alex proposes an agreement, Blake
accepts it, Alex withdraws consent; around it both write journal entries. Alex exports
the agreement's history with the membership events. Every envelope is real (builders.py).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from client.core.verify import VerifiedEvent
from client.export import (
    ExportError,
    ExportFinding,
    FindingCode,
    VerifiedExport,
    build_export,
    render_html,
    verify_export,
)
from client.export.format import ExportDocument, encode_document, from_b64, signed_bytes
from client.keys import crypto
from client.views.fold import causal_order
from schemas.envelope import decode_envelope
from schemas.ids import EventId
from schemas.practices import AgreementAccepted, AgreementProposed, AgreementWithdrawn
from tests.client.builders import (
    EPOCH_KEYS,
    SPACE_ID,
    SPACE_KEY,
    START_MS,
    Built,
    Pair,
    Writer,
    declared,
    entry,
    new_verifier,
    paired,
)

JOURNAL_TEXTS = (
    "Journal alpha: a private worry",
    "Journal beta: something only for us",
    "Journal gamma: not for the therapist",
    "Journal delta: the last private line",
)
TITLE = "Phones & dinner <history>"
CREATED_AT_MS = START_MS + 3_600_000
EVENTS_KEY = crypto.events_key_for(SPACE_KEY)


@dataclass
class Story:
    pair: Pair
    events: list[VerifiedEvent]
    journal: list[Built]
    proposal: Built
    accepted: Built
    withdrawn: Built

    @property
    def chosen(self) -> set[EventId]:
        """What the CLI passes: the agreement's events and the membership events."""
        return {
            self.pair.genesis.event_id,
            self.pair.joined.event_id,
            self.proposal.event_id,
            self.accepted.event_id,
            self.withdrawn.event_id,
        }


def tell_story() -> Story:
    pair = paired()
    alex, blake = pair.alex, pair.blake
    alpha = entry(alex, JOURNAL_TEXTS[0], deps=[pair.joined])
    proposal = alex.write(
        AgreementProposed(
            title="Phones away at dinner",
            clauses=["No phones at the table", "Say so when it is hard"],
        ),
        deps=[pair.joined],
    )
    beta = entry(blake, JOURNAL_TEXTS[1], deps=[proposal])
    accepted = blake.write(AgreementAccepted(version=proposal.event_id), deps=[proposal])
    gamma = entry(alex, JOURNAL_TEXTS[2], deps=[accepted])
    withdrawn = alex.write(
        AgreementWithdrawn(version=proposal.event_id, reason="I need to rethink this"),
        deps=[accepted],
    )
    delta = entry(blake, JOURNAL_TEXTS[3], deps=[withdrawn])
    verifier = new_verifier()
    events = []
    for built in [*pair.membership, alpha, proposal, beta, accepted, gamma, withdrawn, delta]:
        outcome = verifier.admit(built.data)
        assert outcome.event is not None, (outcome.code, outcome.reason)
        events.append(outcome.event)
    return Story(
        pair, causal_order(events), [alpha, beta, gamma, delta], proposal, accepted, withdrawn
    )


def export_of(
    story: Story,
    *,
    chosen: set[EventId] | None = None,
    exporter: Writer | None = None,
    created_at_ms: int = CREATED_AT_MS,
) -> bytes:
    """The export ``trellis export`` makes: the choice plus the exporter's declaration."""
    writer = story.pair.alex if exporter is None else exporter
    declaration = declared(writer, story.events)
    return build_export(
        space_id=SPACE_ID,
        events=[*story.events, declaration],
        chosen={*(story.chosen if chosen is None else chosen), declaration.event_id},
        events_key_for_epoch=lambda epoch: crypto.events_key_for(EPOCH_KEYS[epoch]),
        exporter=writer.device,
        title=TITLE,
        created_at_ms=created_at_ms,
    )


@pytest.fixture(scope="module")
def story() -> Story:
    return tell_story()


@pytest.fixture(scope="module")
def export(story: Story) -> bytes:
    return export_of(story)


@pytest.fixture(scope="module")
def report(export: bytes) -> bytes:
    return render_html(export).encode("utf-8")


# --- editing a document as a tamperer would --------------------------------------------


def doc_of(data: bytes) -> ExportDocument:
    return msgspec.json.decode(data, type=ExportDocument)


def edited(data: bytes, change: Callable[[ExportDocument], ExportDocument]) -> bytes:
    """The export with ``change`` applied and written canonically, not signed again."""
    return encode_document(change(doc_of(data)))


def signed_by(doc: ExportDocument, keys: crypto.DeviceKeys) -> bytes:
    """A document as its named exporter would sign it (a dishonest one, say)."""
    envelopes = [[from_b64(e) or b"" for e in c.envelopes] for c in doc.chains]
    signature = keys.sign(signed_bytes(doc, envelopes))
    return encode_document(msgspec.structs.replace(doc, signature=signature.hex()))


def replace_chain(doc: ExportDocument, index: int, envelopes: list[str]) -> ExportDocument:
    chains = list(doc.chains)
    chains[index] = msgspec.structs.replace(chains[index], envelopes=envelopes)
    return msgspec.structs.replace(doc, chains=chains)


def findings_of(data: bytes) -> list[ExportFinding]:
    verified, findings = verify_export(data)
    assert verified is None, "an edited export must not verify"
    assert findings, "a failing export must say why"
    return findings


def assert_finding(data: bytes, code: FindingCode, where: str = "") -> ExportFinding:
    findings = findings_of(data)
    matching = [f for f in findings if f.code == code and where in f.where]
    assert matching, f"expected {code} at {where!r}, got {findings}"
    return matching[0]


def flip(data: bytes, index: int, mask: int = 0x01) -> bytes:
    return data[:index] + bytes([data[index] ^ mask]) + data[index + 1 :]


def alex_short(story: Story) -> str:
    return story.pair.alex.device_id.hex()[:8]


# --- an honest export ------------------------------------------------------------------


def test_an_agreements_export_verifies_and_reveals_its_history_in_order(
    story: Story, export: bytes
) -> None:
    verified, findings = verify_export(export)
    assert findings == []
    assert verified is not None
    assert verified.title == TITLE
    assert verified.space_id == SPACE_ID
    assert verified.created_at == CREATED_AT_MS
    assert verified.exporter == story.pair.alex.device_id
    assert [e.kind for e in verified.revealed] == [
        "space_created",
        "invite_issued",
        "member_joined",
        "agreement_proposed",
        "agreement_accepted",
        "agreement_withdrawn",
        "export_consented",
    ]
    # The invite Blake joined by is revealed too: it is what says whose device Blake's is.
    declaration = verified.revealed[-1].event_id
    assert {e.event_id for e in verified.revealed} == story.chosen | {
        story.pair.invite.event_id,
        declaration,
    }
    assert verified.members == {
        story.pair.alex.device_id: "Alex",
        story.pair.blake.device_id: "Blake",
    }
    assert verified.declaration.recipient == "Dr. Rivera"
    withdrawal = verified.revealed[-2]
    assert withdrawal.payload == {
        "type": "agreement_withdrawn",
        "version": story.proposal.event_id.hex(),
        "reason": "I need to rethink this",
    }
    assert withdrawal.author == story.pair.alex.device_id
    assert withdrawal.seq == story.withdrawn.seq
    assert withdrawal.summary == "Alex withdrew consent to an agreement"


def test_the_export_carries_each_authors_whole_chain_and_counts_what_stays_sealed(
    story: Story, export: bytes
) -> None:
    verified, _ = verify_export(export)
    assert verified is not None
    chains = {c.device: c for c in verified.chains}
    alex, blake = chains[story.pair.alex.device_id], chains[story.pair.blake.device_id]
    # Alex's seq 2 is the invite Blake joined by: revealed so Blake's device is attributed.
    # Alex's seq 7 is the declaration written as the export was made.
    assert (alex.head_seq, alex.revealed_seqs) == (7, (1, 2, 4, 6, 7))
    assert (blake.head_seq, blake.revealed_seqs) == (4, (1, 3))
    assert alex.event_ids[5] == story.withdrawn.event_id
    # Alex's and Blake's journal entries between the revealed events stay sealed.
    assert verified.sealed_count == 4


def test_the_holder_can_read_the_chosen_events_and_nothing_else(
    story: Story, export: bytes, report: bytes
) -> None:
    doc = doc_of(export)
    revealed_ids = {bytes.fromhex(r.event_id) for r in doc.revealed}
    assert revealed_ids - story.chosen - {story.pair.invite.event_id} == {
        bytes.fromhex(doc.revealed[-1].event_id)  # the declaration
    }
    for data in (export, report):
        for text in JOURNAL_TEXTS:
            assert text.encode() not in data
        for secret in (SPACE_KEY, EVENTS_KEY):
            assert not _carries(data, secret)
        for built in story.journal:
            content_key = crypto.content_key_of(EVENTS_KEY, decode_envelope(built.data))
            assert not _carries(data, content_key)


def _carries(data: bytes, secret: bytes) -> bool:
    return any(form in data for form in (secret, secret.hex().encode(), base64.b64encode(secret)))


def test_an_export_is_the_same_bytes_every_time(story: Story, export: bytes) -> None:
    assert export_of(story) == export
    assert render_html(export) == render_html(export)


def test_the_html_report_verifies_like_the_json_and_embeds_it_exactly(
    export: bytes, report: bytes
) -> None:
    from_json, _ = verify_export(export)
    from_html, findings = verify_export(report)
    assert findings == []
    assert from_html == from_json
    assert (
        b'<script type="application/json" id="trellis-export">' + export + b"</script>"
    ) in report


def test_the_html_report_reads_plainly_and_says_how_to_check_it(report: bytes) -> None:
    text = report.decode()
    assert "<h1>Phones &amp; dinner &lt;history&gt;</h1>" in text
    assert "trellis verify-export FILE" in text
    assert "it holds only the 7 events Alex chose to share" in text
    assert "4 other events" in text
    assert "Exported by</dt><dd>Alex" in text
    assert "<li>No phones at the table</li>" in text
    assert "Alex withdrew consent to an agreement" in text
    assert "I need to rethink this" in text
    assert "<history>" not in text


def test_render_html_refuses_a_document_that_does_not_verify(export: bytes) -> None:
    tampered = edited(export, lambda d: msgspec.structs.replace(d, title="Another title"))
    with pytest.raises(ExportError, match="does not verify"):
        render_html(tampered)


def test_a_dishonest_exporter_can_leave_an_event_unrevealed_but_not_hide_that_it_exists(
    story: Story,
) -> None:
    without = export_of(story, chosen=story.chosen - {story.withdrawn.event_id})
    verified, findings = verify_export(without)
    assert findings == []
    assert verified is not None
    alex = next(c for c in verified.chains if c.device == story.pair.alex.device_id)
    assert alex.head_seq == story.withdrawn.seq + 1  # the declaration follows it
    assert story.withdrawn.seq not in alex.revealed_seqs


def test_the_exporters_own_membership_is_always_revealed(story: Story) -> None:
    only_the_proposal = export_of(story, chosen={story.proposal.event_id})
    verified, findings = verify_export(only_the_proposal)
    assert findings == []
    assert verified is not None
    assert [e.kind for e in verified.revealed] == [
        "space_created",
        "agreement_proposed",
        "export_consented",
    ]
    assert verified.members == {story.pair.alex.device_id: "Alex"}


def test_building_refuses_an_event_the_device_does_not_hold(story: Story) -> None:
    with pytest.raises(ExportError, match="not one this device holds"):
        export_of(story, chosen={EventId(b"\x01" * 32)})


def test_building_refuses_a_log_with_a_hole_in_a_chain(story: Story) -> None:
    holed = [e for e in story.events if e.event_id != story.journal[0].event_id]
    with pytest.raises(ExportError, match="lacks its event 3"):
        build_export(
            space_id=SPACE_ID,
            events=holed,
            chosen=story.chosen,
            events_key_for_epoch=lambda _: EVENTS_KEY,
            exporter=story.pair.alex.device,
            title=TITLE,
            created_at_ms=CREATED_AT_MS,
        )


# --- tampering, each with the finding that names it --------------------------------------


def test_dropping_an_envelope_from_a_chain_shows_as_a_gap(story: Story, export: bytes) -> None:
    def drop_third(d: ExportDocument) -> ExportDocument:
        envelopes = d.chains[0].envelopes
        return replace_chain(d, 0, envelopes[:2] + envelopes[3:])

    tampered = edited(export, drop_third)
    gap = assert_finding(tampered, FindingCode.CHAIN_GAP, f"device {alex_short(story)} seq 3")
    assert "Event 4" in gap.message
    assert_finding(tampered, FindingCode.HEAD_MISMATCH, alex_short(story))


def test_dropping_an_envelope_is_caught_even_when_the_exporter_signs_again(
    story: Story, export: bytes
) -> None:
    doc = doc_of(export)
    envelopes = doc.chains[0].envelopes
    doc = replace_chain(doc, 0, envelopes[:2] + envelopes[3:])
    doc = msgspec.structs.replace(
        doc, chains=[msgspec.structs.replace(doc.chains[0], head_seq=5), *doc.chains[1:]]
    )
    tampered = signed_by(doc, story.pair.alex.device)
    codes = {f.code for f in findings_of(tampered)}
    assert FindingCode.CHAIN_GAP in codes
    assert FindingCode.BAD_EXPORT_SIGNATURE not in codes


def test_reordering_two_envelopes_shows_at_both_places(story: Story, export: bytes) -> None:
    def swap(d: ExportDocument) -> ExportDocument:
        envelopes = list(d.chains[0].envelopes)
        envelopes[2], envelopes[3] = envelopes[3], envelopes[2]
        return replace_chain(d, 0, envelopes)

    tampered = edited(export, swap)
    assert_finding(tampered, FindingCode.CHAIN_GAP, f"device {alex_short(story)} seq 3")
    assert_finding(tampered, FindingCode.CHAIN_GAP, f"device {alex_short(story)} seq 4")


def test_removing_the_withdrawal_shows(story: Story, export: bytes) -> None:
    withdrawal = story.withdrawn.event_id.hex()

    declaration = doc_of(export).revealed[-1].event_id

    def remove(d: ExportDocument) -> ExportDocument:
        # The withdrawal and the declaration after it: the chain ends at the withdrawal.
        d = replace_chain(d, 0, d.chains[0].envelopes[:-2])
        return msgspec.structs.replace(
            d, revealed=[r for r in d.revealed if r.event_id not in (withdrawal, declaration)]
        )

    tampered = edited(export, remove)
    assert_finding(tampered, FindingCode.HEAD_MISMATCH, alex_short(story))
    assert_finding(tampered, FindingCode.BAD_EXPORT_SIGNATURE, "signature")


def test_removing_the_withdrawal_and_its_head_is_caught_by_the_exporters_signature(
    story: Story, export: bytes
) -> None:
    """Someone who is not the exporter cannot make the chain end earlier."""
    withdrawal = story.withdrawn.event_id.hex()

    declaration = doc_of(export).revealed[-1].event_id

    def remove(d: ExportDocument) -> ExportDocument:
        # The withdrawal and the declaration after it: the chain ends at the withdrawal.
        d = replace_chain(d, 0, d.chains[0].envelopes[:-2])
        head = msgspec.structs.replace(
            d.chains[0], head_seq=5, head_id=story.journal[2].event_id.hex()
        )
        return msgspec.structs.replace(
            d,
            chains=[head, *d.chains[1:]],
            revealed=[r for r in d.revealed if r.event_id not in (withdrawal, declaration)],
        )

    tampered = edited(export, remove)
    assert {f.code for f in findings_of(tampered)} == {FindingCode.BAD_EXPORT_SIGNATURE}


def test_an_edited_content_key_does_not_open_its_event(story: Story, export: bytes) -> None:
    def edit_key(d: ExportDocument) -> ExportDocument:
        revealed = list(d.revealed)
        revealed[3] = msgspec.structs.replace(revealed[3], content_key="ab" * 32)
        return msgspec.structs.replace(d, revealed=revealed)

    tampered = edited(export, edit_key)
    assert_finding(tampered, FindingCode.BAD_KEY_COMMITMENT, f"device {alex_short(story)} seq 4")


def test_a_content_key_of_another_event_does_not_open_a_revealed_one(
    story: Story, export: bytes
) -> None:
    """Holding one event's key gives nothing for another: the header is the AD (§4.2)."""
    journal_key = crypto.content_key_of(EVENTS_KEY, decode_envelope(story.journal[0].data))

    def give_key(d: ExportDocument) -> ExportDocument:
        revealed = list(d.revealed)
        revealed[3] = msgspec.structs.replace(revealed[3], content_key=journal_key.hex())
        return msgspec.structs.replace(d, revealed=revealed)

    assert_finding(
        signed_by(give_key(doc_of(export)), story.pair.alex.device),
        FindingCode.BAD_KEY_COMMITMENT,
    )


def test_an_edited_title_breaks_the_exporters_signature(export: bytes) -> None:
    tampered = edited(export, lambda d: msgspec.structs.replace(d, title="Our agreement"))
    finding = assert_finding(tampered, FindingCode.BAD_EXPORT_SIGNATURE, "signature")
    assert "changed after export" in finding.message


def test_swapping_the_exporter_breaks_the_exporters_signature(story: Story, export: bytes) -> None:
    blake = story.pair.blake.device_id.hex()
    tampered = edited(export, lambda d: msgspec.structs.replace(d, exporter=blake))
    assert_finding(tampered, FindingCode.BAD_EXPORT_SIGNATURE, "signature")


def test_an_export_signed_by_a_device_outside_the_space_names_no_member(
    export: bytes,
) -> None:
    outsider = Writer("outsider", "Outsider").device
    doc = msgspec.structs.replace(doc_of(export), exporter=outsider.device_id.hex())
    assert_finding(signed_by(doc, outsider), FindingCode.EXPORTER_UNKNOWN, "exporter")


def test_revealed_events_listed_against_causal_order_are_refused(
    story: Story, export: bytes
) -> None:
    doc = doc_of(export)
    revealed = list(doc.revealed)
    revealed[3], revealed[4] = revealed[4], revealed[3]  # the acceptance before the proposal
    tampered = signed_by(msgspec.structs.replace(doc, revealed=revealed), story.pair.alex.device)
    blake = story.pair.blake.device_id.hex()[:8]
    assert_finding(tampered, FindingCode.REVEALED_OUT_OF_ORDER, f"device {blake} seq 3")


def test_an_event_revealed_twice_or_absent_from_the_chains_is_refused(
    story: Story, export: bytes
) -> None:
    doc = doc_of(export)
    twice = msgspec.structs.replace(doc, revealed=[*doc.revealed, doc.revealed[0]])
    assert_finding(signed_by(twice, story.pair.alex.device), FindingCode.DUPLICATE_REVEALED)
    stranger = msgspec.structs.replace(doc.revealed[0], event_id="cd" * 32)
    absent = msgspec.structs.replace(doc, revealed=[*doc.revealed, stranger])
    assert_finding(signed_by(absent, story.pair.alex.device), FindingCode.REVEALED_MISSING)


def test_an_envelope_moved_into_another_devices_chain_is_refused(
    story: Story, export: bytes
) -> None:
    doc = doc_of(export)
    stolen = replace_chain(doc, 1, [doc.chains[0].envelopes[0], *doc.chains[1].envelopes[1:]])
    blake = story.pair.blake.device_id.hex()[:8]
    assert_finding(edited(export, lambda _: stolen), FindingCode.WRONG_AUTHOR, f"{blake} seq 1")


def test_a_newer_format_or_another_json_is_named_as_such(export: bytes) -> None:
    newer = export.replace(b'"version":2', b'"version":3', 1)
    assert_finding(newer, FindingCode.UNSUPPORTED_VERSION, "version")
    assert_finding(b'{"hello":"world"}', FindingCode.NOT_AN_EXPORT)
    assert_finding(export.replace(b'"title"', b'"Title"', 1), FindingCode.BAD_DOCUMENT)
    assert_finding(export[:-1], FindingCode.NOT_JSON)
    assert_finding(export + b" ", FindingCode.NOT_CANONICAL)
    assert_finding(export.replace(b"Phones", b"\\u0050hones", 1), FindingCode.NOT_CANONICAL)


@pytest.mark.parametrize("prefix", [b"\xef\xbb\xbf", b"\n", b"  ", b"\xef\xbb\xbf\r\n"])
def test_a_json_export_saved_again_with_a_bom_or_blank_space_is_not_canonical(
    export: bytes, prefix: bytes
) -> None:
    assert_finding(prefix + export, FindingCode.NOT_CANONICAL, "byte 0")


def test_an_edited_word_in_the_html_report_is_found_with_its_line(report: bytes) -> None:
    tampered = report.replace(b"I need to rethink this", b"I need to rethink that", 1)
    finding = assert_finding(tampered, FindingCode.HTML_ALTERED, "HTML line")
    line = int(finding.where.split("line ")[1].split(",")[0])
    assert b"rethink that" in tampered.split(b"\n")[line - 1]


# --- any edited byte fails -----------------------------------------------------------------

STRUCTURAL = frozenset(b'{}[]:,"')
_MASKS = (0x01, 0x20, 0x02, 0x80, 0x10, 0x04)
KNOWN_CODES = {str(code) for code in FindingCode}


def assert_flip_fails(data: bytes, index: int, mask: int) -> None:
    verified, findings = verify_export(flip(data, index, mask))
    assert verified is None, f"flipping byte {index} with {mask:#x} went unnoticed"
    assert findings
    assert all(f.code in KNOWN_CODES and f.where for f in findings)


def sweep(data: bytes, stride: int) -> list[int]:
    """Every ``stride``-th position and every structural character of the JSON."""
    return sorted(
        {*range(0, len(data), stride), *(i for i, b in enumerate(data) if b in STRUCTURAL)}
    )


def test_flipping_any_byte_of_the_json_fails_with_a_finding(export: bytes) -> None:
    for n, index in enumerate(sweep(export, 3)):
        assert_flip_fails(export, index, _MASKS[n % len(_MASKS)])


def test_flipping_bytes_of_the_html_report_fails_with_a_finding(report: bytes) -> None:
    for n, index in enumerate(sweep(report, 7)):
        assert_flip_fails(report, index, _MASKS[n % len(_MASKS)])


@settings(max_examples=150, deadline=None)
@given(data=st.data(), mask=st.integers(1, 255))
def test_any_byte_changed_to_any_value_fails(
    export: bytes, report: bytes, data: st.DataObject, mask: int
) -> None:
    target = data.draw(st.sampled_from([export, report]))
    index = data.draw(st.integers(0, len(target) - 1))
    assert_flip_fails(target, index, mask)


# --- garbage never crashes the verifier ------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_garbage_bytes_are_refused_without_an_exception(data: bytes) -> None:
    verified, findings = verify_export(data)
    assert verified is None
    assert findings


_JSON_PIECES = st.sampled_from(
    [
        b"{",
        b"}",
        b"[",
        b"]",
        b":",
        b",",
        b'"',
        b"format",
        b"trellis-export",
        b"version",
        b"1",
        b"chains",
        b"revealed",
        b"\\u0000",
        b"\xff",
        b"null",
        b"-0",
        b"1e99",
        b"00" * 32,
        b'<script type="application/json" id="trellis-export">',
        b"</script>",
    ]
)


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(_JSON_PIECES, min_size=1, max_size=40), cut=st.integers(0, 20_000))
def test_near_miss_documents_are_refused_without_an_exception(
    export: bytes, pieces: list[bytes], cut: int
) -> None:
    spliced = export[: cut % len(export)] + b"".join(pieces) + export[cut % len(export) :]
    for data in (b"".join(pieces), spliced, export[: cut % len(export)]):
        verified, findings = verify_export(data)
        assert verified is None
    assert findings


def test_a_verified_export_is_none_whenever_there_is_a_finding(export: bytes) -> None:
    result: tuple[VerifiedExport | None, list[ExportFinding]] = verify_export(export[:-1])
    assert result[0] is None
    assert result[1]


def test_a_signed_export_with_a_far_future_date_still_renders(story: Story, export: bytes) -> None:
    data = export_of(story, created_at_ms=2**53 - 1)
    assert verify_export(data)[1] == []
    # Only the date changed, and the summary that depends on it: edited alone, the date
    # no longer matches the signed summary's "as of".
    far = msgspec.structs.replace(doc_of(export), created_at=2**53 - 1)
    assert_finding(signed_by(far, story.pair.alex.device), FindingCode.BAD_SUMMARY_DATES)
    assert f"{2**53 - 1} ms after 1970-01-01" in render_html(data)


def test_every_finding_code_is_documented_in_the_protocol() -> None:
    protocol = (Path(__file__).parents[2] / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")
    exports = protocol.split("\n## Exports\n", 1)[1]
    for code in FindingCode:
        assert f"| `{code}` |" in exports, f"{code} is not in the Exports section"
