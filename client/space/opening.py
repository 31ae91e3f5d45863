"""Opening a space: starting one, joining a partner's with an invite code, opening
the one on this device, and finishing a join once the invite's event has arrived
(docs/PROTOCOL.md §5). Each returns the :class:`client.space.state.SpaceState` that
the facade :class:`client.space.Space` wraps."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from client.core import decisions
from client.errors import ClientErrorCode, HomeError, InviteCodeError, TrellisError
from client.keys import crypto, vault
from client.space import devices
from client.space.reports import PendingJoin
from client.space.state import (
    META_CURSOR,
    META_DEVICE,
    META_JOIN,
    META_RELAY,
    META_SPACE,
    META_VAULT,
    SpaceState,
    load_from_disk,
)
from client.space.writing import accept_own, catch_up_own, seal
from client.store.home_lock import home_write_lock
from client.store.localstore import DB_FILE_NAME, LocalStore
from client.store.relay_http import RelayEndpoint, RelayHttp
from schemas.http import (
    CreateSpaceRequest,
    InviteInfo,
    RedeemInviteRequest,
    invite_proof_transcript,
)
from schemas.ids import InviteId, MemberId, SpaceId
from schemas.payloads import MemberJoined, SpaceCreated


async def create(
    home: Path, *, relay_url: str, name: str, passphrase: str, kdf_cost: vault.KdfCost | None
) -> SpaceState:
    """A new space with this device as its first: registered at the relay first, so
    nothing is written locally unless the relay has the genesis."""
    _require_passphrase(passphrase)
    store = await _fresh_store(home)
    try:
        endpoint = RelayEndpoint.parse(relay_url)
        device = crypto.DeviceKeys.generate()
        space_id = SpaceId(os.urandom(16))
        secrets = vault.DeviceSecrets(
            signing_seed=bytes(device.signing_key),
            box_secret=bytes(device.box_private_key),
            space_keys={0: os.urandom(crypto.SPACE_KEY_BYTES)},
        )
        state = SpaceState.build(home, store, secrets, space_id, endpoint)
        genesis = seal(
            state,
            SpaceCreated(
                member_id=os.urandom(16), name=_clean_name(name), box_key=device.box_public_key
            ),
            None,
        )
        await RelayHttp(endpoint).create_space(
            CreateSpaceRequest(space_id=space_id.hex(), genesis=genesis)
        )
        await store.put(
            {
                META_VAULT: await vault.seal_off_loop(passphrase, secrets, kdf_cost),
                META_SPACE: space_id,
                META_DEVICE: device.device_id,
                META_RELAY: endpoint.url.encode(),
                META_CURSOR: b"0",
            }
        )
        await accept_own(state, genesis, relay_seq=1, queue=False)
    except BaseException:
        await _discard_store(home, store)
        raise
    return state


async def join(
    home: Path,
    *,
    code: str,
    name: str,
    passphrase: str,
    relay_url: str | None,
    kdf_cost: vault.KdfCost | None,
) -> tuple[SpaceState, str]:
    """Redeem a partner's invite and save this device's keys; the state and the
    invite's kind. The caller syncs to write ``member_joined`` (:func:`complete_join`)."""
    _require_passphrase(passphrase)
    secret, code_relay = parse_code(code)
    relay = relay_url or code_relay
    if relay is None:
        raise InviteCodeError(
            "This code does not say which relay to use; add --relay "
            "with the address your partner uses."
        )
    endpoint = RelayEndpoint.parse(relay)
    invite = crypto.InviteKeys.from_secret(secret)
    info = await RelayHttp(endpoint).fetch_invite(invite.invite_id.hex())
    try:
        keys = vault.decode_space_keys(invite.unwrap(info.wrapped_keys))
    except (crypto.CryptoError, msgspec.MsgspecError):
        raise InviteCodeError(
            "This code does not open the invite. Check it was typed "
            "exactly, or ask your partner for a new one."
        ) from None
    space_id = SpaceId(bytes.fromhex(info.space_id))
    store = await _fresh_store(home)
    try:
        state = await _redeem(
            home, store, endpoint, invite, info, space_id, dict(keys.space_keys), name
        )
        await store.put(
            {
                META_VAULT: await vault.seal_off_loop(passphrase, state.secrets, kdf_cost),
                META_SPACE: space_id,
                META_DEVICE: state.device.device_id,
                META_RELAY: endpoint.url.encode(),
                META_CURSOR: b"0",
                META_JOIN: msgspec.msgpack.encode(state.join),
                **({devices.META_REJOIN: b"1"} if info.kind == "rejoin" else {}),
            }
        )
    except BaseException:
        await _discard_store(home, store)
        raise
    return state, info.kind


async def _redeem(
    home: Path,
    store: LocalStore,
    endpoint: RelayEndpoint,
    invite: crypto.InviteKeys,
    info: InviteInfo,
    space_id: SpaceId,
    space_keys: dict[int, bytes],
    name: str,
) -> SpaceState:
    """A new device key, bound to the invite at the relay; the join still pending."""
    device = crypto.DeviceKeys.generate()
    proof = invite.sign(
        invite_proof_transcript(space_id, invite.invite_id, device.device_id, device.box_public_key)
    )
    await RelayHttp(endpoint).redeem_invite(
        invite.invite_id.hex(),
        RedeemInviteRequest(
            device_id=device.device_id.hex(), box_key=device.box_public_key, proof=proof
        ),
    )
    secrets = vault.DeviceSecrets(
        signing_seed=bytes(device.signing_key),
        box_secret=bytes(device.box_private_key),
        space_keys=space_keys,
    )
    state = SpaceState.build(home, store, secrets, space_id, endpoint)
    state.join = PendingJoin(
        invite_id=invite.invite_id,
        kind=info.kind,
        name=_clean_name(name),
        member_id=os.urandom(16),
        proof=proof,
    )
    return state


async def open_home(home: Path, *, passphrase: str) -> SpaceState:
    """The space saved in ``home``, unlocked with ``passphrase`` and loaded."""
    path = home / DB_FILE_NAME
    if not path.exists():
        raise HomeError(
            "There is no Trellis space on this device yet. Start one with "
            "'trellis init', or join your partner's with 'trellis join'."
        )
    store = await LocalStore.open(path)
    try:
        sealed = await store.get(META_VAULT)
        space_id = await store.get(META_SPACE)
        relay = await store.get(META_RELAY)
        if sealed is None or space_id is None or relay is None:
            raise HomeError(
                "Setting up this device did not finish. Remove the folder "
                f"{home} and run 'trellis init' or 'trellis join' again."
            )
        secrets = await devices.unseal_rate_limited(store, passphrase, sealed, home=home)
        state = SpaceState.build(
            home, store, secrets, SpaceId(space_id), RelayEndpoint.parse(relay.decode())
        )
        await load_from_disk(state)
    except BaseException:
        await store.close()
        raise
    return state


async def complete_join(state: SpaceState) -> None:
    """Write ``member_joined`` once the partner's ``invite_issued`` has arrived."""
    pending = state.join
    if pending is None:
        return
    membership = state.verifier.membership
    invite = membership.invites.get(InviteId(pending.invite_id))
    if invite is None:
        # The partner's invite event has not reached the relay yet; try next sync.
        return
    member_id, name = decisions.joining_identity(
        membership, invite.invite_id, MemberId(pending.member_id), pending.name
    ) or (pending.member_id, pending.name)
    payload = MemberJoined(
        member_id=member_id,
        name=name,
        box_key=state.device.box_public_key,
        invite_id=pending.invite_id,
        proof=pending.proof,
    )
    async with home_write_lock(state.home):  # one writer per home (home_lock.py)
        await catch_up_own(state)
        if state.verifier.heads.get(state.device.device_id) is not None:
            state.join = None  # another window of this device finished the join first
        else:
            data = seal(state, payload, None)
            state.join = None
            try:
                await accept_own(state, data, relay_seq=None, queue=True)
            except BaseException:
                state.join = pending
                raise
    await state.store.delete_meta(META_JOIN)


def parse_code(code: str) -> tuple[bytes, str | None]:
    """Split ``SECRET[@RELAY]``; the secret part is forgiving of case and dashes."""
    secret_part, _, relay = code.strip().partition("@")
    secret = crypto.parse_invite_code(secret_part)
    if secret is None:
        raise InviteCodeError(
            "That is not an invite code. It looks like eight groups of "
            "four letters and digits; check it and try again."
        )
    return secret, relay or None


def _require_passphrase(passphrase: str) -> None:
    if len(passphrase) < 8:
        raise TrellisError(
            "Choose a passphrase of at least 8 characters: it protects everything on this device.",
            code=ClientErrorCode.WEAK_PASSPHRASE,
        )


require_passphrase = _require_passphrase


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not 1 <= len(cleaned) <= 80:
        raise TrellisError("A name needs 1 to 80 characters.", code=ClientErrorCode.BAD_NAME)
    return cleaned


async def _discard_store(home: Path, store: LocalStore) -> None:
    """Undo a setup that failed before anything was shared, so it can simply be rerun."""
    await store.close()
    for suffix in ("", "-wal", "-shm"):
        (home / (DB_FILE_NAME + suffix)).unlink(missing_ok=True)


async def _fresh_store(home: Path) -> LocalStore:
    path = home / DB_FILE_NAME
    if path.exists():
        raise HomeError(
            f"There is already a Trellis space in {home}. Use another --home "
            "folder for a second space."
        )
    return await LocalStore.open(path)
