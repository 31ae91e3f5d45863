"""Devices, revoking, rotating, leaving, passphrase, safety number (docs/PROTOCOL.md §5.5).

The flows a person starts from the CLI or an app, on top of :class:`client.space.Space`.
The rules that every client checks live in client/core/membership_rules.py; this module only
writes events that follow them and tells the relay what it can enforce.

Who rotates. Revoking a device writes ``device_revoked`` and, in the same step,
``key_rotated`` sealed to the remaining devices. A leaver cannot hand its partner a key
it must not know, so after ``member_left`` it is the *remaining* partner's device that
rotates, when a sync shows it the leave: the active device with the smallest id, so two
devices of that partner do not both start the same epoch. Any cut-off that no rotation
has followed yet (a revoker that crashed between the two events) is repaired the same way.

Lost every device (docs/PROTOCOL.md §5.9). The *other* partner issues a ``rejoin``
invite naming the lost partner (``trellis invite --rejoin``); the new device that redeems
it becomes a device of that same member, receives every epoch key through the invite and
the history through sync, and in the same ``trellis join`` removes every older device of
its member (relay first, then ``device_revoked`` for each) and rotates the key once.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from client.core import decisions
from client.errors import ClientErrorCode, PassphraseError, TrellisError
from client.keys import crypto, unlock, vault
from client.keys.unlock import FREE_PASSPHRASE_ATTEMPTS as FREE_PASSPHRASE_ATTEMPTS
from client.space.ports import SpaceLike
from client.store.home_lock import home_write_lock
from client.store.localstore import now_ms
from client.store.relay_http import RelayHttp
from schemas.http import (
    LeaveRequest,
    LeaveResponse,
    RevokeDeviceRequest,
    leave_transcript,
    revoke_device_transcript,
)
from schemas.ids import DeviceId
from schemas.payloads import DeviceRevoked, MemberLeft

META_SAFETY_CONFIRMED = "safety_number_confirmed"
META_LEFT = "left_space"
META_REJOIN = "rejoin_pending"
"""Set when a device joins through a rejoin invite; b"0" once the lost devices are removed."""
META_PASSPHRASE_FAILURES = "passphrase_failures"  # noqa: S105 - a key name
META_PASSPHRASE_WAIT_UNTIL = "passphrase_wait_until"  # noqa: S105 - a key name

MIN_DEVICE_PREFIX_CHARS = 4


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One line of ``trellis devices``."""

    device_id: DeviceId
    member: str
    fingerprint: str
    added_at: int | None
    status: str
    """``active`` or ``revoked`` (revoked also when its partner left)."""
    this_device: bool


def fingerprint(device_id: bytes) -> str:
    """Short and comparable by eye: 16 hex digits of BLAKE2b over the device key."""
    digest = hashlib.blake2b(device_id, digest_size=8, person=b"trellis-device").hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, 16, 4))


def device_rows(space: SpaceLike) -> list[DeviceRow]:
    m = space.membership
    recorded = {e.event_id: e.body.recorded_at for e in space.events()}
    rows = [
        DeviceRow(
            device_id=d.device_id,
            member=space.member_name(d.member_id),
            fingerprint=fingerprint(d.device_id),
            added_at=recorded.get(d.added_by),
            status="active" if m.lifecycle.active(d.device_id) else "revoked",
            this_device=d.device_id == space.device_id,
        )
        for d in m.devices.values()
    ]
    return sorted(rows, key=lambda r: (r.member, r.added_at or 0, r.device_id))


def resolve_device(space: SpaceLike, text: str) -> DeviceId:
    prefix = text.strip().lower()
    matches = [d for d in space.membership.devices if d.hex().startswith(prefix)]
    if len(prefix) < MIN_DEVICE_PREFIX_CHARS or not matches:
        raise TrellisError(
            f"No device has an id starting with '{text}'. See 'trellis devices'.",
            code=ClientErrorCode.NOT_FOUND,
        )
    if len(matches) > 1:
        raise TrellisError(
            f"More than one device starts with '{text}'; give more of the id.",
            code=ClientErrorCode.AMBIGUOUS_ID,
        )
    return matches[0]


# -- revoking and rotating ------------------------------------------------------------


async def revoke(space: SpaceLike, text: str, *, reason: str | None = None) -> DeviceId:
    """Remove one of this partner's other devices: the relay refuses it first, then the
    signed ``device_revoked`` and a rotation to the remaining devices are written."""
    target = resolve_device(space, text)
    m = space.membership
    refusal = decisions.revoke_refusal(m, space.device_id, target)
    if refusal is ClientErrorCode.CANNOT_REVOKE_SELF:
        raise TrellisError(
            "This device cannot remove itself; remove it from another of your devices, "
            "or use 'trellis leave' to leave the space.",
            code=ClientErrorCode.CANNOT_REVOKE_SELF,
        )
    if refusal is not None:
        raise TrellisError(
            "Only your own devices can be removed from here; your partner removes theirs.",
            code=ClientErrorCode.NOT_YOUR_DEVICE,
        )
    already = not m.lifecycle.active(target)
    await _relay_revoke(space, target)
    # The relay refuses the device from now on; pulling now makes last_seq cover every
    # event of it the relay holds, so all partners cut its chain at the same place.
    await space.sync()
    if not already:
        await space.append(
            DeviceRevoked(device_id=target, last_seq=space.chain_seq(target), reason=reason)
        )
    await rotate_if_due(space, force=True)
    await space.sync()
    return target


async def _relay_revoke(space: SpaceLike, target: DeviceId) -> None:
    signed_at = now_ms()
    request = RevokeDeviceRequest(
        device_id=space.device_id.hex(),
        signed_at=signed_at,
        signature=space.device.sign(
            revoke_device_transcript(space.space_id, space.device_id, target, signed_at)
        ),
    )
    await RelayHttp(space.endpoint).revoke_device(space.space_id.hex(), target.hex(), request)


# -- a partner who lost every device --------------------------------------------------


async def rejoin_invite(space: SpaceLike, *, ttl_s: int) -> str:
    """A code with which the partner who lost every device rejoins as themselves."""
    me = space.me()
    m = space.membership
    if me is None:
        raise TrellisError(
            "This device has not finished joining.", code=ClientErrorCode.JOIN_INCOMPLETE
        )
    partner = decisions.rejoin_partner(m, me.member_id)
    if partner is None:
        raise TrellisError(
            "Your partner is not in the space (never joined, or left), so there is nobody "
            "to re-pair; use 'trellis invite' for a new partner.",
            code=ClientErrorCode.NO_PARTNER,
        )
    return await space.invite(ttl_s=ttl_s, kind="rejoin", for_member=partner)


def lost_devices(space: SpaceLike) -> list[DeviceId]:
    """This member's other active devices: after a rejoin, the ones that were lost."""
    return decisions.lost_devices(space.membership, space.device_id)


async def rejoin_pending(space: SpaceLike) -> bool:
    return await space.get_local(META_REJOIN) == b"1"


async def finish_rejoin(space: SpaceLike) -> list[DeviceId]:
    """After joining through a rejoin invite: remove every other device of this member
    (the lost ones) and rotate the key once, so they read nothing written afterwards.
    Runs once per rejoin (Space.join calls it; 'trellis sync' retries it if it failed)."""
    if not space.joined or not await rejoin_pending(space):
        return []
    lost = lost_devices(space)
    for target in lost:
        await _relay_revoke(space, target)
    # Refused by the relay from now on; pulling now makes each last_seq cover every
    # event of theirs the relay holds, as in revoke().
    await space.sync()
    m = space.membership
    for target in lost:
        if m.lifecycle.active(target):
            await space.append(
                DeviceRevoked(
                    device_id=target,
                    last_seq=space.chain_seq(target),
                    reason="lost; replaced through a rejoin invite",
                )
            )
    await rotate_if_due(space, force=True)
    await space.sync()
    await space.put_local({META_REJOIN: b"0"})
    return lost


async def rotate_if_due(space: SpaceLike, *, force: bool = False) -> bool:
    """Start a new epoch if some removed device still holds the newest key and this is
    the device that rotates (module docstring). True if a rotation was written."""
    m = space.membership
    if not decisions.must_rotate(m, space.device_id, force=force):
        return False
    known = [*space.epoch_keys(), *m.lifecycle.rotations]
    new_key = os.urandom(crypto.SPACE_KEY_BYTES)
    await space.append(decisions.rotation(m, known, new_key, crypto.seal_to_device))
    return True


# -- leaving --------------------------------------------------------------------------


async def leave(space: SpaceLike) -> LeaveResponse:
    """Write ``member_left`` and push it, then ask the relay to refuse all of this
    partner's devices. This device keeps its copy of everything shared until now."""
    me = space.me()
    if me is None:
        raise TrellisError(
            "This device has not finished joining.", code=ClientErrorCode.JOIN_INCOMPLETE
        )
    if me.member_id not in space.membership.lifecycle.left:
        await space.append(MemberLeft(member_id=me.member_id))
    if await space.outbox_size():  # a retried leave has pushed it already (§16.2)
        await space.sync()
    signed_at = now_ms()
    request = LeaveRequest(
        device_id=space.device_id.hex(),
        signed_at=signed_at,
        signature=space.device.sign(leave_transcript(space.space_id, space.device_id, signed_at)),
    )
    response = await RelayHttp(space.endpoint).leave(space.space_id.hex(), request)
    await space.put_local({META_LEFT: str(now_ms()).encode()})
    return response


# -- passphrase -----------------------------------------------------------------------


class MetaStore(Protocol):
    """Where the back-off is counted: the local database's meta table (a LocalStore
    while opening; an open space through :class:`_SpaceMeta`)."""

    async def get(self, key: str) -> bytes | None: ...

    async def put(self, items: dict[str, bytes]) -> None: ...


@dataclass(frozen=True, slots=True)
class _SpaceMeta:
    space: SpaceLike

    async def get(self, key: str) -> bytes | None:
        return await self.space.get_local(key)

    async def put(self, items: dict[str, bytes]) -> None:
        await self.space.put_local(items)


async def check_passphrase(space: SpaceLike, passphrase: str, sealed: bytes) -> None:
    """Raise unless ``passphrase`` opens this open space's sealed keys, counting a wrong
    one in the same back-off as a wrong unlock: an open, unattended app or terminal
    must not be a way to guess the passphrase without limit."""
    await unseal_rate_limited(_SpaceMeta(space), passphrase, sealed, home=space.home)


async def unseal_rate_limited(
    store: MetaStore, passphrase: str, sealed: bytes, *, home: Path
) -> vault.DeviceSecrets:
    """Open the vault, counting wrong passphrases in the local database: after
    FREE_PASSPHRASE_ATTEMPTS, each further try waits twice as long (up to 15 min).

    One try at a time per home (the home's write lock, client/store/home_lock.py):
    ten ``trellis`` commands started at once with ten guesses each read the back-off
    before any had counted its failure, so all ten were tried (THREAT_MODEL §22.2)."""
    async with home_write_lock(home):
        return await _unseal_counted(store, passphrase, sealed)


async def _unseal_counted(store: MetaStore, passphrase: str, sealed: bytes) -> vault.DeviceSecrets:
    wait_until = int((await store.get(META_PASSPHRASE_WAIT_UNTIL) or b"0").decode())
    seconds = unlock.may_try(now_ms(), wait_until)
    if seconds is not None:
        raise TrellisError(
            f"Too many wrong passphrases. Wait {seconds} s, then try again.",
            code=ClientErrorCode.PASSPHRASE_RATE_LIMITED,
        )
    try:
        secrets = await vault.unseal_off_loop(passphrase, sealed)
    except PassphraseError:
        failures = int((await store.get(META_PASSPHRASE_FAILURES) or b"0").decode()) + 1
        items = {META_PASSPHRASE_FAILURES: str(failures).encode()}
        wait_s = unlock.wait_after(failures)
        if wait_s is not None:
            items[META_PASSPHRASE_WAIT_UNTIL] = str(now_ms() + wait_s * 1000).encode()
        await store.put(items)
        raise
    if await store.get(META_PASSPHRASE_FAILURES) is not None:
        await store.put({META_PASSPHRASE_FAILURES: b"0", META_PASSPHRASE_WAIT_UNTIL: b"0"})
    return secrets


async def change_passphrase(
    space: SpaceLike, new_passphrase: str, *, kdf_cost: vault.KdfCost | None = None
) -> None:
    """Re-seal this device's keys with a new passphrase; the old one stops working."""
    await space.reseal(new_passphrase, kdf_cost=kdf_cost)


# -- safety number --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SafetyState:
    number: str
    confirmed: bool
    """The partners confirmed this exact number (the current set of active devices)."""
    changed: bool
    """A number was confirmed before, and the set of devices changed since."""


async def safety_state(space: SpaceLike) -> SafetyState:
    number = space.safety_number()
    confirmed = await space.get_local(META_SAFETY_CONFIRMED)
    return SafetyState(
        number=number,
        confirmed=confirmed == number.encode(),
        changed=confirmed is not None and confirmed != number.encode(),
    )


async def confirm_safety_number(space: SpaceLike) -> str:
    number = space.safety_number()
    await space.put_local({META_SAFETY_CONFIRMED: number.encode()})
    return number
