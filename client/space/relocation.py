"""Giving a relay back what it lost, and moving a space to another relay
(docs/PROTOCOL.md §9.7). Works on a :class:`client.space.ports.SpaceLike`.

**Re-seed.** Every event this device accepted is signed by its author, so a relay can
take it back unchanged: the device pushes its whole verified copy, every author's
events, in the order it accepted them (a causal order, so each author's chain is in seq
order, which is what the relay's chain rules need). The relay acknowledges events it
still holds with their original seqs and stores the rest. If the relay refuses one
author's events (its rules: an unknown or removed author, a different event at that
place, a quota), that author's remaining events are left out and the rest is pushed in
another session, so one refusal does not stop the others. The re-seed also reads the
relay's history again from the start, so whatever it skipped before arrives.

**Moving.** A new relay does not know the space. The moving device registers it with
the genesis (``POST /v1/spaces``: anyone holding the genesis can, and it registers the
genesis author's device), then admits the other devices through the ordinary invite
flow: it creates a relay-only invite and redeems it itself for each device, binding the
device's own key. A device of its own partner is admitted with a ``device`` invite (so
the relay groups it with this device), and one device of each other partner with a
``member`` invite; that partner's other devices are admitted by that partner's device
when it moves in turn. These invites are never written to the log: they change only who
may sync at the relay, never who is a member, which clients decide from signed events
(docs/THREAT_MODEL.md §5.4). A device the relay does not know yet cannot sign in; it
waits until a device that is registered has moved.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import msgspec

from client.core import decisions
from client.core.decisions import ReseedRefusal
from client.errors import ClientErrorCode, RelayRefused, TrellisError
from client.keys import crypto, vault
from client.space.ports import SpaceLike
from client.space.reports import SyncReport
from client.store.localstore import now_ms
from client.store.relay_http import RelayEndpoint, RelayHttp
from schemas.http import (
    CreateInviteRequest,
    CreateSpaceRequest,
    RedeemInviteRequest,
    invite_create_transcript,
    invite_proof_transcript,
)
from schemas.ids import DeviceId

__all__ = ["MoveReport", "ReseedRefusal", "ReseedReport", "move_relay", "reseed", "reseed_if_due"]

RESEED_TIMEOUT_S = 600.0
REGISTRATION_INVITE_TTL_S = 600
_META_RESEED_DUE = "reseed_due"


@dataclass
class ReseedReport:
    pushed: int = 0
    """Envelopes offered to the relay."""
    stored: int = 0
    """Of those, how many the relay acknowledged (held already, or stored now)."""
    received: int = 0
    refusals: list[ReseedRefusal] = field(default_factory=list)


@dataclass
class MoveReport:
    relay: str
    registered: list[DeviceId] = field(default_factory=list)
    """Devices this device admitted at the new relay."""
    waiting: bool = False
    """The new relay does not know this device yet: a registered device must move first."""
    reseed: ReseedReport | None = None


async def reseed(space: SpaceLike, timeout_s: float = RESEED_TIMEOUT_S) -> ReseedReport:
    """Give the relay this device's whole verified copy back, round by round as
    :class:`client.core.decisions.ReseedPlan` decides (module docstring)."""
    envelopes = await space.stored_envelopes()
    plan = decisions.ReseedPlan(envelopes)
    report = ReseedReport(pushed=len(envelopes))
    while (step := plan.next_round()) is not None:
        sync = SyncReport()
        async with asyncio.timeout(timeout_s):
            await space.run_session(sync, push=step.push, from_start=step.from_start)
        report.received += sync.received
        plan.record(sync.acked_ids, sync.refusals)
    report.stored = len(plan.stored)
    report.refusals = plan.refusals
    if not report.refusals:
        await space.delete_local(_META_RESEED_DUE)
    return report


async def reseed_if_due(space: SpaceLike) -> ReseedReport | None:
    """After a move that could not finish (this device was not registered yet)."""
    if await space.get_local(_META_RESEED_DUE) is None:
        return None
    return await reseed(space)


async def move_relay(space: SpaceLike, url: str) -> MoveReport:
    endpoint = RelayEndpoint.parse(url)
    genesis = space.genesis_envelope()
    if genesis is None:
        raise TrellisError(
            "This device has not received the space's first event yet; sync first.",
            code=ClientErrorCode.NOT_SYNCED,
        )
    http = RelayHttp(endpoint)
    # Registering the same genesis again answers success: retrying a move is safe.
    await http.create_space(CreateSpaceRequest(space_id=space.space_id.hex(), genesis=genesis))
    # Even at the same address: a relay that forgot the space numbers it anew.
    await space.switch_relay(endpoint, {_META_RESEED_DUE: b"1"})
    report = MoveReport(relay=endpoint.url)
    try:
        report.registered = await _admit_devices(space, http)
    except RelayRefused as exc:
        if exc.code not in decisions.MOVE_WAITS_FOR:
            raise
        report.waiting = True
        return report
    report.reseed = await reseed(space)
    return report


async def _admit_devices(space: SpaceLike, http: RelayHttp) -> list[DeviceId]:
    """Register at the relay the devices this device may vouch for (module docstring)."""
    admitted = []
    for device_id, box_key, kind in decisions.devices_to_admit(space.membership, space.device_id):
        await _admit(space, http, device_id, box_key, kind)
        admitted.append(device_id)
    return admitted


async def _admit(
    space: SpaceLike, http: RelayHttp, device_id: DeviceId, box_key: bytes, kind: str
) -> None:
    keys = crypto.InviteKeys.from_secret(crypto.new_invite_secret())
    now = now_ms()
    unsigned = CreateInviteRequest(
        device_id=space.device_id.hex(),
        invite_id=keys.invite_id.hex(),
        verify_key=keys.verify_key,
        # No key material: the device already holds the space keys.
        wrapped_keys=keys.wrap(vault.encode_space_keys(vault.SpaceKeys(space_keys={}))),
        expires_at=now + REGISTRATION_INVITE_TTL_S * 1000,
        kind="device" if kind == "device" else "member",
        signed_at=now,
        signature=bytes(64),
    )
    request = msgspec.structs.replace(
        unsigned, signature=space.device.sign(invite_create_transcript(space.space_id, unsigned))
    )
    await http.create_invite(space.space_id.hex(), request)
    proof = keys.sign(invite_proof_transcript(space.space_id, keys.invite_id, device_id, box_key))
    await http.redeem_invite(
        keys.invite_id.hex(),
        RedeemInviteRequest(device_id=device_id.hex(), box_key=box_key, proof=proof),
    )
