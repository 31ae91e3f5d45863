"""HTTP endpoints for spaces: creating one, issuing invites, revoking a device, leaving
(docs/PROTOCOL.md §7). Invites are looked up and redeemed in http_invites.py; liveness
and readiness are in http_health.py; what they share is in _http_common.py.

Bodies are the msgspec types of schemas/http.py. Refusals raise RelayError, which
app.py turns into ``ErrorBody{code, detail}`` with the code's HTTP status. Every write
runs in the writer task (``Writer.run_exclusive``), the only task that writes, so a
redemption and a push never race and the writer's view of members stays true.

Retries are safe, as for pushes: creating the same space with the same genesis, the
same invite with the same request, or redeeming an invite again from the device that
redeemed it, answers success again.

Every route declares each status it can answer in the OpenAPI document, with the
error codes behind it, so the document is a true contract (schemathesis checks it in
tests/relay_ops/test_openapi_contract.py).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.params import JSONBody

from schemas.errors import ErrorCode
from schemas.http import (
    CreateInviteRequest,
    CreateInviteResponse,
    CreateSpaceRequest,
    CreateSpaceResponse,
    LeaveRequest,
    LeaveResponse,
    RevokeDeviceRequest,
    RevokeDeviceResponse,
)
from server._http_common import (
    WRITE_ERRORS,
    DeviceIdPath,
    RelayDep,
    SpaceIdPath,
    client_address,
    error_responses,
)
from server._log import logger, short
from server.errors import RelayError
from server.http_invites import check_rejoin_uncontested
from server.membership import (
    MEMBERSHIP_ERRORS,
    check_genesis,
    check_invite_request,
    check_leave_request,
    check_rejoin_target,
    check_revoke_request,
    is_retry_of,
    parse_device_id,
    parse_space_id,
)
from server.operator import refresh_book
from server.store import Membership, NewEvent, RevokeOutcome


class SpacesController(Controller):
    path = "/v1/spaces"
    tags = ["spaces"]  # noqa: RUF012 - litestar reads this class attribute as is

    @post(
        "/",
        status_code=201,
        responses=error_responses(
            ErrorCode.BAD_ENVELOPE,
            ErrorCode.WRONG_SPACE,
            ErrorCode.BAD_SIGNATURE,
            ErrorCode.ENVELOPE_TOO_LARGE,
            ErrorCode.SPACE_EXISTS,
            ErrorCode.CREATION_TOKEN_REQUIRED,
            ErrorCode.TOO_MANY_SPACES,
            ErrorCode.RELAY_FULL,
            *WRITE_ERRORS,
        ),
    )
    async def create_space(
        self,
        data: JSONBody[CreateSpaceRequest],
        request: Request[Any, Any, Any],
        relay: RelayDep,
    ) -> CreateSpaceResponse:
        """Register a new space with its creator device's genesis envelope (seq 1).
        Needs the operator's creation token when one is set (server/quotas.py)."""
        gate = request.app.state.creation_gate
        book = request.app.state.quota_book
        gate.check(request.headers.get("authorization"), client_address(request))
        checked = check_genesis(data, relay.settings.max_envelope_bytes)
        book.check_room(len(checked.canonical))
        now_ms = relay.clock_ms()
        genesis = NewEvent(
            space_id=parse_space_id(data.space_id),
            seq=1,
            event_id=checked.event_id,
            author=checked.author,
            author_seq=1,
            envelope=checked.canonical,
            received_at_ms=now_ms,
        )
        created = await relay.writer.run_exclusive(
            genesis.space_id, lambda store: store.create_space(genesis, now_ms)
        )
        if not created:
            first = await relay.store.events_after(genesis.space_id, 0, 1, len(genesis.envelope))
            if not (first.events and first.events[0].envelope == genesis.envelope):
                raise RelayError(ErrorCode.SPACE_EXISTS)
        else:
            book.created(len(genesis.envelope))
            logger.info(
                "space %s created by device %s", short(genesis.space_id), short(genesis.author)
            )
        return CreateSpaceResponse(space_id=genesis.space_id.hex(), seq=1)

    @post(
        "/{space_id:str}/invites",
        status_code=201,
        responses=error_responses(
            ErrorCode.AUTH_FAILED,
            ErrorCode.UNKNOWN_DEVICE,
            ErrorCode.DEVICE_REVOKED,
            ErrorCode.UNKNOWN_SPACE,
            ErrorCode.INVITE_EXISTS,
            ErrorCode.PARTNER_ACTIVE,
            *WRITE_ERRORS,
        ),
    )
    async def create_invite(
        self, space_id: SpaceIdPath, data: JSONBody[CreateInviteRequest], relay: RelayDep
    ) -> CreateInviteResponse:
        """Store an invite issued by an active device; its secret never reaches the relay."""
        space = parse_space_id(space_id)
        issuer = parse_device_id(data.device_id)
        membership = await relay.store.membership(space, issuer)
        if membership is not Membership.ACTIVE:
            raise RelayError(MEMBERSHIP_ERRORS[membership])
        settings = relay.settings
        invite = check_invite_request(
            space,
            data,
            relay.clock_ms(),
            clock_skew_s=settings.clock_skew_s,
            invite_ttl_max_s=settings.invite_ttl_max_s,
        )
        if invite.for_device is not None:
            check_rejoin_target(
                await relay.store.device_group(space, issuer),
                await relay.store.device_group(space, invite.for_device),
            )
            await check_rejoin_uncontested(relay, space, invite.for_device, None)
        created = await relay.writer.run_exclusive(space, lambda store: store.create_invite(invite))
        if not created:
            stored = await relay.store.get_invite(invite.invite_id)
            if stored is None or not is_retry_of(invite, stored):
                raise RelayError(ErrorCode.INVITE_EXISTS)
        else:
            logger.info("invite issued in space %s by device %s", short(space), short(issuer))
        return CreateInviteResponse(
            invite_id=invite.invite_id.hex(), expires_at=invite.expires_at_ms
        )

    @post(
        "/{space_id:str}/devices/{target:str}/revoke",
        status_code=200,
        responses=error_responses(
            ErrorCode.AUTH_FAILED,
            ErrorCode.UNKNOWN_DEVICE,
            ErrorCode.DEVICE_REVOKED,
            ErrorCode.UNKNOWN_SPACE,
            ErrorCode.NOT_YOUR_DEVICE,
            *WRITE_ERRORS,
        ),
    )
    async def revoke_device(
        self,
        space_id: SpaceIdPath,
        target: DeviceIdPath,
        data: JSONBody[RevokeDeviceRequest],
        relay: RelayDep,
    ) -> RevokeDeviceResponse:
        """Refuse a device from now on, asked by an active device of the same partner
        (the relay's member groups, docs/PROTOCOL.md §7.8); ends its open connections."""
        space = parse_space_id(space_id)
        target_id = parse_device_id(target)
        by = check_revoke_request(
            space, target_id, data, relay.clock_ms(), relay.settings.clock_skew_s
        )
        membership = await relay.store.membership(space, by)
        if membership is not Membership.ACTIVE:
            raise RelayError(MEMBERSHIP_ERRORS[membership])
        outcome = await relay.writer.run_exclusive(
            space, lambda store: store.revoke_device(space, by, target_id)
        )
        if outcome is RevokeOutcome.NOT_ACTIVE:
            raise RelayError(ErrorCode.DEVICE_REVOKED)
        if outcome is RevokeOutcome.UNKNOWN_TARGET:
            raise RelayError(ErrorCode.UNKNOWN_DEVICE, "no such device in this space")
        if outcome is RevokeOutcome.NOT_SAME_MEMBER:
            raise RelayError(
                ErrorCode.NOT_YOUR_DEVICE,
                "a device can only be revoked by its own partner's devices",
            )
        relay.hub.revoke(space, {target_id})
        if outcome is RevokeOutcome.REVOKED:
            logger.info("device %s revoked in space %s", short(target_id), short(space))
        return RevokeDeviceResponse(device_id=target_id.hex(), status="revoked")

    @post(
        "/{space_id:str}/leave",
        status_code=200,
        responses=error_responses(
            ErrorCode.AUTH_FAILED,
            ErrorCode.UNKNOWN_DEVICE,
            ErrorCode.DEVICE_REVOKED,
            ErrorCode.UNKNOWN_SPACE,
            *WRITE_ERRORS,
        ),
    )
    async def leave(
        self,
        space_id: SpaceIdPath,
        data: JSONBody[LeaveRequest],
        request: Request[Any, Any, Any],
        relay: RelayDep,
    ) -> LeaveResponse:
        """Refuse every device of the asking device's partner; when nobody remains,
        delete the space's data (docs/PROTOCOL.md §7.9)."""
        space = parse_space_id(space_id)
        by = check_leave_request(space, data, relay.clock_ms(), relay.settings.clock_skew_s)
        membership = await relay.store.membership(space, by)
        if membership is not Membership.ACTIVE:
            raise RelayError(MEMBERSHIP_ERRORS[membership])
        outcome = await relay.writer.run_exclusive(space, lambda store: store.leave(space, by))
        if not outcome.active:
            raise RelayError(ErrorCode.DEVICE_REVOKED)
        relay.hub.revoke(space, set(outcome.revoked))
        if outcome.space_deleted:
            await refresh_book(relay, request.app.state.quota_book)
        logger.info(
            "a member left space %s (%d devices revoked%s)",
            short(space),
            len(outcome.revoked),
            ", space deleted" if outcome.space_deleted else "",
        )
        return LeaveResponse(
            revoked=[d.hex() for d in outcome.revoked], space_deleted=outcome.space_deleted
        )
