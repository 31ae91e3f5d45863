"""Forgeries a partner can build, each refused or reported both by admission (the apps)
and by ``verify-export`` (docs/PROTOCOL.md §4.7, §5.10, "Exports").

1. A two-key envelope: the signed event opens under a key other than the one its header
   commits to (what "declined for the partner's app, accepted in the export" needs).
2. A device posing as the other partner: added by Alex's device invite, it names itself
   Blake in its own ``member_joined``.
3. A truncated partner chain: Alex's export stops Blake's chain before Blake withdrew.
4. A duplicate-key payload: one plaintext, two readings depending on which key wins.

Every envelope is real (tests/client/builders.py); each forged export is signed by the
forger's own device, as a dishonest partner would.
"""

from __future__ import annotations

import msgspec
import nacl.bindings as sodium
import pytest

from client.core.admission_checks import InvalidPayload
from client.core.verify import LogVerifier, RejectCode, Verdict, VerifiedEvent
from client.export import FindingCode, build_export, verify_export
from client.export.compare import cross_check
from client.export.format import (
    ExportDocument,
    RevealedDoc,
    encode_document,
    from_b64,
    signed_bytes,
)
from client.keys import crypto
from client.views.fold import causal_order
from schemas.envelope import Envelope, encode_envelope, event_id_of, header_bytes, key_commitment_of
from schemas.envelope import signed_bytes as envelope_signed_bytes
from schemas.ids import EventId
from schemas.payloads import EventBody, PayloadFormatError, decode_body, decode_payload
from schemas.practices import AgreementAccepted, AgreementProposed, AgreementWithdrawn
from tests.client.builders import (
    EPOCH_KEYS,
    SPACE_ID,
    SPACE_KEY,
    START_MS,
    Built,
    Writer,
    declared,
    fixed_bytes,
    invite_issued,
    member_joined,
    new_verifier,
    paired,
)

EVENTS_KEY = crypto.events_key_for(SPACE_KEY)
CREATED_AT_MS = START_MS + 7_200_000
PROPOSAL = AgreementProposed(title="Phones away", clauses=["No phones at dinner"])


def export_by(
    writer: Writer, events: list[VerifiedEvent], chosen: set[EventId], title: str = "History"
) -> bytes:
    """The export ``writer`` makes of ``chosen``, with its declaration."""
    declaration = declared(writer, events)
    return build_export(
        space_id=SPACE_ID,
        events=[*events, declaration],
        chosen={*chosen, declaration.event_id},
        events_key_for_epoch=lambda epoch: crypto.events_key_for(EPOCH_KEYS[epoch]),
        exporter=writer.device,
        title=title,
        created_at_ms=CREATED_AT_MS,
    )


def admitted(*built: Built) -> tuple[LogVerifier, list[VerifiedEvent]]:
    verifier = new_verifier()
    events = []
    for b in built:
        outcome = verifier.admit(b.data)
        assert outcome.event is not None, (outcome.code, outcome.reason)
        events.append(outcome.event)
    return verifier, causal_order(events)


def resigned(doc: ExportDocument, keys: crypto.DeviceKeys) -> bytes:
    envelopes = [[from_b64(e) or b"" for e in c.envelopes] for c in doc.chains]
    signature = keys.sign(signed_bytes(doc, envelopes))
    return encode_document(msgspec.structs.replace(doc, signature=signature.hex()))


def codes_of(data: bytes) -> set[str]:
    verified, findings = verify_export(data)
    assert verified is None
    assert findings
    return {f.code for f in findings}


# --- 1. the two-key envelope ---------------------------------------------------------


def two_key_event(writer: Writer, payload: AgreementAccepted, deps: list[Built]) -> Built:
    """Blake's next event whose header commits to one content key while its ciphertext
    and wrapped key use another: under envelope version 1, which had no commitment, this
    is the key a two-key ciphertext's second reading hides behind."""
    committed_key = fixed_bytes("committed content key", 32)
    real_key = fixed_bytes("second content key", 32)
    wrap_nonce, nonce = fixed_bytes("wrap nonce", 24), fixed_bytes("nonce", 24)
    body = EventBody(
        deps=[d.event_id for d in deps],
        lamport=1 + max([writer.lamport, *(d.lamport for d in deps)]),
        recorded_at=START_MS + 600_000,
        occurred_at=START_MS + 600_000,
        payload=msgspec.Raw(msgspec.msgpack.encode(payload)),
    )
    unsigned = Envelope(
        version=2,
        space_id=SPACE_ID,
        author=writer.device_id,
        seq=writer.seq + 1,
        prev=writer.head,
        epoch=0,
        wrapped_key=crypto.wrap_content_key(EVENTS_KEY, real_key, wrap_nonce),
        key_commitment=key_commitment_of(committed_key),
        nonce=nonce,
        ciphertext=bytes(16),
        signature=bytes(64),
    )
    ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        crypto.pad(msgspec.msgpack.encode(body)), header_bytes(unsigned), nonce, real_key
    )
    with_ct = msgspec.structs.replace(unsigned, ciphertext=ciphertext)
    env = msgspec.structs.replace(
        with_ct, signature=writer.device.sign(envelope_signed_bytes(with_ct))
    )
    data = encode_envelope(env)
    writer.seq, writer.head = env.seq, event_id_of(data)
    writer.lamport = body.lamport
    return Built(data, event_id_of(data), writer.device_id, env.seq, body.lamport, payload, "")


def test_a_key_other_than_the_committed_one_is_refused_by_admission_and_by_verify_export():
    pair = paired()
    proposal = pair.alex.write(PROPOSAL, deps=[pair.joined])
    forged = two_key_event(pair.blake, AgreementAccepted(version=proposal.event_id), [proposal])
    env = msgspec.msgpack.decode(forged.data, type=Envelope)
    second_key = fixed_bytes("second content key", 32)
    # Without the commitment this key reads the event: the AEAD alone accepts it.
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
        env.ciphertext, header_bytes(env), env.nonce, second_key
    )

    verifier, events = admitted(*pair.membership, proposal)
    outcome = verifier.admit(forged.data)
    assert outcome.verdict is Verdict.REJECTED
    assert outcome.code is RejectCode.BAD_KEY_COMMITMENT

    # Blake, the forger, puts the event in an export (its chain, then the declaration)
    # with the key that opens it.
    held = _held_as_forger(forged, second_key)
    # What Blake shows is his own (Alex's proposal, never accepted, is Alex's words).
    honest = export_by(pair.blake, [*events, held], {pair.joined.event_id})
    doc = msgspec.json.decode(honest, type=ExportDocument)
    revealed = [
        *doc.revealed[:-1],
        RevealedDoc(forged.event_id.hex(), second_key.hex()),
        doc.revealed[-1],
    ]
    forged_export = resigned(msgspec.structs.replace(doc, revealed=revealed), pair.blake.device)
    assert FindingCode.BAD_KEY_COMMITMENT in codes_of(forged_export)


# --- 2. a device posing as the other partner -------------------------------------------


def test_a_device_added_by_one_partner_never_appears_as_the_other_partner():
    pair = paired()
    alex, blake = pair.alex, pair.blake
    tablet = Writer("alex tablet", "Blake")  # names itself Blake...
    secret = fixed_bytes("device invite secret", crypto.INVITE_SECRET_BYTES)
    device_invite = invite_issued(alex, secret, kind="device", deps=[pair.joined])
    # ...and claims Blake's member id in its own member_joined.
    joined = member_joined(tablet, secret, deps=[device_invite], member_id=blake.member_id)
    proposal = blake.write(PROPOSAL, deps=[joined])
    accepted = tablet.write(AgreementAccepted(version=proposal.event_id), deps=[proposal])
    verifier, events = admitted(*pair.membership, device_invite, joined, proposal, accepted)

    # Admission: the apps count the tablet as Alex's, whatever it says of itself.
    member = verifier.membership.member_of(tablet.device_id)
    assert member is not None
    assert member.member_id == alex.member_id

    # Blake's own export of the agreement: the acceptance is Alex's, never Blake's.
    export = export_by(blake, events, {proposal.event_id, accepted.event_id})
    verified, findings = verify_export(export)
    assert findings == []
    assert verified is not None
    assert verified.members[tablet.device_id] == "Alex"
    assert verified.device_members[tablet.device_id] == alex.member_id
    acceptance = next(e for e in verified.revealed if e.kind == "agreement_accepted")
    assert acceptance.summary == "Alex accepted an agreement"

    # An exporter who hides the device invite cannot make the tablet anyone's.
    doc = msgspec.json.decode(export, type=ExportDocument)
    hidden = [r for r in doc.revealed if r.event_id != device_invite.event_id.hex()]
    forged = resigned(msgspec.structs.replace(doc, revealed=hidden), blake.device)
    assert FindingCode.AUTHOR_UNKNOWN in codes_of(forged)


def test_a_third_member_made_up_in_an_export_is_reported():
    """A member invite to Alex's own second device adds a third "Blake". With the real
    Blake's join revealed, the verifier (like the apps) allows two members only; an
    exporter who hides the real join is caught by the cross-check with Blake's export."""
    pair = paired()
    alex, blake = pair.alex, pair.blake
    impostor = Writer("impostor", "Blake")
    secret = fixed_bytes("third member secret", crypto.INVITE_SECRET_BYTES)
    invite = invite_issued(alex, secret, kind="member", deps=[pair.joined])
    joined = member_joined(impostor, secret, deps=[invite])
    proposal = alex.write(PROPOSAL, deps=[pair.joined])
    # Refusing the third member at admission is client/core/verify.py's rule (issue #10); the
    # export checks hold on their own, whatever the exporter's app accepted.
    blake_accepted = blake.write(AgreementAccepted(version=proposal.event_id), deps=[proposal])
    _, events = admitted(*pair.membership, invite, proposal, blake_accepted)
    accepted = impostor.write(AgreementAccepted(version=proposal.event_id), deps=[proposal])
    forged_events = [*events, _unchecked(joined), _unchecked(accepted)]
    chosen = {proposal.event_id, accepted.event_id}

    with_blake = export_by(alex, forged_events, chosen | {pair.joined.event_id})
    assert FindingCode.AUTHOR_UNKNOWN in codes_of(with_blake)

    without_blake, findings = verify_export(export_by(alex, forged_events, chosen))
    assert findings == []
    assert without_blake is not None
    # Blake accepted Alex's proposal, so its text is both partners' to show.
    blakes, findings = verify_export(
        export_by(blake, events, {proposal.event_id, blake_accepted.event_id})
    )
    assert findings == []
    assert blakes is not None
    codes = {f.code for f in cross_check(without_blake, blakes).findings}
    assert "different_members" in codes


def _held_as_forger(built: Built, content_key: bytes) -> VerifiedEvent:
    """A two-key event as its forger holds it, opened with the key the forger reveals."""
    env = msgspec.msgpack.decode(built.data, type=Envelope)
    plaintext = crypto.unpad(
        sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
            env.ciphertext, header_bytes(env), env.nonce, content_key
        )
    )
    body = msgspec.msgpack.decode(plaintext, type=EventBody)
    return VerifiedEvent(built.event_id, env, built.data, body, decode_payload(body.payload))


def _unchecked(built: Built) -> VerifiedEvent:
    """An event as a forger's own tool holds it, without any app's admission."""
    env = msgspec.msgpack.decode(built.data, type=Envelope)
    plaintext = crypto.open_event(EVENTS_KEY, env)
    body = msgspec.msgpack.decode(plaintext, type=EventBody)
    return VerifiedEvent(built.event_id, env, built.data, body, decode_payload(body.payload))


# --- 3. a truncated partner chain ------------------------------------------------------


def test_a_partner_chain_cut_before_a_withdrawal_is_reported_by_the_cross_check():
    pair = paired()
    alex, blake = pair.alex, pair.blake
    proposal = alex.write(PROPOSAL, deps=[pair.joined])
    accepted = blake.write(AgreementAccepted(version=proposal.event_id), deps=[proposal])
    withdrawn = blake.write(AgreementWithdrawn(version=proposal.event_id), deps=[proposal])
    _, events = admitted(*pair.membership, proposal, accepted, withdrawn)
    agreement = {proposal.event_id, accepted.event_id, withdrawn.event_id}

    # Alex cuts Blake's chain before the withdrawal and signs the export again.
    honest = export_by(alex, events, agreement - {withdrawn.event_id})
    doc = msgspec.json.decode(honest, type=ExportDocument)
    chains = [
        msgspec.structs.replace(
            c, head_seq=accepted.seq, head_id=accepted.event_id.hex(), envelopes=c.envelopes[:-1]
        )
        if c.device == blake.device_id.hex()
        else c
        for c in doc.chains
    ]
    cut = resigned(msgspec.structs.replace(doc, chains=chains), alex.device)
    alone, findings = verify_export(cut)
    # On its own the cut export is consistent, so it says what it cannot prove.
    assert findings == []
    assert alone is not None
    assert "as held by Alex's device" in alone.scope
    assert "cannot be seen here" in alone.scope

    blakes, findings = verify_export(export_by(blake, events, agreement))
    assert findings == []
    assert blakes is not None
    check = cross_check(alone, blakes)
    left_out = [f for f in check.findings if f.code == "left_out"]
    assert left_out
    assert f"seq {withdrawn.seq}" in left_out[0].where
    assert "export A stops at event 2" in left_out[0].message


def test_two_honest_exports_of_one_space_agree():
    pair = paired()
    proposal = pair.alex.write(PROPOSAL, deps=[pair.joined])
    accepted = pair.blake.write(AgreementAccepted(version=proposal.event_id), deps=[proposal])
    _, events = admitted(*pair.membership, proposal, accepted)
    chosen = {proposal.event_id, accepted.event_id}
    a, _ = verify_export(export_by(pair.alex, events, chosen))
    b, _ = verify_export(export_by(pair.blake, events, chosen))
    assert a is not None
    assert b is not None
    assert cross_check(a, b).findings == []


def test_a_fork_between_two_exports_is_reported():
    pair = paired()
    proposal = pair.alex.write(PROPOSAL, deps=[pair.joined])
    accepted = pair.blake.write(
        AgreementAccepted(version=proposal.event_id), deps=[proposal], advance=False
    )
    other = pair.blake.write(
        AgreementAccepted(version=proposal.event_id, note="with a different note"),
        deps=[proposal],
    )
    _, events_a = admitted(*pair.membership, proposal, accepted)
    _, events_b = admitted(*pair.membership, proposal, other)
    a, _ = verify_export(export_by(pair.alex, events_a, {proposal.event_id, accepted.event_id}))
    b, _ = verify_export(export_by(pair.blake, events_b, {proposal.event_id, other.event_id}))
    assert a is not None
    assert b is not None
    forks = [f for f in cross_check(a, b).findings if f.code == "fork"]
    assert forks
    assert f"seq {accepted.seq}" in forks[0].where


# --- 4. a payload with two readings ---------------------------------------------------


def _map(*items: tuple[bytes, bytes], wide: bool = False) -> bytes:
    header = b"\xde" + len(items).to_bytes(2, "big") if wide else bytes([0x80 | len(items)])
    return header + b"".join(k + v for k, v in items)


def _s(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return bytes([0xA0 | len(raw)]) + raw


def _u64(value: int) -> bytes:
    return b"\xcf" + value.to_bytes(8, "big")


def _payload(version: EventId, *extra: tuple[bytes, bytes]) -> bytes:
    return _map(
        (_s("type"), _s("agreement_accepted")), (_s("version"), b"\xc4\x20" + version), *extra
    )


def _body(dep: Built, payload: bytes, *, lamport: bytes | None = None, **kw: bool) -> bytes:
    items = [
        (_s("deps"), b"\x91\xc4\x20" + dep.event_id),
        (_s("lamport"), lamport if lamport is not None else bytes([dep.lamport + 1])),
        (_s("recorded_at"), _u64(START_MS + 300_000)),
        (_s("occurred_at"), _u64(START_MS + 300_000)),
        (_s("payload"), payload),
    ]
    if kw.get("twice"):
        items.insert(2, (_s("lamport"), bytes([dep.lamport + 1])))
    return _map(*items, wide=kw.get("wide", False))


TWO_READINGS = {
    # "declined" to a reader that keeps the first "type", "accepted" to one keeping the last
    "duplicate key in the payload": lambda p: _body(
        p,
        _map(
            (_s("type"), _s("agreement_declined")),
            (_s("version"), b"\xc4\x20" + p.event_id),
            (_s("type"), _s("agreement_accepted")),
        ),
    ),
    "duplicate key in the body": lambda p: _body(p, _payload(p.event_id), twice=True),
    "trailing bytes": lambda p: _body(p, _payload(p.event_id)) + b"\xc0",
    "non-string key": lambda p: _body(p, _payload(p.event_id, (b"\x01", _s("x")))),
    "invalid UTF-8 in a field this version skips": lambda p: _body(
        p, _payload(p.event_id, (_s("future"), _s(b"\xff\xfe")))
    ),
    "invalid UTF-8 in a known field": lambda p: _body(
        p, _payload(p.event_id, (_s("note"), _s(b"ok \xc3\x28")))
    ),
    "integer in a longer form": lambda p: _body(
        p, _payload(p.event_id), lamport=b"\xcd" + (p.lamport + 1).to_bytes(2, "big")
    ),
    "string in a longer form": lambda p: _body(
        p,
        _map(
            (_s("type"), b"\xd9\x12agreement_accepted"),
            (_s("version"), b"\xc4\x20" + p.event_id),
        ),
    ),
    "map in a longer form": lambda p: _body(p, _payload(p.event_id), wide=True),
}


@pytest.mark.parametrize("make", TWO_READINGS.values(), ids=TWO_READINGS.keys())
def test_a_payload_without_one_reading_is_refused_by_admission_and_by_verify_export(make):
    pair = paired()
    proposal = pair.alex.write(PROPOSAL, deps=[pair.joined])
    body = make(proposal)
    with pytest.raises(PayloadFormatError):
        decode_body(body)
    forged = pair.blake.write(b"", deps=[proposal], plaintext=body)

    verifier, events = admitted(*pair.membership, proposal)
    outcome = verifier.admit(forged.data)
    # Either refused outright (the body itself has no one reading), or placed in its
    # author's chain with the payload set aside, never read (docs/PROTOCOL.md §9.8):
    # no app ever shows a second reading.
    if outcome.verdict is Verdict.REJECTED:
        assert outcome.code is RejectCode.BAD_PAYLOAD
    else:
        assert outcome.verdict is Verdict.ACCEPTED
        assert outcome.event is not None
        assert isinstance(outcome.event.payload, InvalidPayload)

    # Blake's own tool puts it in an export anyway, as it reads it.
    env = msgspec.msgpack.decode(forged.data, type=Envelope)
    as_forger_reads = VerifiedEvent(
        forged.event_id,
        env,
        forged.data,
        EventBody(
            deps=[proposal.event_id],
            lamport=proposal.lamport + 1,
            recorded_at=0,
            occurred_at=0,
            payload=msgspec.Raw(b""),
        ),
        AgreementAccepted(version=proposal.event_id),
    )
    export = export_by(pair.blake, [*events, as_forger_reads], {forged.event_id})
    assert FindingCode.BAD_PAYLOAD in codes_of(export)


def test_the_duplicate_key_payload_reads_as_accepted_to_a_lenient_reader():
    """Why the rule exists: msgspec alone (last key wins) reads the forgery as accepted."""
    pair = paired()
    proposal = pair.alex.write(PROPOSAL, deps=[pair.joined])
    body = TWO_READINGS["duplicate key in the payload"](proposal)
    lenient = msgspec.msgpack.decode(body, type=EventBody)
    assert msgspec.msgpack.decode(bytes(lenient.payload))["type"] == "agreement_accepted"
