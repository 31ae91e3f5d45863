"""Inviting: a partner to join, another device of one's own, or a partner who lost
every device to rejoin (docs/PROTOCOL.md §5). Works on a
:class:`client.space.ports.SpaceLike`."""

from __future__ import annotations

import msgspec

from client.core import decisions
from client.errors import ClientErrorCode, TrellisError
from client.keys import crypto, vault
from client.space.ports import SpaceLike
from client.store.localstore import now_ms
from client.store.relay_http import RelayHttp
from schemas.http import CreateInviteRequest, invite_create_transcript
from schemas.ids import DeviceId, MemberId
from schemas.payloads import InviteIssued

DEFAULT_INVITE_TTL_S = 24 * 3600
MAX_INVITE_TTL_S = 7 * 24 * 3600


async def invite(space: SpaceLike, *, ttl_s: int, kind: str, for_member: MemberId | None) -> str:
    """:meth:`client.space.Space.invite`: register the invite at the relay, record
    it in a signed event, push it, and return the code (secret: show it only to the
    partner)."""
    if kind == "member" and len(space.membership.members) >= 2:
        # A space has exactly two partners, for its whole life (§9.9).
        raise TrellisError(
            "Your partner has already joined, and a shared space is for the two of you "
            "only. To add another device of your own, run 'trellis device invite'.",
            code=ClientErrorCode.PARTNER_ALREADY_JOINED,
        )
    for_device = _rejoin_target(space, for_member) if kind == "rejoin" else None
    if not 60 <= ttl_s <= MAX_INVITE_TTL_S:
        raise TrellisError(
            "An invite can last from one minute to seven days.",
            code=ClientErrorCode.BAD_INVITE_TTL,
        )
    secret = crypto.new_invite_secret()
    keys = crypto.InviteKeys.from_secret(secret)
    request = _invite_request(space, keys, ttl_s=ttl_s, kind=kind, for_device=for_device)
    await RelayHttp(space.endpoint).create_invite(space.space_id.hex(), request)
    await space.append(
        InviteIssued(
            invite_id=keys.invite_id,
            verify_key=keys.verify_key,
            kind=request.kind,
            expires_at=request.expires_at,
            for_member=for_member if kind == "rejoin" else None,
        )
    )
    await space.sync()
    return f"{crypto.format_invite_code(secret)}@{space.endpoint.url}"


def _rejoin_target(space: SpaceLike, for_member: MemberId | None) -> DeviceId:
    """The lost partner's device the rejoining device replaces: the smallest active."""
    target = None if for_member is None else decisions.rejoin_device(space.membership, for_member)
    if target is None:
        raise TrellisError(
            "Your partner has no device left in the space to replace.",
            code=ClientErrorCode.NO_PARTNER_DEVICE,
        )
    return target


def _invite_request(
    space: SpaceLike,
    keys: crypto.InviteKeys,
    *,
    ttl_s: int,
    kind: str,
    for_device: DeviceId | None,
) -> CreateInviteRequest:
    """The relay's invite, carrying the space keys wrapped for the code, signed by
    this device."""
    now = now_ms()
    unsigned = CreateInviteRequest(
        device_id=space.device_id.hex(),
        invite_id=keys.invite_id.hex(),
        verify_key=keys.verify_key,
        wrapped_keys=keys.wrap(
            vault.encode_space_keys(vault.SpaceKeys(space_keys=space.epoch_keys()))
        ),
        expires_at=now + ttl_s * 1000,
        kind="device" if kind == "device" else "rejoin" if kind == "rejoin" else "member",
        signed_at=now,
        signature=bytes(64),
        for_device=None if for_device is None else for_device.hex(),
    )
    return msgspec.structs.replace(
        unsigned, signature=space.device.sign(invite_create_transcript(space.space_id, unsigned))
    )
