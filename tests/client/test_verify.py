"""Admission of envelopes into the local log (client/core/verify.py, docs/PROTOCOL.md §9).

Every envelope here is real: sealed with client.keys.crypto, signed by its author, chained by
seq and prev, with deps and a Lamport clock as a device writes them (builders.py).
"""

from __future__ import annotations

import msgspec
import pytest

from client.core.admission_checks import InvalidPayload
from client.core.verify import LogVerifier, Outcome, RejectCode, Verdict
from client.keys import crypto
from schemas.ids import EventId
from schemas.payloads import JournalEntry
from tests.client.builders import (
    OTHER_SPACE_ID,
    Built,
    Pair,
    Writer,
    admit,
    admit_accepting,
    entry,
    fixed_bytes,
    genesis,
    invite_issued,
    invite_proof,
    member_joined,
    new_verifier,
    paired,
)


@pytest.fixture
def pair() -> Pair:
    return paired()


@pytest.fixture
def verifier() -> LogVerifier:
    return new_verifier()


@pytest.fixture
def joined(pair: Pair, verifier: LogVerifier) -> LogVerifier:
    """A verifier that holds the whole membership story: Alex created, Blake joined."""
    admit_accepting(verifier, *pair.membership)
    return verifier


def assert_accepted(outcome: Outcome, built: Built) -> None:
    assert outcome.verdict is Verdict.ACCEPTED, (outcome.code, outcome.reason)
    assert outcome.event_id == built.event_id
    assert outcome.event is not None
    assert outcome.event.event_id == built.event_id


def assert_rejected(outcome: Outcome, code: RejectCode) -> None:
    assert outcome.verdict is Verdict.REJECTED, outcome
    assert outcome.code is code, outcome.reason
    assert outcome.event is None


def assert_pending(outcome: Outcome, waiting_for: str) -> None:
    assert outcome.verdict is Verdict.PENDING, (outcome.verdict, outcome.code, outcome.reason)
    assert waiting_for in outcome.waiting_for
    assert outcome.event is None


def flip_byte(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


# --- membership ------------------------------------------------------------------------


def test_the_genesis_is_accepted_and_makes_its_author_a_member(
    pair: Pair, verifier: LogVerifier
) -> None:
    [outcome] = admit(verifier, pair.genesis)

    assert_accepted(outcome, pair.genesis)
    member = verifier.membership.member_of(pair.alex.device_id)
    assert member is not None
    assert member.name == "Alex"
    assert member.member_id == pair.alex.member_id
    assert verifier.membership.genesis == pair.genesis.event_id
    assert verifier.membership.devices[pair.alex.device_id].box_key == pair.alex.box_key


def test_a_journal_entry_by_the_creator_is_accepted(verifier: LogVerifier) -> None:
    alex = Writer("alex", "Alex")
    admit_accepting(verifier, genesis(alex))
    written = entry(alex, "We had a calm evening.")

    [outcome] = admit(verifier, written)

    assert_accepted(outcome, written)
    assert outcome.event is not None
    assert outcome.event.payload == JournalEntry(text="We had a calm evening.")
    assert verifier.heads[alex.device_id] == (2, written.event_id)


def test_an_invited_partner_with_a_valid_proof_joins_as_a_new_member(
    pair: Pair, verifier: LogVerifier
) -> None:
    admit_accepting(verifier, pair.genesis, pair.invite)

    [outcome] = admit(verifier, pair.joined)

    assert_accepted(outcome, pair.joined)
    member = verifier.membership.member_of(pair.blake.device_id)
    assert member is not None
    assert (member.name, member.member_id) == ("Blake", pair.blake.member_id)
    assert set(verifier.membership.members) == {pair.alex.member_id, pair.blake.member_id}


def test_entries_by_the_joined_partner_are_accepted(pair: Pair, joined: LogVerifier) -> None:
    first = entry(pair.blake, "Thank you for listening.", deps=[pair.invite])
    second = entry(pair.blake, "Went to my meeting.", deps=[pair.invite])

    outcomes = admit(joined, first, second)

    assert_accepted(outcomes[0], first)
    assert_accepted(outcomes[1], second)


def test_a_device_no_member_invited_is_rejected_as_not_a_member(
    pair: Pair, joined: LogVerifier
) -> None:
    # Even holding the space key, an uninvited device cannot write into the space.
    stranger = Writer("stranger", "Stranger")
    intrusion = entry(stranger, "Let me in.", deps=[pair.invite])

    [outcome] = admit(joined, intrusion)

    assert_rejected(outcome, RejectCode.NOT_A_MEMBER)
    assert joined.membership.member_of(stranger.device_id) is None


def test_an_event_by_an_uninvited_device_waits_for_the_genesis_then_is_refused(
    pair: Pair, verifier: LogVerifier
) -> None:
    stranger = Writer("stranger", "Stranger")
    intrusion = entry(stranger, "Early bird.")

    assert_pending(admit(verifier, intrusion)[0], "genesis")
    admit_accepting(verifier, pair.genesis)
    assert_rejected(admit(verifier, intrusion)[0], RejectCode.NOT_A_MEMBER)


def test_a_join_whose_proof_was_not_made_with_the_invite_key_is_rejected(
    pair: Pair, verifier: LogVerifier
) -> None:
    admit_accepting(verifier, pair.genesis, pair.invite)
    impostor = Writer("impostor", "Impostor")
    guessed_secret = fixed_bytes("a guessed invite secret", 20)
    forged = member_joined(
        impostor, deps=[pair.invite], proof=invite_proof(impostor, guessed_secret)
    )

    [outcome] = admit(verifier, forged)

    assert_rejected(outcome, RejectCode.BAD_INVITE_PROOF)
    assert verifier.membership.member_of(impostor.device_id) is None


def test_a_join_carrying_a_proof_made_for_another_device_is_rejected(
    pair: Pair, verifier: LogVerifier
) -> None:
    # A relay that saw Blake's proof cannot reuse it to admit a device of its own.
    admit_accepting(verifier, pair.genesis, pair.invite)
    relay_device = Writer("relay's own device", "Blake")
    stolen = member_joined(relay_device, deps=[pair.invite], proof=invite_proof(pair.blake))

    assert_rejected(admit(verifier, stolen)[0], RejectCode.BAD_INVITE_PROOF)


def test_a_join_naming_an_invite_nobody_issued_is_rejected(
    pair: Pair, verifier: LogVerifier
) -> None:
    admit_accepting(verifier, pair.genesis, pair.invite)
    hopeful = Writer("hopeful", "Hopeful")
    never_issued = fixed_bytes("an invite secret nobody issued", 20)
    uninvited = member_joined(hopeful, never_issued, deps=[pair.invite])

    assert_rejected(admit(verifier, uninvited)[0], RejectCode.BAD_INVITE_PROOF)


def test_a_second_join_with_the_same_invite_is_rejected_as_reused(
    pair: Pair, joined: LogVerifier
) -> None:
    # The proof is valid (whoever holds the secret can make one), but invites are
    # single use: a relay that let a second device redeem it is caught here.
    latecomer = Writer("latecomer", "Latecomer")
    second = member_joined(latecomer, deps=[pair.invite])

    [outcome] = admit(joined, second)

    assert_rejected(outcome, RejectCode.INVITE_REUSED)
    assert joined.membership.member_of(latecomer.device_id) is None


def test_a_member_invite_cannot_re_add_an_existing_member(pair: Pair, joined: LogVerifier) -> None:
    second_secret = fixed_bytes("second invite secret", 20)
    second_invite = invite_issued(pair.alex, second_secret, deps=[pair.joined])
    admit_accepting(joined, second_invite)
    posing = Writer("posing as alex", "Alex")
    join = member_joined(posing, second_secret, deps=[second_invite], member_id=pair.alex.member_id)

    assert_rejected(admit(joined, join)[0], RejectCode.BAD_INVITE_PROOF)


def test_a_device_invite_adds_a_device_to_the_member_who_issued_it(
    pair: Pair, joined: LogVerifier
) -> None:
    laptop_secret = fixed_bytes("alex laptop invite secret", 20)
    device_invite = invite_issued(pair.alex, laptop_secret, kind="device", deps=[pair.joined])
    laptop = Writer("alex laptop", "Alex")
    laptop_joined = member_joined(laptop, laptop_secret, deps=[device_invite])

    admit_accepting(joined, device_invite, laptop_joined)

    member = joined.membership.member_of(laptop.device_id)
    assert member is not None
    assert member.member_id == pair.alex.member_id
    assert len(joined.membership.members) == 2


def test_a_member_device_cannot_join_a_second_time(pair: Pair, joined: LogVerifier) -> None:
    second_secret = fixed_bytes("second invite secret", 20)
    second_invite = invite_issued(pair.alex, second_secret, deps=[pair.joined])
    admit_accepting(joined, second_invite)
    again = member_joined(pair.blake, second_secret, deps=[second_invite])

    assert_rejected(admit(joined, again)[0], RejectCode.BAD_INVITE_PROOF)


def test_a_second_genesis_is_rejected(pair: Pair, joined: LogVerifier) -> None:
    usurper = Writer("usurper", "Usurper")
    second = genesis(usurper)

    [outcome] = admit(joined, second)

    assert_rejected(outcome, RejectCode.BAD_GENESIS)
    assert joined.membership.genesis == pair.genesis.event_id
    assert joined.membership.member_of(usurper.device_id) is None


def test_a_space_created_later_in_a_members_chain_is_rejected_as_a_bad_genesis(
    pair: Pair, joined: LogVerifier
) -> None:
    late = genesis(pair.alex)  # seq 4 of Alex's chain

    assert_rejected(admit(joined, late)[0], RejectCode.BAD_GENESIS)


# --- integrity -------------------------------------------------------------------------


def test_a_flipped_bit_in_the_signature_is_rejected_as_a_bad_signature(
    pair: Pair, joined: LogVerifier
) -> None:
    written = entry(pair.alex, "Signed by me.", deps=[pair.joined])
    tampered = flip_byte(written.data, len(written.data) - 1)  # last byte of the signature

    assert_rejected(joined.admit(tampered), RejectCode.BAD_SIGNATURE)


def test_a_flipped_bit_in_the_ciphertext_is_rejected_as_a_bad_signature(
    pair: Pair, joined: LogVerifier
) -> None:
    written = entry(pair.alex, "Signed by me.", deps=[pair.joined])
    # The ciphertext sits just before the 2-byte bin header and 64-byte signature.
    tampered = flip_byte(written.data, len(written.data) - 64 - 2 - 1)

    assert_rejected(joined.admit(tampered), RejectCode.BAD_SIGNATURE)


def test_bytes_that_are_not_an_envelope_are_rejected_as_a_bad_envelope(
    joined: LogVerifier,
) -> None:
    outcome = joined.admit(b"\x93\x01\x02 not an envelope")

    assert_rejected(outcome, RejectCode.BAD_ENVELOPE)
    assert outcome.event_id is None


def test_no_envelope_with_any_single_byte_flipped_is_accepted(
    pair: Pair, joined: LogVerifier
) -> None:
    # Exhaustive over every byte: a flip that keeps the format breaks the signature (or
    # names another space); one that breaks the format is a bad envelope. Either way the
    # author's chain is untouched and the genuine event still fits.
    genuine = entry(pair.alex, "Every byte counts.", deps=[pair.joined])
    expected = {RejectCode.BAD_ENVELOPE, RejectCode.BAD_SIGNATURE, RejectCode.WRONG_SPACE}

    codes = set()
    for index in range(len(genuine.data)):
        outcome = joined.admit(flip_byte(genuine.data, index))
        assert outcome.verdict is Verdict.REJECTED, (index, outcome)
        codes.add(outcome.code)

    assert codes == expected
    assert_accepted(joined.admit(genuine.data), genuine)


def test_a_forged_event_does_not_take_its_authors_next_position(
    pair: Pair, joined: LogVerifier
) -> None:
    genuine = entry(pair.alex, "The real one.", deps=[pair.joined])
    forged = flip_byte(genuine.data, len(genuine.data) - 1)

    assert_rejected(joined.admit(forged), RejectCode.BAD_SIGNATURE)
    assert_accepted(joined.admit(genuine.data), genuine)


def test_an_event_of_another_space_is_rejected_as_wrong_space(
    pair: Pair, joined: LogVerifier
) -> None:
    misplaced = pair.alex.write(
        JournalEntry(text="Meant for elsewhere."), space_id=OTHER_SPACE_ID, advance=False
    )

    assert_rejected(admit(joined, misplaced)[0], RejectCode.WRONG_SPACE)


def test_an_event_that_skips_ahead_in_its_chain_waits_until_the_gap_is_filled(
    pair: Pair, joined: LogVerifier
) -> None:
    missing = entry(pair.alex, "Second entry.", deps=[pair.joined])
    ahead = entry(pair.alex, "Third entry.", deps=[pair.joined])

    assert_pending(admit(joined, ahead)[0], "1 earlier event(s) of its author")
    assert_accepted(admit(joined, missing)[0], missing)
    # The caller (client/space/) tries pending events again once something is accepted.
    assert_accepted(admit(joined, ahead)[0], ahead)


def test_an_event_whose_dependency_is_missing_waits_for_it(pair: Pair, joined: LogVerifier) -> None:
    alex_said = entry(pair.alex, "I'm proud of you.", deps=[pair.joined])
    blake_replied = entry(pair.blake, "That means a lot.", deps=[alex_said])

    outcome = joined.admit(blake_replied.data)

    assert_pending(outcome, "earlier event(s) it depends on")
    assert not joined.knows(blake_replied.event_id)
    admit_accepting(joined, alex_said, blake_replied)


def test_an_event_that_does_not_follow_its_authors_previous_event_is_rejected(
    pair: Pair, joined: LogVerifier
) -> None:
    unrelated_prev = EventId(fixed_bytes("an event that never was", 32))
    detached = pair.alex.write(
        JournalEntry(text="Out of nowhere."), prev=unrelated_prev, deps=[pair.joined]
    )

    assert_rejected(admit(joined, detached)[0], RejectCode.CHAIN_BAD_PREV)


def test_two_different_events_at_one_position_of_an_author_are_equivocation(
    pair: Pair, joined: LogVerifier
) -> None:
    told_blake = entry(pair.alex, "I was at the gym.", deps=[pair.joined])
    told_relay = pair.alex.write(
        JournalEntry(text="I was somewhere else."), seq=told_blake.seq, prev=pair.invite.event_id
    )

    admit_accepting(joined, told_blake)
    [outcome] = admit(joined, told_relay)

    assert_rejected(outcome, RejectCode.EQUIVOCATION)
    assert joined.heads[pair.alex.device_id] == (told_blake.seq, told_blake.event_id)


def test_an_event_of_an_epoch_without_a_key_waits_for_the_key(
    pair: Pair, joined: LogVerifier
) -> None:
    next_space_key = fixed_bytes("space key, epoch 1", 32)
    rotated = pair.alex.write(
        JournalEntry(text="After the rotation."),
        epoch=1,
        events_key=crypto.events_key_for(next_space_key),
        deps=[pair.joined],
    )

    assert_pending(joined.admit(rotated.data), "key for epoch 1")
    joined.add_epoch_key(1, next_space_key)
    assert_accepted(joined.admit(rotated.data), rotated)


def test_an_event_sealed_with_the_wrong_key_is_rejected_as_undecryptable(
    pair: Pair, joined: LogVerifier
) -> None:
    wrong = pair.alex.write(
        JournalEntry(text="Nobody can read this."),
        events_key=crypto.events_key_for(fixed_bytes("not the space key", 32)),
        deps=[pair.joined],
        advance=False,
    )

    assert_rejected(joined.admit(wrong.data), RejectCode.UNDECRYPTABLE)


def test_a_plaintext_that_is_not_an_event_body_is_rejected_as_a_bad_payload(
    pair: Pair, joined: LogVerifier
) -> None:
    garbled = pair.alex.write(
        JournalEntry(text="unused"), plaintext=b"not msgpack at all", advance=False
    )

    assert_rejected(joined.admit(garbled.data), RejectCode.BAD_PAYLOAD)


def test_a_lamport_clock_not_above_its_dependencies_is_rejected(
    pair: Pair, joined: LogVerifier
) -> None:
    stale = pair.blake.write(
        JournalEntry(text="Clock is behind."), deps=[pair.invite], lamport=pair.invite.lamport
    )

    assert_rejected(joined.admit(stale.data), RejectCode.BAD_LAMPORT)


def test_a_lamport_clock_not_above_the_authors_previous_event_is_rejected(
    pair: Pair, joined: LogVerifier
) -> None:
    stale = pair.alex.write(JournalEntry(text="Clock went back."), lamport=pair.invite.lamport)

    assert_rejected(joined.admit(stale.data), RejectCode.BAD_LAMPORT)


def test_a_duplicate_is_reported_as_such_and_changes_nothing(
    pair: Pair, joined: LogVerifier
) -> None:
    heads = dict(joined.heads)
    members = dict(joined.membership.members)
    devices = dict(joined.membership.devices)

    outcomes = admit(joined, *pair.membership)

    assert [o.verdict for o in outcomes] == [Verdict.DUPLICATE] * 3
    assert [o.event_id for o in outcomes] == [e.event_id for e in pair.membership]
    assert all(o.event is None for o in outcomes)
    assert joined.heads == heads
    assert joined.membership.members == members
    assert joined.membership.devices == devices


def test_a_payload_of_a_type_this_version_does_not_know_is_placed_but_set_aside(
    pair: Pair, joined: LogVerifier
) -> None:
    future = msgspec.msgpack.encode({"type": "future_thing", "colour": "teal", "n": 3})
    written = pair.alex.write(future, deps=[pair.joined])

    [outcome] = admit(joined, written)

    assert_accepted(outcome, written)
    assert outcome.event is not None
    assert outcome.event.payload == InvalidPayload(
        type="invalid", reason="a kind of event this app does not know"
    )
    assert joined.heads[pair.alex.device_id] == (written.seq, written.event_id)


def test_trusted_admission_skips_only_the_signature_check(pair: Pair, joined: LogVerifier) -> None:
    written = entry(pair.alex, "Stored by this device earlier.", deps=[pair.joined])
    unsigned = flip_byte(written.data, len(written.data) - 1)
    detached = pair.alex.write(
        JournalEntry(text="Detached."),
        prev=EventId(fixed_bytes("an event that never was", 32)),
        advance=False,
    )
    stranger = entry(Writer("stranger", "Stranger"), "Hello?")

    assert_rejected(joined.admit(unsigned), RejectCode.BAD_SIGNATURE)
    assert joined.admit(unsigned, trusted=True).verdict is Verdict.ACCEPTED
    assert_rejected(joined.admit(detached.data, trusted=True), RejectCode.CHAIN_BAD_PREV)
    assert_rejected(joined.admit(stranger.data, trusted=True), RejectCode.NOT_A_MEMBER)


# --- reported defects --------------------------------------------------------------------


def test_a_lamport_clock_far_above_its_dependencies_is_rejected(
    pair: Pair, joined: LogVerifier
) -> None:
    # EventBody.lamport is documented as "one more than the largest Lamport clock among
    # prev and deps", but admission only checks "at least". A partner's device (or a
    # buggy client in another language) that writes the largest clock the schema
    # allows is accepted; every later event that depends on it then needs a clock
    # above the ceiling, fails to decode (bad_payload), and the other partner's device
    # refuses its own new events: that partner can never write again.
    ceiling = 2**53 - 1  # msgspec enforces Meta(le=2**53) as <= 2**53 - 1
    at_ceiling = pair.blake.write(
        JournalEntry(text="My clock is very fast."), deps=[pair.invite], lamport=ceiling
    )

    assert_rejected(joined.admit(at_ceiling.data), RejectCode.BAD_LAMPORT)


def test_a_partner_cannot_take_over_a_device_invite_by_re_issuing_its_id(
    pair: Pair, joined: LogVerifier
) -> None:
    # Alex invites a second device of Alex's own. Blake copies the invite id and verify
    # key into an invite_issued of Blake's. Admission overwrites the invite record, so
    # the laptop (with a valid proof) is recorded as a device of *Blake*, and which
    # partner owns it depends on the order the two invite events arrived in.
    laptop_secret = fixed_bytes("alex laptop invite secret", 20)
    alex_invite = invite_issued(pair.alex, laptop_secret, kind="device", deps=[pair.joined])
    copied = alex_invite.payload
    assert copied is not None
    blake_copy = pair.blake.write(copied, deps=[alex_invite])
    laptop = Writer("alex laptop", "Alex")
    laptop_joined = member_joined(laptop, laptop_secret, deps=[alex_invite])

    admit_accepting(joined, alex_invite)
    joined.admit(blake_copy.data)
    joined.admit(laptop_joined.data)

    owner = joined.membership.member_of(laptop.device_id)
    assert owner is not None
    assert owner.member_id == pair.alex.member_id, "the laptop was given to Blake"


def test_builders_seal_the_same_story_to_the_same_bytes() -> None:
    # The verifier tests rely on reproducible envelopes (Hypothesis replays failures).
    first, second = paired(), paired()

    assert [e.data for e in first.membership] == [e.data for e in second.membership]
