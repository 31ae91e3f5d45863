"""HTTP endpoints for invites: looking one up and redeeming it (docs/PROTOCOL.md §7;
split from http_api.py), and the limits on trying (THREAT_MODEL §19).

Looking up and redeeming invites is limited per invite and per client address
(``redeem_attempts_per_invite`` / ``_per_address`` in ``redeem_window_s``): the invite
secret cannot be guessed, but nobody gets to try indefinitely, and an address that
hammers one invite does not stop its rightful holder for long (429 ``rate_limited``
with Retry-After).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from schemas.errors import ErrorCode
from schemas.http import InviteInfo, InviteKind, RedeemInviteRequest, RedeemInviteResponse
from schemas.ids import DeviceId, InviteId, SpaceId
from server._http_common import (
    INVITE_LIMIT,
    WRITE_ERRORS,
    InviteIdPath,
    RelayDep,
    client_address,
    error_responses,
)
from server._log import logger, short
from server._runtime import Relay
from server.errors import RelayError
from server.membership import check_invite_usable, check_redeem_proof, parse_invite_id
from server.partners import rejoin_contest
from server.store import DeviceStatus, RedeemOutcome

_INVITE_KINDS: dict[str, InviteKind] = {"device": "device", "rejoin": "rejoin"}
"""Stored invite kinds as shown to the redeemer; any other is a member invite."""

_REDEEM_ERRORS: dict[RedeemOutcome, ErrorCode] = {
    RedeemOutcome.NOT_FOUND: ErrorCode.INVITE_NOT_FOUND,
    RedeemOutcome.USED: ErrorCode.INVITE_USED,
    RedeemOutcome.EXPIRED: ErrorCode.INVITE_EXPIRED,
    RedeemOutcome.DEVICE_REVOKED: ErrorCode.DEVICE_REVOKED,
    RedeemOutcome.SPACE_FULL: ErrorCode.SPACE_FULL,
}


def _count_address(relay: Relay, request: Request[Any, Any, Any]) -> None:
    address = client_address(request)
    if not relay.address_attempts.allow(address):
        relay.metrics.limit_hits.inc(label="redeem_attempts_per_address")
        raise RelayError(
            ErrorCode.RATE_LIMITED,
            "too many invite attempts from this address; wait a few minutes",
            retry_after_s=relay.address_attempts.retry_after_s(address),
        )


def count_invite_lookup(relay: Relay, request: Request[Any, Any, Any], invite_id: str) -> InviteId:
    """Count one look-up against the client address only. A look-up reveals nothing
    without the invite secret (the keys are wrapped under it), so it is not counted
    against the invite: an attacker who learned an invite id must not be able to keep
    its rightful holder from reading it (docs/THREAT_MODEL.md §19)."""
    parsed = parse_invite_id(invite_id)
    _count_address(relay, request)
    return parsed


def count_invite_attempt(
    relay: Relay, request: Request[Any, Any, Any], parsed: InviteId
) -> InviteId:
    """Count one *failed* redemption against the address, then against the invite.
    (A malformed id or body never gets here: it is refused with 400 first.)"""
    _count_address(relay, request)
    if not relay.invite_attempts.allow(parsed):
        relay.metrics.limit_hits.inc(label="redeem_attempts_per_invite")
        raise RelayError(
            ErrorCode.RATE_LIMITED,
            "too many attempts with this invite; wait a few minutes",
            retry_after_s=relay.invite_attempts.retry_after_s(parsed),
        )
    return parsed


async def check_rejoin_uncontested(
    relay: Relay,
    space: SpaceId,
    for_device: DeviceId,
    issued_at_ms: int | None,
    redeemer: DeviceId | None = None,
) -> None:
    """Refuse a rejoin (issuing or redeeming) while the partner it replaces is evidently
    not lost: one of their devices is connected or signed in since it was issued
    (server/partners.py, docs/PROTOCOL.md §7.11)."""
    target = await relay.store.device_group(space, for_device)
    group = None if target is None else target[1]
    snapshot = await relay.store.load_space(space)
    partner_devices = [for_device]
    if snapshot is not None and group is not None:
        for device, status in snapshot.devices.items():
            # The redeemer itself (retrying a redemption) is no sign of the partner.
            if status is not DeviceStatus.ACTIVE or device in (for_device, redeemer):
                continue
            found = await relay.store.device_group(space, device)
            if found is not None and found[1] == group:
                partner_devices.append(device)
    refusal = rejoin_contest(
        space, partner_devices, issued_at_ms, relay.sign_ins, relay.connections.device_connected
    )
    if refusal is not None:
        raise RelayError(*refusal)


class InvitesController(Controller):
    path = "/v1/invites"
    tags = ["invites"]  # noqa: RUF012 - litestar reads this class attribute as is

    @get(
        "/{invite_id:str}",
        responses=error_responses(
            ErrorCode.INVITE_NOT_FOUND,
            ErrorCode.INVITE_USED,
            ErrorCode.INVITE_EXPIRED,
            *INVITE_LIMIT,
        ),
    )
    async def get_invite(
        self, invite_id: InviteIdPath, request: Request[Any, Any, Any], relay: RelayDep
    ) -> InviteInfo:
        """What a new device needs to join: the wrapped space keys, if still usable."""
        invite = await relay.store.get_invite(count_invite_lookup(relay, request, invite_id))
        if invite is None:
            raise RelayError(ErrorCode.INVITE_NOT_FOUND)
        check_invite_usable(invite, relay.clock_ms())
        return InviteInfo(
            invite_id=invite.invite_id.hex(),
            space_id=invite.space_id.hex(),
            wrapped_keys=invite.wrapped_keys,
            expires_at=invite.expires_at_ms,
            kind=_INVITE_KINDS.get(invite.kind, "member"),
        )

    @post(
        "/{invite_id:str}/redeem",
        status_code=200,
        responses=error_responses(
            ErrorCode.INVITE_NOT_FOUND,
            ErrorCode.BAD_INVITE_PROOF,
            ErrorCode.DEVICE_REVOKED,
            ErrorCode.INVITE_USED,
            ErrorCode.INVITE_EXPIRED,
            ErrorCode.SPACE_FULL,
            ErrorCode.PARTNER_ACTIVE,
            *INVITE_LIMIT,
            *WRITE_ERRORS,
        ),
    )
    async def redeem_invite(
        self,
        invite_id: InviteIdPath,
        data: JSONBody[RedeemInviteRequest],
        request: Request[Any, Any, Any],
        relay: RelayDep,
    ) -> RedeemInviteResponse:
        """Admit a device, proven by the invite key; single use, enforced atomically."""
        parsed = parse_invite_id(invite_id)
        invite = await relay.store.get_invite(parsed)
        try:
            if invite is None:
                raise RelayError(ErrorCode.INVITE_NOT_FOUND)
            device_id = check_redeem_proof(invite, data)
        except RelayError:
            # Only failed attempts are counted, after the fact: a valid proof (which only
            # the holder of the invite secret can make) is never held up by what others
            # tried with the same invite id (docs/THREAT_MODEL.md §19).
            count_invite_attempt(relay, request, parsed)
            raise
        if invite.kind == "rejoin" and invite.for_device is not None:
            await check_rejoin_uncontested(
                relay, invite.space_id, invite.for_device, invite.created_at_ms, device_id
            )
        now_ms = relay.clock_ms()
        outcome, _ = await relay.writer.run_exclusive(
            invite.space_id,
            lambda store: store.redeem_invite(invite.invite_id, device_id, now_ms),
        )
        if outcome in _REDEEM_ERRORS:
            raise RelayError(_REDEEM_ERRORS[outcome])
        if outcome is RedeemOutcome.REDEEMED:
            logger.info(
                "device %s joined space %s by invite", short(device_id), short(invite.space_id)
            )
        return RedeemInviteResponse(space_id=invite.space_id.hex(), device_id=device_id.hex())
