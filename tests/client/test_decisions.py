"""The protocol decisions of client/space/, as pure functions (client/core/decisions.py).

Built with real envelopes and a real LogVerifier (tests/client/builders.py). The story:
Alex's phone created the space, Alex added a laptop with a device invite, Blake joined
with a member invite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from client.core import decisions
from client.core.membership_rules import Invite, Membership
from client.core.verify import LogVerifier, Outcome, Verdict
from client.errors import ClientErrorCode
from client.keys import crypto
from schemas.ids import DeviceId, EventId, InviteId, MemberId
from schemas.payloads import DeviceRevoked, InviteIssued, KeyRotated, MemberLeft
from tests.client.builders import (
    EPOCH_KEYS,
    INVITE_EXPIRES_AT,
    SPACE_ID,
    Built,
    Writer,
    admit_accepting,
    entry,
    fixed_bytes,
    genesis,
    invite_issued,
    member_joined,
    paired,
)

LAPTOP_SECRET = fixed_bytes("alex laptop invite secret", 20)
BLAKE_SECRET = fixed_bytes("blake invite secret", 20)
REJOIN_SECRET = fixed_bytes("alex rejoin secret", 20)
NEW_KEY = fixed_bytes("space key, epoch 1", 32)
FRESH_MEMBER = MemberId(fixed_bytes("a fresh member id", 16))


@dataclass
class Story:
    phone: Writer
    laptop: Writer
    blake: Writer
    events: list[Built]

    def frontier(self, writer: Writer, *more: Built) -> list[Built]:
        newest: dict[bytes, Built] = {}
        for built in [*self.events, *more]:
            if built.author != writer.device_id:
                newest[built.author] = built
        return list(newest.values())

    def verifier(self, *more: Built) -> LogVerifier:
        verifier = LogVerifier(SPACE_ID, EPOCH_KEYS)
        admit_accepting(verifier, *self.events, *more)
        return verifier


@pytest.fixture
def story() -> Story:
    phone, laptop = Writer("alex phone", "Alex"), Writer("alex laptop", "Alex")
    blake = Writer("blake", "Blake")
    created = genesis(phone)
    device_invite = invite_issued(phone, LAPTOP_SECRET, kind="device")
    laptop_joined = member_joined(laptop, LAPTOP_SECRET, deps=[device_invite])
    member_invite = invite_issued(phone, BLAKE_SECRET, deps=[laptop_joined])
    blake_joined = member_joined(blake, BLAKE_SECRET, deps=[laptop_joined, member_invite])
    return Story(
        phone, laptop, blake, [created, device_invite, laptop_joined, member_invite, blake_joined]
    )


def revoke_phone(story: Story) -> Built:
    """The laptop removes the lost phone (nothing rotated yet)."""
    return story.laptop.write(
        DeviceRevoked(device_id=story.phone.device_id, last_seq=story.phone.seq),
        deps=story.frontier(story.laptop),
    )


def blake_leaves(story: Story) -> Built:
    return story.blake.write(
        MemberLeft(member_id=story.blake.member_id), deps=story.frontier(story.blake)
    )


def rejoin_invite(story: Story, for_member: MemberId) -> Built:
    keys = crypto.InviteKeys.from_secret(REJOIN_SECRET)
    payload = InviteIssued(
        invite_id=keys.invite_id,
        verify_key=keys.verify_key,
        kind="rejoin",
        expires_at=INVITE_EXPIRES_AT,
        for_member=for_member,
    )
    return story.blake.write(payload, deps=story.frontier(story.blake))


def invite_id(secret: bytes) -> InviteId:
    return crypto.InviteKeys.from_secret(secret).invite_id


# --- 3.1 admit_page: the held-event retry ----------------------------------------------


class CountingVerifier(LogVerifier):
    """A real verifier that counts its admissions (a counter, not a stand-in)."""

    admits = 0

    def admit(self, data: bytes, *, trusted: bool = False) -> Outcome:
        self.admits += 1
        return super().admit(data, trusted=trusted)


def page(*built: Built) -> list[tuple[bytes, int | None]]:
    return [(b.data, i + 1) for i, b in enumerate(built)]


def admit_page(
    verifier: LogVerifier,
    items: Sequence[tuple[bytes, int | None]],
    pending: dict[EventId, tuple[bytes, int | None]] | None = None,
    rejected: set[bytes] | None = None,
) -> decisions.Admitted:
    return decisions.admit_page(verifier, items, pending or {}, rejected or set(), set())


def test_an_event_before_its_dependency_in_one_page_is_accepted_in_the_next_round() -> None:
    pair = paired()
    admitted = admit_page(
        LogVerifier(SPACE_ID, EPOCH_KEYS), page(pair.joined, pair.genesis, pair.invite)
    )

    assert [e.event_id for e, _ in admitted.accepted] == [
        pair.genesis.event_id,
        pair.invite.event_id,
        pair.joined.event_id,
    ]
    # It was held on its first reading and released when it passed.
    assert [h.event_id for h in admitted.held] == [pair.joined.event_id]
    assert admitted.released == {pair.joined.event_id}
    # Its relay seq is the one it was served at, not the seq of its retry.
    assert dict((e.event_id, s) for e, s in admitted.accepted)[pair.joined.event_id] == 1


def test_a_chain_served_backwards_passes_with_one_round_per_event() -> None:
    alex = Writer("alex", "Alex")
    chain = [genesis(alex), *(entry(alex, f"note {i}") for i in range(49))]
    verifier = CountingVerifier(SPACE_ID, EPOCH_KEYS)

    admitted = admit_page(verifier, page(*reversed(chain)))

    assert [e.event_id for e, _ in admitted.accepted] == [b.event_id for b in chain]
    assert not admitted.rejected
    # Round k re-reads only what is still held: at most n + (n-1) + ... + 1 admissions.
    n = len(chain)
    assert verifier.admits <= n * (n + 1) // 2


def test_nothing_accepted_means_no_extra_round() -> None:
    alex = Writer("alex", "Alex")
    genesis(alex)
    later = [entry(alex, f"note {i}") for i in range(5)]
    verifier = CountingVerifier(SPACE_ID, EPOCH_KEYS)

    admitted = admit_page(verifier, page(*later))

    assert verifier.admits == len(later)
    assert not admitted.accepted
    assert [h.event_id for h in admitted.held] == [b.event_id for b in later]


def test_a_held_event_read_again_is_not_reported_as_served_again() -> None:
    pair = paired()
    admitted = admit_page(
        LogVerifier(SPACE_ID, EPOCH_KEYS), page(pair.joined, pair.genesis, pair.invite)
    )

    assert [s.relay_seq for s in admitted.served] == [1, 2, 3]
    assert all(s.valid for s in admitted.served)


def test_the_same_rejected_bytes_twice_are_rejected_once() -> None:
    pair = paired()
    verifier = LogVerifier(SPACE_ID, EPOCH_KEYS)
    admit_accepting(verifier, *pair.membership)
    forged = bytearray(entry(pair.blake, "forged", deps=[pair.genesis]).data)
    forged[-1] ^= 1  # the signature no longer verifies
    items = [(bytes(forged), 4), (b"not an envelope", 5), (bytes(forged), 6), (b"junk", 7)]

    admitted = admit_page(verifier, items)

    assert [(r.relay_seq, r.code) for r in admitted.rejected] == [
        (4, "bad_signature"),
        (5, "bad_envelope"),
    ]
    assert [s.valid for s in admitted.served] == [False] * 4
    # Rejected on an earlier page: not reported again.
    known = {r.event_id or b"" for r in admitted.rejected}
    assert not admit_page(verifier, items, rejected=known).rejected


def test_events_held_from_an_earlier_page_are_released_when_their_dependency_arrives() -> None:
    pair = paired()
    verifier = LogVerifier(SPACE_ID, EPOCH_KEYS)
    first = admit_page(verifier, page(pair.invite, pair.joined))
    assert not first.accepted
    pending = {h.event_id: (h.data, h.relay_seq) for h in first.held}

    second = admit_page(verifier, [(pair.genesis.data, 9)], pending)

    assert [e.event_id for e, _ in second.accepted] == [
        pair.genesis.event_id,
        pair.invite.event_id,
        pair.joined.event_id,
    ]
    assert second.released == {pair.invite.event_id, pair.joined.event_id}
    assert not second.held
    assert [s.relay_seq for s in second.served] == [9]


def test_trusted_envelopes_skip_only_the_signature_check() -> None:
    pair = paired()
    items = page(*pair.membership)
    admitted = decisions.admit_page(
        LogVerifier(SPACE_ID, EPOCH_KEYS), items, {}, set(), {d for d, _ in items}
    )
    assert len(admitted.accepted) == 3


# --- 3.2 who rotates the key, and to whom ---------------------------------------------


def test_nothing_unrotated_means_nobody_rotates(story: Story) -> None:
    m = story.verifier().membership
    for writer in (story.phone, story.laptop, story.blake):
        assert not decisions.must_rotate(m, writer.device_id, force=True)


def test_only_the_smallest_active_device_rotates_after_a_revocation(story: Story) -> None:
    m = story.verifier(revoke_phone(story)).membership
    active = sorted([story.laptop.device_id, story.blake.device_id])

    assert decisions.rotator(m) == active[0]
    assert decisions.must_rotate(m, active[0], force=False)
    assert not decisions.must_rotate(m, active[1], force=False)
    # The revoker rotates at once, rotator or not; the removed device never does.
    assert decisions.must_rotate(m, active[1], force=True)
    assert not decisions.must_rotate(m, story.phone.device_id, force=True)


def test_after_a_partner_leaves_the_rotation_goes_to_the_remaining_devices_only(
    story: Story,
) -> None:
    left = blake_leaves(story)
    verifier = story.verifier(left)
    m = verifier.membership
    assert decisions.rotator(m) == min(story.phone.device_id, story.laptop.device_id)

    rotated = decisions.rotation(m, [0, *m.lifecycle.rotations], NEW_KEY, crypto.seal_to_device)

    assert rotated.epoch == 1
    recipients = {k.device_id for k in rotated.sealed_keys}
    assert recipients == {story.phone.device_id, story.laptop.device_id}
    for writer in (story.phone, story.laptop):
        [sealed] = [k.sealed for k in rotated.sealed_keys if k.device_id == writer.device_id]
        assert crypto.open_sealed(writer.device.box_private_key, sealed) == NEW_KEY
    # The verifier's own rule 4 accepts it: exactly the devices active in its past.
    written = story.laptop.write(rotated, deps=story.frontier(story.laptop, left))
    admit_accepting(verifier, written)


def test_a_rotation_after_a_revocation_leaves_out_the_revoked_device(story: Story) -> None:
    revoked = revoke_phone(story)
    m = story.verifier(revoked).membership
    rotated = decisions.rotation(m, [0, 3, 1], NEW_KEY, crypto.seal_to_device)
    assert rotated.epoch == 4
    assert {k.device_id for k in rotated.sealed_keys} == {
        story.laptop.device_id,
        story.blake.device_id,
    }
    assert isinstance(rotated, KeyRotated)


# --- 3.3 the rejoin target -------------------------------------------------------------


def test_the_rejoin_partner_is_the_other_member_unless_they_left(story: Story) -> None:
    m = story.verifier().membership
    assert decisions.rejoin_partner(m, story.blake.member_id) == story.phone.member_id
    assert decisions.rejoin_partner(m, story.phone.member_id) == story.blake.member_id

    after = story.verifier(blake_leaves(story)).membership
    assert decisions.rejoin_partner(after, story.phone.member_id) is None


def test_the_rejoin_device_is_the_lost_partners_smallest_active_device(story: Story) -> None:
    m = story.verifier().membership
    alex = story.phone.member_id
    assert decisions.rejoin_device(m, alex) == min(story.phone.device_id, story.laptop.device_id)

    revoked = story.verifier(revoke_phone(story)).membership
    assert decisions.rejoin_device(revoked, alex) == story.laptop.device_id

    left = story.verifier(blake_leaves(story)).membership
    assert decisions.rejoin_device(left, story.blake.member_id) is None
    assert decisions.rejoin_device(m, FRESH_MEMBER) is None


def test_lost_devices_are_this_members_other_active_devices(story: Story) -> None:
    m = story.verifier().membership
    assert decisions.lost_devices(m, story.laptop.device_id) == [story.phone.device_id]
    assert decisions.lost_devices(m, story.blake.device_id) == []
    assert decisions.lost_devices(m, DeviceId(bytes(32))) == []

    revoked = story.verifier(revoke_phone(story)).membership
    assert decisions.lost_devices(revoked, story.laptop.device_id) == []


# --- 3.4 which devices to vouch for at a new relay -------------------------------------


def test_a_device_vouches_for_its_own_devices_and_one_of_the_partners(story: Story) -> None:
    m = story.verifier().membership

    from_phone = decisions.devices_to_admit(m, story.phone.device_id)
    expected = {
        story.phone.member_id: [(story.laptop.device_id, story.laptop.box_key, "device")],
        story.blake.member_id: [(story.blake.device_id, story.blake.box_key, "member")],
    }
    assert from_phone == [row for member in sorted(expected) for row in expected[member]]
    # Blake vouches for the device that joined as Alex (the phone, by the genesis),
    # not the smaller id of the two.
    assert decisions.devices_to_admit(m, story.blake.device_id) == [
        (story.phone.device_id, story.phone.box_key, "member")
    ]


def test_both_of_a_partners_devices_vouch_for_the_same_other_device(story: Story) -> None:
    m = story.verifier().membership
    from_phone = decisions.devices_to_admit(m, story.phone.device_id)
    from_laptop = decisions.devices_to_admit(m, story.laptop.device_id)
    assert [r for r in from_phone if r[2] == "member"] == [
        r for r in from_laptop if r[2] == "member"
    ]


def test_removed_devices_and_partners_who_left_are_not_vouched_for(story: Story) -> None:
    revoked = story.verifier(revoke_phone(story)).membership
    # The phone that joined as Alex is gone: the smallest active device stands in.
    assert decisions.devices_to_admit(revoked, story.blake.device_id) == [
        (story.laptop.device_id, story.laptop.box_key, "member")
    ]
    assert decisions.devices_to_admit(revoked, story.laptop.device_id) == [
        (story.blake.device_id, story.blake.box_key, "member")
    ]
    left = story.verifier(blake_leaves(story)).membership
    assert decisions.devices_to_admit(left, story.phone.device_id) == [
        (story.laptop.device_id, story.laptop.box_key, "device")
    ]
    assert decisions.devices_to_admit(left, DeviceId(bytes(32))) == []


# --- 3.5 which member a joining device becomes -----------------------------------------


def test_before_the_invite_event_arrives_the_join_waits(story: Story) -> None:
    m = story.verifier().membership
    assert decisions.joining_identity(m, invite_id(REJOIN_SECRET), FRESH_MEMBER, "Sam") is None


def test_a_member_invite_adds_a_new_member_under_the_typed_name(story: Story) -> None:
    m = story.verifier().membership
    assert decisions.joining_identity(m, invite_id(BLAKE_SECRET), FRESH_MEMBER, "Sam") == (
        FRESH_MEMBER,
        "Sam",
    )


def test_a_device_invite_joins_the_issuers_member_under_their_name(story: Story) -> None:
    m = story.verifier().membership
    assert decisions.joining_identity(m, invite_id(LAPTOP_SECRET), FRESH_MEMBER, "typed") == (
        story.phone.member_id,
        "Alex",
    )


def test_a_rejoin_invite_joins_the_partner_it_names(story: Story) -> None:
    m = story.verifier(rejoin_invite(story, story.phone.member_id)).membership
    assert decisions.joining_identity(m, invite_id(REJOIN_SECRET), FRESH_MEMBER, "typed") == (
        story.phone.member_id,
        "Alex",
    )


def test_a_rejoin_invite_for_a_member_not_known_here_falls_back_to_a_fresh_member() -> None:
    m = Membership()
    stranger_invite = Invite(
        InviteId(fixed_bytes("an invite", 16)),
        b"",
        "rejoin",
        MemberId(fixed_bytes("issuer", 16)),
        for_member=MemberId(fixed_bytes("nobody", 16)),
    )
    m.invites[stranger_invite.invite_id] = stranger_invite
    assert decisions.joining_identity(m, stranger_invite.invite_id, FRESH_MEMBER, "Sam") == (
        FRESH_MEMBER,
        "Sam",
    )


# --- 3.6 passing or permanent failure, and the retry schedule --------------------------


@pytest.mark.parametrize("code", sorted(decisions.PASSING_CODES))
def test_relay_refusals_that_go_away_by_themselves_are_passing(code: str) -> None:
    assert decisions.is_passing_failure(code, unreachable=False)


@pytest.mark.parametrize(
    "code", ["device_revoked", "unknown_space", "unknown_device", "bad_relay_frame"]
)
def test_refusals_retrying_cannot_fix_are_permanent(code: str) -> None:
    assert not decisions.is_passing_failure(code, unreachable=False)


def test_an_unreachable_relay_is_always_passing() -> None:
    assert decisions.is_passing_failure("relay_unreachable", unreachable=True)
    assert decisions.is_passing_failure("device_revoked", unreachable=True)


def test_the_retry_delay_doubles_from_a_quarter_second_to_thirty_seconds() -> None:
    delays: list[float] = []
    previous: float | None = None
    for _ in range(10):
        previous = decisions.next_retry_delay(previous, connected_for_s=0.1)
        delays.append(previous)
    assert delays == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_a_connection_that_stayed_up_starts_the_schedule_over() -> None:
    assert decisions.next_retry_delay(30.0, connected_for_s=31.0) == 0.25
    assert decisions.next_retry_delay(30.0, connected_for_s=29.0) == 30.0


# --- 3.8 revoke permissions ------------------------------------------------------------


def test_a_device_cannot_revoke_itself(story: Story) -> None:
    m = story.verifier().membership
    refusal = decisions.revoke_refusal(m, story.phone.device_id, story.phone.device_id)
    assert refusal is ClientErrorCode.CANNOT_REVOKE_SELF


def test_a_partner_cannot_revoke_the_other_partners_device(story: Story) -> None:
    m = story.verifier().membership
    refusal = decisions.revoke_refusal(m, story.phone.device_id, story.blake.device_id)
    assert refusal is ClientErrorCode.NOT_YOUR_DEVICE
    # A device that has not joined yet has no devices of its own.
    unknown = DeviceId(bytes(32))
    assert decisions.revoke_refusal(m, unknown, story.blake.device_id) is (
        ClientErrorCode.NOT_YOUR_DEVICE
    )


def test_a_partner_may_revoke_their_own_other_device_even_again(story: Story) -> None:
    m = story.verifier().membership
    assert decisions.revoke_refusal(m, story.laptop.device_id, story.phone.device_id) is None
    revoked = story.verifier(revoke_phone(story)).membership
    assert not revoked.is_active(story.phone.device_id)
    assert decisions.revoke_refusal(revoked, story.laptop.device_id, story.phone.device_id) is None


def test_verify_still_names_the_types_that_moved_out_of_it() -> None:
    # verify.py re-exports them for its importers (the cycle fix, issue #12 §1a).
    from client.core import verify

    assert set(verify.__all__) >= {"Device", "Invite", "Member", "Membership", "VerifiedEvent"}
    assert verify.Verdict.PENDING is Verdict.PENDING
