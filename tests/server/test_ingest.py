"""The ingest rules, without sockets or a database (server/ingest.py)."""

from __future__ import annotations

import os

import msgspec
import pytest

from schemas.envelope import decode_envelope, encode_envelope, event_id_of, signed_bytes
from schemas.errors import ErrorCode
from schemas.ids import DeviceId, SpaceId
from schemas.signatures import verify_all
from server.ingest import (
    Accepted,
    CheckedEnvelope,
    MissingLookup,
    Quota,
    Rejection,
    SpaceLog,
    check_batch,
    check_envelope,
    first_bad_signature,
    signature_items,
)
from server.store import ChainHead, DeviceStatus, StoredPosition
from tests.server.helpers import Device, make_envelope, new_space_id

MAX_ENVELOPE_BYTES = 4096


def checked(raw: bytes, space_id: SpaceId) -> CheckedEnvelope:
    result = check_envelope(raw, space_id, MAX_ENVELOPE_BYTES)
    assert isinstance(result, CheckedEnvelope), result
    return result


def batch(raws: list[bytes], space_id: SpaceId) -> list[CheckedEnvelope]:
    return [checked(raw, space_id) for raw in raws]


def empty_log(*devices: Device, revoked: tuple[Device, ...] = ()) -> SpaceLog:
    statuses = {d.device_id: DeviceStatus.ACTIVE for d in devices}
    statuses.update({d.device_id: DeviceStatus.REVOKED for d in revoked})
    return SpaceLog(head=0, devices=statuses, chains={})


def accepted(decision: Accepted | Rejection) -> Accepted:
    assert isinstance(decision, Accepted), decision
    return decision


def rejected(decision: Accepted | Rejection, code: ErrorCode, index: int) -> None:
    assert isinstance(decision, Rejection), decision
    assert (decision.code, decision.index) == (code, index), decision


# --- stage 1: stateless checks -----------------------------------------------------


def test_a_well_formed_signed_envelope_passes_and_gets_its_event_id() -> None:
    space_id, alex = new_space_id(), Device()
    raw = alex.envelope(space_id)
    item = checked(raw, space_id)
    assert item.event_id == event_id_of(raw)
    assert item.position == (alex.device_id, 1)


def test_garbage_is_a_bad_envelope() -> None:
    assert check_envelope(b"\x93\x01\x02", new_space_id(), MAX_ENVELOPE_BYTES)[0] == (
        ErrorCode.BAD_ENVELOPE
    )


def test_non_canonical_bytes_are_a_bad_envelope() -> None:
    space_id, alex = new_space_id(), Device()
    env = decode_envelope(alex.envelope(space_id))
    # The same envelope with seq as a 2-byte integer: same value, other encoding.
    canonical = encode_envelope(env)
    longer = canonical.replace(b"\x01\xc0", b"\xcc\x01\xc0", 1)
    assert longer != canonical
    assert msgspec.msgpack.decode(longer) == msgspec.msgpack.decode(canonical)
    result = check_envelope(longer, space_id, MAX_ENVELOPE_BYTES)
    assert isinstance(result, tuple)
    assert result[0] == ErrorCode.BAD_ENVELOPE


def test_an_oversized_envelope_is_refused_before_decoding() -> None:
    space_id, alex = new_space_id(), Device()
    raw = alex.envelope(space_id, ciphertext=os.urandom(MAX_ENVELOPE_BYTES))
    result = check_envelope(raw, space_id, MAX_ENVELOPE_BYTES)
    assert isinstance(result, tuple)
    assert result[0] == ErrorCode.ENVELOPE_TOO_LARGE


def test_an_envelope_of_another_space_is_wrong_space() -> None:
    alex = Device()
    raw = alex.envelope(new_space_id())
    result = check_envelope(raw, new_space_id(), MAX_ENVELOPE_BYTES)
    assert isinstance(result, tuple)
    assert result[0] == ErrorCode.WRONG_SPACE


def test_an_envelope_signed_by_another_key_is_a_bad_signature() -> None:
    space_id, alex, mallory = new_space_id(), Device(), Device()
    raw = alex.envelope(space_id)
    env = decode_envelope(raw)
    forged = msgspec.structs.replace(env, signature=mallory.sign(b"anything"))
    result = check_envelope(encode_envelope(forged), space_id, MAX_ENVELOPE_BYTES)
    assert isinstance(result, tuple)
    assert result[0] == ErrorCode.BAD_SIGNATURE


def test_a_batch_checked_without_signatures_lists_every_signature_to_verify() -> None:
    # Pushes verify off the event loop (server/verification.py): stage 1 leaves every
    # signature, the pusher's own included, to the caller, and none is skipped.
    space_id, alex, mallory = new_space_id(), Device(), Device()
    good = alex.envelope(space_id)
    env = decode_envelope(alex.envelope(space_id))
    forged = encode_envelope(msgspec.structs.replace(env, signature=mallory.sign(b"x")))
    checked = check_batch([good, forged], space_id, MAX_ENVELOPE_BYTES, verify=False)
    assert isinstance(checked, list)
    results = verify_all(signature_items(checked))
    assert results == [True, False]
    rejection = first_bad_signature(results)
    assert rejection is not None
    assert (rejection.code, rejection.index) == (ErrorCode.BAD_SIGNATURE, 1)
    assert first_bad_signature([True, True]) is None


def test_the_signed_bytes_cut_from_a_checked_envelope_are_exactly_what_was_signed() -> None:
    # signature_items cuts the signed bytes out of the canonical bytes instead of
    # encoding the fields again; for every envelope that passed the strict checks the
    # cut must be signed_bytes itself, and a flipped ciphertext bit must still fail.
    space_id, alex = new_space_id(), Device()
    raws = [alex.envelope(space_id) for _ in range(3)]
    env = decode_envelope(raws[0])
    flipped = bytearray(env.ciphertext)
    flipped[0] ^= 1
    raws.append(encode_envelope(msgspec.structs.replace(env, ciphertext=bytes(flipped))))
    checked = check_batch(raws, space_id, MAX_ENVELOPE_BYTES, verify=False)
    assert isinstance(checked, list)
    items = signature_items(checked)
    assert items == [
        (c.envelope.author, signed_bytes(c.envelope), c.envelope.signature) for c in checked
    ]
    assert verify_all(items) == [True, True, True, False]


def test_a_batch_reports_the_index_of_its_first_bad_envelope() -> None:
    space_id, alex = new_space_id(), Device()
    raws = [alex.envelope(space_id), alex.envelope(space_id), b"junk", b"more junk"]
    result = check_batch(raws, space_id, MAX_ENVELOPE_BYTES)
    assert isinstance(result, Rejection)
    assert (result.code, result.index) == (ErrorCode.BAD_ENVELOPE, 2)


# --- stage 2: chain rules ------------------------------------------------------------


def test_a_chain_is_accepted_in_one_batch_with_dense_relay_seqs() -> None:
    space_id, alex = new_space_id(), Device()
    log = empty_log(alex)
    items = batch([alex.envelope(space_id) for _ in range(3)], space_id)
    decision = accepted(log.decide(items, {}))
    assert [ack.seq for ack in decision.acks] == [1, 2, 3]
    assert [ack.event_id for ack in decision.acks] == [i.event_id for i in items]
    assert log.head == 3
    assert log.chains[alex.device_id] == ChainHead(3, items[-1].event_id)


def test_two_authors_interleave_and_share_the_space_seq() -> None:
    space_id, alex, blake = new_space_id(), Device(), Device()
    log = empty_log(alex, blake)
    raws = [alex.envelope(space_id), blake.envelope(space_id), alex.envelope(space_id)]
    decision = accepted(log.decide(batch(raws, space_id), {}))
    assert [ack.seq for ack in decision.acks] == [1, 2, 3]


def test_a_later_batch_continues_the_chain_of_an_earlier_one() -> None:
    space_id, alex = new_space_id(), Device()
    log = empty_log(alex)
    accepted(log.decide(batch([alex.envelope(space_id)], space_id), {}))
    decision = accepted(log.decide(batch([alex.envelope(space_id)], space_id), {}))
    assert decision.acks[0].seq == 2


def test_skipping_ahead_is_a_chain_gap() -> None:
    space_id, alex = new_space_id(), Device()
    log = empty_log(alex)
    first = alex.envelope(space_id)
    alex.envelope(space_id)  # seq 2, never sent
    third = alex.envelope(space_id)
    rejected(log.decide(batch([first, third], space_id), {}), ErrorCode.CHAIN_GAP, 1)


def test_a_wrong_prev_is_chain_bad_prev() -> None:
    space_id, alex = new_space_id(), Device()
    log = empty_log(alex)
    first = alex.envelope(space_id)
    second = alex.envelope(space_id, prev=os.urandom(32))
    rejected(log.decide(batch([first, second], space_id), {}), ErrorCode.CHAIN_BAD_PREV, 1)


def test_other_content_at_a_stored_position_is_a_chain_conflict() -> None:
    space_id, alex = new_space_id(), Device()
    log = empty_log(alex)
    original = batch([alex.envelope(space_id)], space_id)
    accepted(log.decide(original, {}))
    log.committed()
    rewrite = batch([alex.envelope(space_id, seq=1, advance=False)], space_id)
    needed = log.positions_to_look_up(rewrite)
    assert needed == {(alex.device_id, 1)}
    stored = {(alex.device_id, 1): StoredPosition(original[0].event_id, 1)}
    rejected(log.decide(rewrite, stored), ErrorCode.CHAIN_CONFLICT, 0)


def test_a_retried_envelope_is_acknowledged_with_its_original_seq() -> None:
    space_id, alex, blake = new_space_id(), Device(), Device()
    log = empty_log(alex, blake)
    first = alex.envelope(space_id)
    accepted(log.decide(batch([first, blake.envelope(space_id)], space_id), {}))
    log.committed()
    retry = batch([first, alex.envelope(space_id)], space_id)
    stored = {(alex.device_id, 1): StoredPosition(event_id_of(first), 1)}
    decision = accepted(log.decide(retry, stored))
    assert [ack.seq for ack in decision.acks] == [1, 3]
    assert [a.seq for a in decision.new] == [3], "the duplicate is not stored twice"


def test_a_duplicate_inside_one_group_needs_no_database_look_up() -> None:
    space_id, alex = new_space_id(), Device()
    log = empty_log(alex)
    first = batch([alex.envelope(space_id)], space_id)
    accepted(log.decide(first, {}))  # decided, not committed yet
    assert log.positions_to_look_up(first) == set()
    assert accepted(log.decide(first, {})).acks[0].seq == 1


def test_a_rejected_batch_changes_nothing() -> None:
    space_id, alex = new_space_id(), Device()
    log = empty_log(alex)
    good = alex.envelope(space_id)
    bad = alex.envelope(space_id, seq=5, prev=os.urandom(32))
    rejected(log.decide(batch([good, bad], space_id), {}), ErrorCode.CHAIN_GAP, 1)
    assert (log.head, log.chains, log.pending) == (0, {}, {})
    assert accepted(log.decide(batch([good], space_id), {})).acks[0].seq == 1


def test_an_author_outside_the_space_is_unknown_author() -> None:
    space_id, alex, stranger = new_space_id(), Device(), Device()
    log = empty_log(alex)
    raws = [alex.envelope(space_id), stranger.envelope(space_id)]
    rejected(log.decide(batch(raws, space_id), {}), ErrorCode.UNKNOWN_AUTHOR, 1)


def test_a_revoked_author_cannot_append() -> None:
    space_id, alex = new_space_id(), Device()
    log = empty_log(revoked=(alex,))
    rejected(
        log.decide(batch([alex.envelope(space_id)], space_id), {}), ErrorCode.DEVICE_REVOKED, 0
    )


def test_a_revoked_authors_stored_event_is_still_acknowledged_on_retry() -> None:
    space_id, alex = new_space_id(), Device()
    first = alex.envelope(space_id)
    log = SpaceLog(
        head=1,
        devices={DeviceId(alex.device_id): DeviceStatus.REVOKED},
        chains={alex.device_id: ChainHead(1, event_id_of(first))},
    )
    stored = {(alex.device_id, 1): StoredPosition(event_id_of(first), 1)}
    assert accepted(log.decide(batch([first], space_id), stored)).acks[0].seq == 1


def test_a_position_the_writer_forgot_to_look_up_is_a_bug_not_a_verdict() -> None:
    space_id, alex = new_space_id(), Device()
    first = alex.envelope(space_id)
    log = SpaceLog(
        head=1,
        devices={alex.device_id: DeviceStatus.ACTIVE},
        chains={alex.device_id: ChainHead(1, event_id_of(first))},
    )
    with pytest.raises(MissingLookup):
        log.decide(batch([first], space_id), {})


def test_make_envelope_helper_builds_what_the_relay_accepts() -> None:
    space_id, alex = new_space_id(), Device()
    raw = make_envelope(alex, space_id, seq=1, prev=None)
    assert isinstance(check_envelope(raw, space_id, MAX_ENVELOPE_BYTES), CheckedEnvelope)


# --- quota ---------------------------------------------------------------------------


def test_a_push_beyond_the_event_quota_is_refused_whole_at_the_first_that_does_not_fit() -> None:
    space_id, alex = new_space_id(), Device()
    log = empty_log(alex)
    quota = Quota(max_events=3)
    accepted(log.decide(batch([alex.envelope(space_id)], space_id), {}, quota))
    items = batch([alex.envelope(space_id) for _ in range(3)], space_id)
    rejected(log.decide(items, {}, quota), ErrorCode.QUOTA_EXCEEDED, 2)
    assert log.head == 1, "nothing of the refused push counts"
    accepted(log.decide(items[:2], {}, quota))
    assert log.head == 3


def test_a_push_beyond_the_byte_quota_is_refused_and_retries_never_count() -> None:
    space_id, alex = new_space_id(), Device()
    first = batch([alex.envelope(space_id)], space_id)
    size = len(first[0].canonical)
    log = empty_log(alex)
    quota = Quota(max_bytes=2 * size + size // 2)
    accepted(log.decide(first, {}, quota))
    assert log.bytes == size
    second = batch([alex.envelope(space_id)], space_id)
    accepted(log.decide(second, {}, quota))
    retry = log.decide(first + second, {}, quota)
    assert [ack.seq for ack in accepted(retry).acks] == [1, 2], "stored already: no quota"
    third = batch([alex.envelope(space_id)], space_id)
    decision = log.decide(third, {}, quota)
    rejected(decision, ErrorCode.QUOTA_EXCEEDED, 0)
    assert isinstance(decision, Rejection)
    assert "bytes" in decision.detail


def test_no_quota_means_no_limit() -> None:
    space_id, alex = new_space_id(), Device()
    log = empty_log(alex)
    items = batch([alex.envelope(space_id) for _ in range(50)], space_id)
    accepted(log.decide(items, {}))
    assert log.head == 50
