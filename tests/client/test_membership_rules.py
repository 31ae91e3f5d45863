"""Revocation, leaving and key rotation (client/core/membership_rules.py, PROTOCOL.md §5.5-§5.8).

The story: Alex's phone created the space, Alex added a laptop with a device invite,
Blake joined with a member invite. Then the phone is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from client.core.verify import LogVerifier, RejectCode, Verdict
from client.keys import crypto
from schemas.payloads import (
    DeviceRevoked,
    InviteIssued,
    JournalEntry,
    KeyRotated,
    MemberLeft,
    SealedKey,
)
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
)

NEW_SPACE_KEY = fixed_bytes("space key, epoch 1", 32)
LAPTOP_SECRET = fixed_bytes("alex laptop invite secret", 20)
BLAKE_SECRET = fixed_bytes("blake invite secret", 20)


@dataclass
class Story:
    phone: Writer
    laptop: Writer
    blake: Writer
    events: list[Built]

    def frontier(self, writer: Writer, *more: Built) -> list[Built]:
        """The newest event of every other device, as a real client's deps are."""
        newest: dict[bytes, Built] = {}
        for built in [*self.events, *more]:
            if built.author != writer.device_id:
                newest[built.author] = built
        return list(newest.values())


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


def verifier_for(me: Writer | None = None) -> LogVerifier:
    if me is None:
        return LogVerifier(SPACE_ID, EPOCH_KEYS)
    return LogVerifier(
        SPACE_ID,
        EPOCH_KEYS,
        me=me.device_id,
        open_sealed=lambda sealed: crypto.open_sealed(me.device.box_private_key, sealed),
    )


def admitted(story: Story, me: Writer | None = None) -> LogVerifier:
    verifier = verifier_for(me)
    admit_accepting(verifier, *story.events)
    return verifier


def revoke(by: Writer, target: Writer, last_seq: int, deps: Sequence[Built]) -> Built:
    return by.write(DeviceRevoked(device_id=target.device_id, last_seq=last_seq), deps=deps)


def rotate(
    by: Writer, to: Sequence[Writer], deps: Sequence[Built], *, advance: bool = True
) -> Built:
    sealed = [
        SealedKey(device_id=w.device_id, sealed=crypto.seal_to_device(w.box_key, NEW_SPACE_KEY))
        for w in to
    ]
    return by.write(KeyRotated(epoch=1, sealed_keys=sealed), deps=deps, advance=advance)


def assert_refused(verifier: LogVerifier, built: Built, code: RejectCode) -> None:
    outcome = verifier.admit(built.data)
    assert outcome.verdict is Verdict.REJECTED, (outcome.verdict, outcome.waiting_for)
    assert outcome.code is code, outcome.reason


# --- revocation ------------------------------------------------------------------------


def test_a_device_revoked_by_its_own_partner_cannot_add_events_after_its_cut_off(
    story: Story,
) -> None:
    verifier = admitted(story)
    revoked = revoke(story.laptop, story.phone, story.phone.seq, deps=story.frontier(story.laptop))
    admit_accepting(verifier, revoked)
    after = entry(
        story.phone, "written by whoever found the phone", deps=story.frontier(story.phone)
    )

    assert_refused(verifier, after, RejectCode.DEVICE_REVOKED)
    assert not verifier.membership.is_active(story.phone.device_id)
    assert verifier.membership.is_active(story.laptop.device_id)


def test_events_of_a_revoked_device_up_to_its_cut_off_still_arrive(story: Story) -> None:
    before = entry(
        story.phone, "written before the phone was lost", deps=story.frontier(story.phone)
    )
    verifier = admitted(story)
    revoked = revoke(story.laptop, story.phone, before.seq, deps=story.frontier(story.laptop))
    admit_accepting(verifier, revoked, before)


def test_a_partner_cannot_revoke_the_other_partners_device(story: Story) -> None:
    verifier = admitted(story)
    attack = revoke(story.blake, story.phone, story.phone.seq, deps=story.frontier(story.blake))

    assert_refused(verifier, attack, RejectCode.BAD_REVOCATION)
    assert verifier.membership.is_active(story.phone.device_id)


def test_a_revocation_cannot_cut_off_events_its_author_already_accepted(story: Story) -> None:
    verifier = admitted(story)
    attack = revoke(story.laptop, story.phone, 1, deps=story.frontier(story.laptop))

    assert_refused(verifier, attack, RejectCode.BAD_REVOCATION)


def test_a_replayed_old_event_of_a_revoked_device_is_a_duplicate(story: Story) -> None:
    verifier = admitted(story)
    admit_accepting(
        verifier, revoke(story.laptop, story.phone, story.phone.seq, story.frontier(story.laptop))
    )
    heads = dict(verifier.heads)

    assert verifier.admit(story.events[0].data).verdict is Verdict.DUPLICATE
    assert verifier.heads == heads


# --- rotation --------------------------------------------------------------------------


def test_a_rotation_sealed_to_exactly_the_remaining_devices_gives_them_the_new_key(
    story: Story,
) -> None:
    revoked = revoke(story.laptop, story.phone, story.phone.seq, deps=story.frontier(story.laptop))
    rotated = rotate(story.laptop, [story.laptop, story.blake], deps=story.frontier(story.laptop))
    blakes = admitted(story, me=story.blake)
    phones = admitted(story, me=story.phone)
    admit_accepting(blakes, revoked, rotated)
    admit_accepting(phones, revoked, rotated)
    later = story.laptop.write(
        JournalEntry(text="after the rotation"),
        epoch=1,
        events_key=crypto.events_key_for(NEW_SPACE_KEY),
        deps=story.frontier(story.laptop),
    )

    assert blakes.space_keys[1] == NEW_SPACE_KEY
    assert blakes.admit(later.data).verdict is Verdict.ACCEPTED
    assert 1 not in phones.space_keys
    outcome = phones.admit(later.data)
    assert outcome.verdict is Verdict.PENDING
    assert "epoch 1" in outcome.waiting_for


def test_a_rotation_that_leaves_out_a_remaining_device_is_rejected(story: Story) -> None:
    verifier = admitted(story)
    admit_accepting(
        verifier, revoke(story.laptop, story.phone, story.phone.seq, story.frontier(story.laptop))
    )
    attack = rotate(story.laptop, [story.laptop], deps=story.frontier(story.laptop))

    assert_refused(verifier, attack, RejectCode.BAD_ROTATION)


def test_a_rotation_that_includes_a_revoked_device_is_rejected(story: Story) -> None:
    verifier = admitted(story)
    admit_accepting(
        verifier, revoke(story.laptop, story.phone, story.phone.seq, story.frontier(story.laptop))
    )
    attack = rotate(
        story.laptop, [story.laptop, story.blake, story.phone], deps=story.frontier(story.laptop)
    )

    assert_refused(verifier, attack, RejectCode.BAD_ROTATION)


def test_a_second_rotation_to_the_same_epoch_is_rejected(story: Story) -> None:
    verifier = admitted(story)
    everyone = [story.phone, story.laptop, story.blake]
    admit_accepting(verifier, rotate(story.laptop, everyone, deps=story.frontier(story.laptop)))

    assert_refused(
        verifier,
        rotate(story.blake, everyone, deps=story.frontier(story.blake)),
        RejectCode.BAD_ROTATION,
    )


def test_an_old_epoch_event_written_offline_during_a_rotation_is_accepted(story: Story) -> None:
    verifier = admitted(story)
    offline = entry(story.blake, "written on a train", deps=story.frontier(story.blake))
    admit_accepting(
        verifier, revoke(story.laptop, story.phone, story.phone.seq, story.frontier(story.laptop))
    )
    admit_accepting(
        verifier, rotate(story.laptop, [story.laptop, story.blake], story.frontier(story.laptop))
    )

    admit_accepting(verifier, offline)


def test_an_old_epoch_event_written_after_seeing_the_rotation_is_rejected(story: Story) -> None:
    verifier = admitted(story, me=story.blake)
    revoked = revoke(story.laptop, story.phone, story.phone.seq, story.frontier(story.laptop))
    rotated = rotate(story.laptop, [story.laptop, story.blake], story.frontier(story.laptop))
    admit_accepting(verifier, revoked, rotated)
    stale = entry(
        story.blake, "old key, new knowledge", deps=story.frontier(story.blake, revoked, rotated)
    )

    assert_refused(verifier, stale, RejectCode.STALE_EPOCH)


# --- leaving ---------------------------------------------------------------------------


def test_after_a_member_leaves_its_devices_stop_and_the_partner_rotates_to_itself(
    story: Story,
) -> None:
    verifier = admitted(story, me=story.blake)
    left = story.laptop.write(
        MemberLeft(member_id=story.phone.member_id), deps=story.frontier(story.laptop)
    )
    admit_accepting(verifier, left)
    late = entry(story.laptop, "after leaving", deps=story.frontier(story.laptop))

    assert_refused(verifier, late, RejectCode.DEVICE_REVOKED)
    assert not verifier.membership.is_active(story.phone.device_id)
    assert_refused(
        verifier,
        rotate(
            story.blake,
            [story.blake, story.laptop],
            story.frontier(story.blake, left),
            advance=False,
        ),
        RejectCode.BAD_ROTATION,
    )
    admit_accepting(verifier, rotate(story.blake, [story.blake], story.frontier(story.blake, left)))
    assert verifier.space_keys[1] == NEW_SPACE_KEY


def test_a_member_cannot_leave_on_behalf_of_the_other(story: Story) -> None:
    verifier = admitted(story)
    attack = story.blake.write(
        MemberLeft(member_id=story.phone.member_id), deps=story.frontier(story.blake)
    )

    assert_refused(verifier, attack, RejectCode.BAD_LEAVE)


def test_a_device_no_member_invited_is_still_rejected(story: Story) -> None:
    verifier = admitted(story)
    stranger = Writer("inserted by the relay", "Mallory")

    assert_refused(verifier, entry(stranger, "hello"), RejectCode.NOT_A_MEMBER)


# --- rejoin: a partner who lost every device (rule 6) -----------------------------------

NEW_PHONE_SECRET = fixed_bytes("alex new phone rejoin secret", 20)


def rejoin_invite(
    issuer: Writer, for_member: bytes | None, deps: Sequence[Built], *, advance: bool = True
) -> Built:
    keys = crypto.InviteKeys.from_secret(NEW_PHONE_SECRET)
    payload = InviteIssued(
        invite_id=keys.invite_id,
        verify_key=keys.verify_key,
        kind="rejoin",
        expires_at=INVITE_EXPIRES_AT,
        for_member=for_member,
    )
    return issuer.write(payload, deps=deps, advance=advance)


def test_a_rejoin_invite_from_the_partner_makes_the_new_device_the_same_member(
    story: Story,
) -> None:
    verifier = admitted(story, me=story.blake)
    invite = rejoin_invite(story.blake, story.phone.member_id, story.frontier(story.blake))
    new_phone = Writer("alex new phone", "Alex (new phone)")
    joined = member_joined(
        new_phone,
        NEW_PHONE_SECRET,
        deps=story.frontier(new_phone, invite),
        member_id=story.phone.member_id,
    )
    admit_accepting(verifier, invite, joined)

    member = verifier.membership.member_of(new_phone.device_id)
    assert member is not None
    assert member.member_id == story.phone.member_id
    assert member.name == "Alex"
    assert len(verifier.membership.members) == 2
    # Now Alex's own device: it may remove the lost ones, and rotate to who remains.
    deps = story.frontier(new_phone, invite)
    off_phone = revoke(new_phone, story.phone, story.phone.seq, deps)
    off_laptop = revoke(new_phone, story.laptop, story.laptop.seq, deps)
    rotated = rotate(new_phone, [story.blake, new_phone], deps)
    admit_accepting(verifier, off_phone, off_laptop, rotated)
    assert not verifier.membership.is_active(story.phone.device_id)
    assert not verifier.membership.is_active(story.laptop.device_id)
    assert verifier.space_keys[1] == NEW_SPACE_KEY


def test_a_rejoin_invite_for_its_issuers_own_member_is_rejected(story: Story) -> None:
    verifier = admitted(story)
    attack = rejoin_invite(story.blake, story.blake.member_id, story.frontier(story.blake))

    assert_refused(verifier, attack, RejectCode.BAD_REJOIN)


def test_a_rejoin_invite_for_an_unknown_member_or_none_is_rejected(story: Story) -> None:
    verifier = admitted(story)
    stranger = fixed_bytes("nobody's member id", 16)
    deps = story.frontier(story.blake)

    assert_refused(
        verifier, rejoin_invite(story.blake, stranger, deps, advance=False), RejectCode.BAD_REJOIN
    )
    assert_refused(
        verifier,
        story.blake.write(
            InviteIssued(
                invite_id=crypto.InviteKeys.from_secret(NEW_PHONE_SECRET).invite_id,
                verify_key=crypto.InviteKeys.from_secret(NEW_PHONE_SECRET).verify_key,
                kind="rejoin",
                expires_at=INVITE_EXPIRES_AT,
            ),
            deps=deps,
            advance=False,
        ),
        RejectCode.BAD_REJOIN,
    )


def test_only_a_rejoin_invite_names_a_member(story: Story) -> None:
    verifier = admitted(story)
    keys = crypto.InviteKeys.from_secret(NEW_PHONE_SECRET)
    attack = story.blake.write(
        InviteIssued(
            invite_id=keys.invite_id,
            verify_key=keys.verify_key,
            kind="device",
            expires_at=INVITE_EXPIRES_AT,
            for_member=story.phone.member_id,
        ),
        deps=story.frontier(story.blake),
    )

    assert_refused(verifier, attack, RejectCode.BAD_REJOIN)


def test_a_rejoin_invite_for_a_partner_who_left_is_rejected(story: Story) -> None:
    verifier = admitted(story)
    left = story.laptop.write(
        MemberLeft(member_id=story.phone.member_id), deps=story.frontier(story.laptop)
    )
    admit_accepting(verifier, left)

    assert_refused(
        verifier,
        rejoin_invite(story.blake, story.phone.member_id, story.frontier(story.blake, left)),
        RejectCode.BAD_REJOIN,
    )


def test_a_join_through_a_rejoin_invite_after_its_partner_left_is_rejected(
    story: Story,
) -> None:
    verifier = admitted(story)
    invite = rejoin_invite(story.blake, story.phone.member_id, story.frontier(story.blake))
    left = story.laptop.write(
        MemberLeft(member_id=story.phone.member_id), deps=story.frontier(story.laptop, invite)
    )
    admit_accepting(verifier, invite, left)
    new_phone = Writer("alex new phone", "Alex")

    assert_refused(
        verifier,
        member_joined(
            new_phone,
            NEW_PHONE_SECRET,
            deps=story.frontier(new_phone, invite, left),
            member_id=story.phone.member_id,
        ),
        RejectCode.BAD_LEAVE,
    )
