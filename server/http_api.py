"""HTTP endpoints: spaces, invites, health, readiness, metrics (docs/PROTOCOL.md §7).

Bodies are the msgspec types of schemas/http.py. Refusals raise RelayError, which
app.py turns into ``ErrorBody{code, detail}`` with the code's HTTP status. Every write
runs in the writer task (``Writer.run_exclusive``), the only task that writes, so a
redemption and a push never race and the writer's view of members stays true.

Retries are safe, as for pushes: creating the same space with the same genesis, the
same invite with the same request, or redeeming an invite again from the device that
redeemed it, answers success again.

Looking up and redeeming invites is limited per invite and per client address
(``redeem_attempts_per_invite`` / ``_per_address`` in ``redeem_window_s``): the invite
secret cannot be guessed, but nobody gets to try indefinitely, and an address that
hammers one invite does not stop its rightful holder for long (429 ``rate_limited``
with Retry-After).

Every route declares each status it can answer in the OpenAPI document, with the
error codes behind it, so the document is a true contract (schemathesis checks it in
tests/relay_ops/test_openapi_contract.py).
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, PathParameter

from schemas.errors import ERRORS, ErrorCode
from schemas.http import (
    CreateInviteRequest,
    CreateInviteResponse,
    CreateSpaceRequest,
    CreateSpaceResponse,
    ErrorBody,
    HealthResponse,
    InviteInfo,
    InviteKind,
    LeaveRequest,
    LeaveResponse,
    RedeemInviteRequest,
    RedeemInviteResponse,
    RevokeDeviceRequest,
    RevokeDeviceResponse,
)
from schemas.ids import DeviceId, InviteId, SpaceId
from server import __version__
from server._limits import address_key
from server._log import logger, short
from server._runtime import Relay
from server.errors import RelayError
from server.membership import (
    MEMBERSHIP_ERRORS,
    check_genesis,
    check_invite_request,
    check_invite_usable,
    check_leave_request,
    check_redeem_proof,
    check_rejoin_target,
    check_revoke_request,
    is_retry_of,
    parse_device_id,
    parse_invite_id,
    parse_space_id,
)
from server.operator import refresh_book
from server.partners import rejoin_contest
from server.store import DeviceStatus, Membership, NewEvent, RedeemOutcome, RevokeOutcome

_INVITE_KINDS: dict[str, InviteKind] = {"device": "device", "rejoin": "rejoin"}
"""Stored invite kinds as shown to the redeemer; any other is a member invite."""

_REDEEM_ERRORS: dict[RedeemOutcome, ErrorCode] = {
    RedeemOutcome.NOT_FOUND: ErrorCode.INVITE_NOT_FOUND,
    RedeemOutcome.USED: ErrorCode.INVITE_USED,
    RedeemOutcome.EXPIRED: ErrorCode.INVITE_EXPIRED,
    RedeemOutcome.DEVICE_REVOKED: ErrorCode.DEVICE_REVOKED,
    RedeemOutcome.SPACE_FULL: ErrorCode.SPACE_FULL,
}


RelayDep = NamedDependency[Relay]
"""Handlers receive the Relay as the named dependency ``relay``."""

# Path ids: hex of either case (docs/PROTOCOL.md §2.2), declared so the OpenAPI document
# says so; one that does not match is 400 bad_request like any malformed request.
SpaceIdPath = Annotated[
    str,
    PathParameter(pattern="^[0-9a-fA-F]{32}$", description="space id, 32 hex digits"),
]
DeviceIdPath = Annotated[
    str,
    PathParameter(pattern="^[0-9a-fA-F]{64}$", description="device id, 64 hex digits"),
]
InviteIdPath = Annotated[
    str,
    PathParameter(pattern="^[0-9a-fA-F]{32}$", description="invite id, 32 hex digits"),
]

READY_TIMEOUT_S = 5.0
"""A readiness probe whose write has not committed by then answers not_ready."""
READY_CACHE_S = 1.0
"""Probes within this long of a good one reuse it: /readyz is no way to load the disk."""


def error_responses(*codes: ErrorCode) -> dict[int, ResponseSpec]:
    """OpenAPI responses for the error codes a route may answer, grouped by status.

    Every route may also answer 400 bad_request (a body or path that does not parse)."""
    by_status: dict[int, list[str]] = {}
    for code in (ErrorCode.BAD_REQUEST, *codes):
        by_status.setdefault(ERRORS[code].http_status, []).append(code.value)
    return {
        status: ResponseSpec(
            data_container=ErrorBody,
            generate_examples=False,
            description="ErrorBody with code " + " or ".join(f"`{c}`" for c in names),
        )
        for status, names in sorted(by_status.items())
    }


_WRITE_ERRORS = (ErrorCode.FRAME_TOO_LARGE, ErrorCode.SHUTTING_DOWN)
"""Any request with a body may be too large; any write may meet a relay shutting down."""
_INVITE_LIMIT = (ErrorCode.RATE_LIMITED,)


def _client_address(request: Request[Any, Any, Any]) -> str:
    return address_key(request.client.host if request.client else None)


def _count_address(relay: Relay, request: Request[Any, Any, Any]) -> None:
    address = _client_address(request)
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


def relay_from_state(state: State) -> Relay:
    """Dependency provider: the Relay built by the lifespan in app.py."""
    relay: Relay = state.relay
    return relay


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
            *_WRITE_ERRORS,
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
        gate.check(request.headers.get("authorization"), _client_address(request))
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
            *_WRITE_ERRORS,
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
            *_WRITE_ERRORS,
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
            *_WRITE_ERRORS,
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


class InvitesController(Controller):
    path = "/v1/invites"
    tags = ["invites"]  # noqa: RUF012 - litestar reads this class attribute as is

    @get(
        "/{invite_id:str}",
        responses=error_responses(
            ErrorCode.INVITE_NOT_FOUND,
            ErrorCode.INVITE_USED,
            ErrorCode.INVITE_EXPIRED,
            *_INVITE_LIMIT,
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
            *_INVITE_LIMIT,
            *_WRITE_ERRORS,
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


@get("/healthz", tags=["health"])
async def healthz() -> HealthResponse:
    """Liveness: the process answers. Does not touch the database."""
    return HealthResponse(status="ok", version=__version__)


@get(
    "/readyz",
    tags=["health"],
    responses=error_responses(ErrorCode.NOT_READY, ErrorCode.SHUTTING_DOWN),
)
async def readyz(relay: RelayDep) -> HealthResponse:
    """Readiness: the database takes a durable write now (503 not_ready if not), and
    the relay is not shutting down (503 shutting_down)."""
    if relay.lifecycle.draining:
        raise RelayError(ErrorCode.SHUTTING_DOWN)
    lifecycle = relay.lifecycle
    if time.monotonic() - lifecycle.ready_at > READY_CACHE_S:
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                await relay.writer.run_exclusive(
                    None, lambda store: store.check_writable(relay.clock_ms())
                )
        except RelayError:
            raise
        except Exception as exc:
            # A full disk, a read-only file system, a stuck writer: say so, not 500.
            logger.warning("readiness probe failed: %s", type(exc).__name__)
            raise RelayError(
                ErrorCode.NOT_READY, "the relay cannot write to its database right now"
            ) from None
        lifecycle.ready_at = time.monotonic()
    return HealthResponse(status="ready", version=__version__)


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"retry-after": str(max(1, math.ceil(seconds)))}
