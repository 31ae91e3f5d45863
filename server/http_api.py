"""HTTP endpoints: spaces, invites, health (docs/PROTOCOL.md §7).

Bodies are the msgspec types of schemas/http.py. Refusals raise RelayError, which
app.py turns into ``ErrorBody{code, detail}`` with the code's HTTP status. Every write
runs in the writer task (``Writer.run_exclusive``), the only task that writes, so a
redemption and a push never race and the writer's view of members stays true.

Retries are safe, as for pushes: creating the same space with the same genesis, the
same invite with the same request, or redeeming an invite again from the device that
redeemed it, answers success again.
"""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from schemas.errors import ErrorCode
from schemas.http import (
    CreateInviteRequest,
    CreateInviteResponse,
    CreateSpaceRequest,
    CreateSpaceResponse,
    HealthResponse,
    InviteInfo,
    RedeemInviteRequest,
    RedeemInviteResponse,
)
from server import __version__
from server._log import logger, short
from server._runtime import Relay
from server.errors import RelayError
from server.membership import (
    MEMBERSHIP_ERRORS,
    check_genesis,
    check_invite_request,
    check_invite_usable,
    check_redeem_proof,
    is_retry_of,
    parse_device_id,
    parse_invite_id,
    parse_space_id,
)
from server.store import Membership, NewEvent, RedeemOutcome

_REDEEM_ERRORS: dict[RedeemOutcome, ErrorCode] = {
    RedeemOutcome.NOT_FOUND: ErrorCode.INVITE_NOT_FOUND,
    RedeemOutcome.USED: ErrorCode.INVITE_USED,
    RedeemOutcome.EXPIRED: ErrorCode.INVITE_EXPIRED,
    RedeemOutcome.DEVICE_REVOKED: ErrorCode.DEVICE_REVOKED,
}


RelayDep = NamedDependency[Relay]
"""Handlers receive the Relay as the named dependency ``relay``."""


def relay_from_state(state: State) -> Relay:
    """Dependency provider: the Relay built by the lifespan in app.py."""
    relay: Relay = state.relay
    return relay


class SpacesController(Controller):
    path = "/v1/spaces"
    tags = ["spaces"]  # noqa: RUF012 - litestar reads this class attribute as is

    @post("/", status_code=201)
    async def create_space(
        self, data: JSONBody[CreateSpaceRequest], relay: RelayDep
    ) -> CreateSpaceResponse:
        """Register a new space with its creator device's genesis envelope (seq 1)."""
        checked = check_genesis(data, relay.settings.max_envelope_bytes)
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
            logger.info(
                "space %s created by device %s", short(genesis.space_id), short(genesis.author)
            )
        return CreateSpaceResponse(space_id=genesis.space_id.hex(), seq=1)

    @post("/{space_id:str}/invites", status_code=201)
    async def create_invite(
        self, space_id: FromPath[str], data: JSONBody[CreateInviteRequest], relay: RelayDep
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


class InvitesController(Controller):
    path = "/v1/invites"
    tags = ["invites"]  # noqa: RUF012 - litestar reads this class attribute as is

    @get("/{invite_id:str}")
    async def get_invite(self, invite_id: FromPath[str], relay: RelayDep) -> InviteInfo:
        """What a new device needs to join: the wrapped space keys, if still usable."""
        invite = await relay.store.get_invite(parse_invite_id(invite_id))
        if invite is None:
            raise RelayError(ErrorCode.INVITE_NOT_FOUND)
        check_invite_usable(invite, relay.clock_ms())
        return InviteInfo(
            invite_id=invite.invite_id.hex(),
            space_id=invite.space_id.hex(),
            wrapped_keys=invite.wrapped_keys,
            expires_at=invite.expires_at_ms,
            kind="device" if invite.kind == "device" else "member",
        )

    @post("/{invite_id:str}/redeem", status_code=200)
    async def redeem_invite(
        self, invite_id: FromPath[str], data: JSONBody[RedeemInviteRequest], relay: RelayDep
    ) -> RedeemInviteResponse:
        """Admit a device, proven by the invite key; single use, enforced atomically."""
        invite = await relay.store.get_invite(parse_invite_id(invite_id))
        if invite is None:
            raise RelayError(ErrorCode.INVITE_NOT_FOUND)
        device_id = check_redeem_proof(invite, data)
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
