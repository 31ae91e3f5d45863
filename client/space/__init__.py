"""The client library: one device's view of one shared space.

An app embeds this without the CLI::

    space = await Space.create(home, relay_url="http://127.0.0.1:8765", name="Sam",
                               passphrase=passphrase)
    code = await space.invite()
    await space.append(JournalEntry(text="Went for a walk."))
    await space.sync()
    for item in space.journal():
        ...
    await space.close()

Writing is local-first: :meth:`Space.append` stores the signed, encrypted event and
queues it; :meth:`Space.sync` pushes and pulls. Everything received passes the
verifier before it is stored or shown (docs/PROTOCOL.md §9).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from client.core import decisions
from client.core.integrity import SPLIT_VIEW_GRACE_MS, Finding, assess, waiting_item
from client.core.session import (
    Acknowledged,
    CursorAdvanced,
    PushRefused,
    Received,
    RelayBehind,
    RelayRewound,
    SessionEvent,
    SyncSession,
    UpToDate,
)
from client.core.verify import LogVerifier, Member, Membership, Verdict, VerifiedEvent
from client.errors import (
    ClientErrorCode,
    HomeError,
    InviteCodeError,
    LocalDataError,
    RelayUnreachable,
    TrellisError,
)
from client.keys import crypto, signatures, vault
from client.space import devices, relocation
from client.store.integrity_names import name_token, names_in
from client.store.integrity_store import RelayTracker
from client.store.localstore import DB_FILE_NAME, LocalStore, NewEvent, now_ms
from client.store.relay_http import RelayEndpoint, RelayHttp
from client.store.transport import SyncConnection
from client.views import Moment, Views, build_views, write_rules
from client.views.audit import AuditReport, audit_log, practice_problems, violation_findings
from client.views.fold import JournalItem, causal_order, fold_journal
from client.views.recovery import Profile, fold_profiles
from schemas.envelope import encode_envelope
from schemas.http import (
    CreateInviteRequest,
    CreateSpaceRequest,
    RedeemInviteRequest,
    invite_create_transcript,
    invite_proof_transcript,
)
from schemas.ids import DeviceId, EventId, InviteId, MemberId, SpaceId
from schemas.payloads import (
    EventBody,
    InviteIssued,
    MemberJoined,
    Payload,
    PayloadFormatError,
    SpaceCreated,
    decode_payload,
    encode_payload,
)

DEFAULT_INVITE_TTL_S = 24 * 3600
MAX_INVITE_TTL_S = 7 * 24 * 3600

_META_SPACE = "space_id"
_META_DEVICE = "device_id"
_META_RELAY = "relay"
_META_CURSOR = "cursor"
_META_LAST_SYNC = "last_sync_at"
_META_VAULT = "vault"
_META_JOIN = "join_pending"

EventCallback = Callable[[VerifiedEvent], Awaitable[None] | None]


class _PendingJoin(msgspec.Struct):
    """A redeemed invite whose ``member_joined`` event is not written yet: it must
    follow the partner's ``invite_issued`` event, which arrives with the first sync."""

    invite_id: bytes
    kind: str
    name: str
    member_id: bytes
    proof: bytes


@dataclass
class SyncReport:
    received: int = 0
    acknowledged: int = 0
    rejected: int = 0
    pending: int = 0
    refused: list[str] = field(default_factory=list)
    relay_behind: bool = False
    """The relay held less than this device had already read from it."""
    acked_ids: set[bytes] = field(default_factory=set)
    refusals: list[PushRefused] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DeviceView:
    device_id: DeviceId
    this_device: bool


@dataclass(frozen=True, slots=True)
class MemberView:
    member_id: MemberId
    name: str
    devices: list[DeviceView]
    is_me: bool


@dataclass(frozen=True, slots=True)
class Status:
    relay: str
    space_id: SpaceId
    device_id: DeviceId
    members: list[MemberView]
    events: int
    outbox: int
    pending: int
    rejected: int
    last_sync_at: int | None
    joined: bool
    integrity: list[Finding] = field(default_factory=list)
    """The findings that stand (docs/PROTOCOL.md §9.6); empty when all is well."""


class Space:
    """One device in one space. Create it with :meth:`create`, :meth:`join` or
    :meth:`open`; always :meth:`close` it."""

    def __init__(
        self,
        home: Path,
        store: LocalStore,
        secrets: vault.DeviceSecrets,
        space_id: SpaceId,
        endpoint: RelayEndpoint,
    ) -> None:
        self.home = home
        self._store = store
        self._secrets = secrets
        self.device = crypto.DeviceKeys.from_seeds(secrets.signing_seed, secrets.box_secret)
        self.space_id = space_id
        self.endpoint = endpoint
        self._verifier = LogVerifier(
            space_id,
            secrets.space_keys,
            me=self.device.device_id,
            open_sealed=lambda sealed: crypto.open_sealed(self.device.box_private_key, sealed),
        )
        self._events: dict[EventId, VerifiedEvent] = {}
        self._pending: dict[EventId, tuple[bytes, int | None]] = {}
        self._rejected: set[bytes] = set()
        self._join: _PendingJoin | None = None
        self._connection: SyncConnection | None = None
        self._profiles: dict[MemberId, Profile] = {}
        self._profiles_at = -1
        self._tracker = RelayTracker(store.db)
        self.split_view_grace_ms = SPLIT_VIEW_GRACE_MS
        """How long a partner may write without our events before it is a warning."""

    # -- lifecycle ----------------------------------------------------------------

    @classmethod
    async def create(
        cls,
        home: Path,
        *,
        relay_url: str,
        name: str,
        passphrase: str,
        kdf_cost: vault.KdfCost | None = None,
    ) -> Space:
        """A new space with this device as its first: registered at the relay first,
        so nothing is written locally unless the relay has the genesis. ``kdf_cost``:
        the vault's Argon2id cost, the real one unless a test passes a cheap one."""
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
            space = cls(home, store, secrets, space_id, endpoint)
            genesis = space._seal(
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
                    _META_VAULT: await vault.seal_off_loop(passphrase, secrets, kdf_cost),
                    _META_SPACE: space_id,
                    _META_DEVICE: device.device_id,
                    _META_RELAY: endpoint.url.encode(),
                    _META_CURSOR: b"0",
                }
            )
            await space._accept_own(genesis, relay_seq=1, queue=False)
        except BaseException:
            await _discard_store(home, store)
            raise
        return space

    @classmethod
    async def join(
        cls,
        home: Path,
        *,
        code: str,
        name: str,
        passphrase: str,
        relay_url: str | None = None,
        kdf_cost: vault.KdfCost | None = None,
    ) -> Space:
        """Redeem a partner's invite, then sync and write ``member_joined``."""
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
        http = RelayHttp(endpoint)
        info = await http.fetch_invite(invite.invite_id.hex())
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
            device = crypto.DeviceKeys.generate()
            proof = invite.sign(
                invite_proof_transcript(
                    space_id, invite.invite_id, device.device_id, device.box_public_key
                )
            )
            await http.redeem_invite(
                invite.invite_id.hex(),
                RedeemInviteRequest(
                    device_id=device.device_id.hex(), box_key=device.box_public_key, proof=proof
                ),
            )
            secrets = vault.DeviceSecrets(
                signing_seed=bytes(device.signing_key),
                box_secret=bytes(device.box_private_key),
                space_keys=dict(keys.space_keys),
            )
            pending = _PendingJoin(
                invite_id=invite.invite_id,
                kind=info.kind,
                name=_clean_name(name),
                member_id=os.urandom(16),
                proof=proof,
            )
            await store.put(
                {
                    _META_VAULT: await vault.seal_off_loop(passphrase, secrets, kdf_cost),
                    _META_SPACE: space_id,
                    _META_DEVICE: device.device_id,
                    _META_RELAY: endpoint.url.encode(),
                    _META_CURSOR: b"0",
                    _META_JOIN: msgspec.msgpack.encode(pending),
                    **({devices.META_REJOIN: b"1"} if info.kind == "rejoin" else {}),
                }
            )
            space = cls(home, store, secrets, space_id, endpoint)
            space._join = pending
        except BaseException:
            await _discard_store(home, store)
            raise
        # Redeemed and saved: if this first sync fails, the join completes on the next
        # successful one, and ``space.joined`` tells the caller which happened.
        # Only passing failures wait for the next sync; a permanent one (this device
        # refused, the space gone) is the caller's to hear now (core/decisions.py).
        try:
            await space.sync()
            if info.kind == "rejoin":
                # Lost every device: the old ones are removed in the same step (§5.9).
                await devices.finish_rejoin(space)
        except TrellisError as exc:
            if not is_passing_failure(exc):
                await space.close()
                raise
        return space

    @classmethod
    async def open(cls, home: Path, *, passphrase: str) -> Space:
        path = home / DB_FILE_NAME
        if not path.exists():
            raise HomeError(
                "There is no Trellis space on this device yet. Start one with "
                "'trellis init', or join your partner's with 'trellis join'."
            )
        store = await LocalStore.open(path)
        try:
            sealed = await store.get(_META_VAULT)
            space_id = await store.get(_META_SPACE)
            relay = await store.get(_META_RELAY)
            if sealed is None or space_id is None or relay is None:
                raise HomeError(
                    "Setting up this device did not finish. Remove the folder "
                    f"{home} and run 'trellis init' or 'trellis join' again."
                )
            secrets = await devices.unseal_rate_limited(store, passphrase, sealed)
            space = cls(
                home, store, secrets, SpaceId(space_id), RelayEndpoint.parse(relay.decode())
            )
            await space._load()
        except BaseException:
            await store.close()
            raise
        return space

    async def close(self) -> None:
        await self._store.close()

    async def __aenter__(self) -> Space:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def _load(self) -> None:
        for stored in await self._store.load_events():
            outcome = self._verifier.admit(stored.envelope, trusted=True)
            if outcome.verdict is not Verdict.ACCEPTED or outcome.event is None:
                raise LocalDataError(
                    "This device's saved history does not check out "
                    f"({outcome.code or outcome.verdict})."
                )
            self._events[outcome.event.event_id] = outcome.event
        for stored in await self._store.load_pending():
            self._pending[EventId(stored.event_id)] = (stored.envelope, stored.relay_seq)
        self._rejected = {e for e, _, _ in await self._store.rejected() if e is not None}
        join = await self._store.get(_META_JOIN)
        if join is not None:
            self._join = msgspec.msgpack.decode(join, type=_PendingJoin)
        await self._tracker.load()

    @property
    def home_notices(self) -> list[str]:
        """Sentences about files in the home folder that were made private on opening."""
        return list(self._store.notices)

    # -- writing ------------------------------------------------------------------

    @property
    def device_id(self) -> DeviceId:
        return self.device.device_id

    @property
    def joined(self) -> bool:
        return self._join is None

    async def append(self, payload: Payload, *, occurred_at: int | None = None) -> VerifiedEvent:
        """Sign, encrypt and store one event locally; it is pushed at the next sync
        (or at once while a sync connection is open)."""
        check_payload(payload)
        me = self.me()
        write_rules.check_write(
            payload, None if me is None else me.member_id, self.events, self.membership
        )
        if self._join is not None:
            raise TrellisError(
                "Joining is not finished yet: run 'trellis sync' once your "
                "partner's device is online.",
                code=ClientErrorCode.JOIN_INCOMPLETE,
            )
        return await self._accept_own(self._seal(payload, occurred_at), relay_seq=None, queue=True)

    def _seal(self, payload: Payload, occurred_at: int | None) -> bytes:
        head = self._verifier.heads.get(self.device_id)
        seq, prev = (head[0] + 1, head[1]) if head else (1, None)
        deps = self._verifier.frontier(excluding=self.device_id)
        recorded_at = now_ms()
        body = EventBody(
            deps=list(deps),
            lamport=self._verifier.next_lamport(deps, prev),
            recorded_at=recorded_at,
            occurred_at=recorded_at if occurred_at is None else occurred_at,
            payload=msgspec.Raw(encode_payload(payload)),
        )
        epoch = max(self._verifier.space_keys)
        events_key = self._verifier.events_key(epoch)
        if events_key is None:
            raise LocalDataError("This device has no key for the space's current epoch.")
        env = crypto.seal_event(
            device=self.device,
            space_id=self.space_id,
            seq=seq,
            prev=prev,
            epoch=epoch,
            events_key=events_key,
            plaintext=msgspec.msgpack.encode(body),
        )
        return encode_envelope(env)

    async def _accept_own(
        self, data: bytes, *, relay_seq: int | None, queue: bool
    ) -> VerifiedEvent:
        outcome = self._verifier.admit(data, trusted=True)
        if outcome.event is None:
            raise LocalDataError(
                f"This device refused its own new event ({outcome.code}); nothing was saved."
            )
        event = outcome.event
        await self._store.add_events([_new_event(event, relay_seq)], outbox=queue)
        self._events[event.event_id] = event
        if queue and self._connection is not None:
            self._tracker.sending([event.event_id])
            self._connection.session.queue([data])
            await self._connection.flush()
        return event

    async def invite(
        self,
        *,
        ttl_s: int = DEFAULT_INVITE_TTL_S,
        kind: str = "member",
        for_member: MemberId | None = None,
    ) -> str:
        """Register an invite at the relay, record it in a signed event, push it, and
        return the code to give the partner (secret: show it only to them).

        ``kind="rejoin"`` with ``for_member`` (the other partner, who lost every device)
        lets that partner rejoin as themselves (client/space/devices.py, rejoin_invite)."""
        if kind == "member" and len(self.membership.members) >= 2:
            # A space has exactly two partners, for its whole life (§9.9).
            raise TrellisError(
                "Your partner has already joined, and a shared space is for the two of you "
                "only. To add another device of your own, run 'trellis device invite'.",
                code=ClientErrorCode.PARTNER_ALREADY_JOINED,
            )
        for_device: DeviceId | None = None
        if kind == "rejoin":
            for_device = (
                None if for_member is None else decisions.rejoin_device(self.membership, for_member)
            )
            if for_device is None:
                raise TrellisError(
                    "Your partner has no device left in the space to replace.",
                    code=ClientErrorCode.NO_PARTNER_DEVICE,
                )
        if not 60 <= ttl_s <= MAX_INVITE_TTL_S:
            raise TrellisError(
                "An invite can last from one minute to seven days.",
                code=ClientErrorCode.BAD_INVITE_TTL,
            )
        secret = crypto.new_invite_secret()
        keys = crypto.InviteKeys.from_secret(secret)
        now = now_ms()
        expires_at = now + ttl_s * 1000
        unsigned = CreateInviteRequest(
            device_id=self.device_id.hex(),
            invite_id=keys.invite_id.hex(),
            verify_key=keys.verify_key,
            wrapped_keys=keys.wrap(
                vault.encode_space_keys(vault.SpaceKeys(space_keys=self._verifier.space_keys))
            ),
            expires_at=expires_at,
            kind="device" if kind == "device" else "rejoin" if kind == "rejoin" else "member",
            signed_at=now,
            signature=bytes(64),
            for_device=None if for_device is None else for_device.hex(),
        )
        request = msgspec.structs.replace(
            unsigned, signature=self.device.sign(invite_create_transcript(self.space_id, unsigned))
        )
        await RelayHttp(self.endpoint).create_invite(self.space_id.hex(), request)
        await self.append(
            InviteIssued(
                invite_id=keys.invite_id,
                verify_key=keys.verify_key,
                kind=request.kind,
                expires_at=expires_at,
                for_member=for_member if kind == "rejoin" else None,
            )
        )
        await self.sync()
        return f"{crypto.format_invite_code(secret)}@{self.endpoint.url}"

    # -- syncing ------------------------------------------------------------------

    async def sync(
        self,
        *,
        watch: bool = False,
        on_event: EventCallback | None = None,
        timeout_s: float | None = 120.0,
        retry_for_s: float = 0.0,
        connected: asyncio.Event | None = None,
    ) -> SyncReport:
        """Push the outbox and pull until up to date.

        ``retry_for_s`` keeps trying through passing failures (relay restarting or out
        of reach) for that long, with backoff, before giving up. With ``watch``, stay
        connected until cancelled, reconnecting after passing failures, and call
        ``on_event`` for each partner event as it arrives. Failures that retrying cannot
        fix (this device was removed, the space is gone) are raised at once.
        ``connected`` is set once a session has signed in and read up to the relay's
        head: from then on a partner's new event reaches ``on_event`` live.
        """
        report = SyncReport()
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + retry_for_s
        delay: float | None = None
        while True:
            started = loop.time()
            try:
                if watch:
                    await self._sync_once(
                        report, on_event, until_up_to_date=False, connected=connected
                    )
                else:
                    async with asyncio.timeout(timeout_s):
                        await self._sync_once(
                            report, on_event, until_up_to_date=True, connected=connected
                        )
                        # A partner left or a revocation lacks its rotation (devices.py).
                        if await devices.rotate_if_due(self):
                            await self._sync_once(report, on_event, until_up_to_date=True)
                    return report
            except TrellisError as exc:
                if not is_passing_failure(exc) or (not watch and loop.time() >= give_up_at):
                    raise
            delay = decisions.next_retry_delay(delay, loop.time() - started)
            await asyncio.sleep(delay)

    async def _sync_once(
        self,
        report: SyncReport,
        on_event: EventCallback | None,
        *,
        until_up_to_date: bool,
        push: list[bytes] | None = None,
        from_start: bool = False,
        connected: asyncio.Event | None = None,
    ) -> None:
        """One session. ``push`` replaces the outbox (a re-seed); ``from_start`` reads
        the relay's whole history again."""
        cursor = int((await self._store.get(_META_CURSOR) or b"0").decode())
        # Seqs the relay skipped or filled with refused bytes are read once more (§9.6).
        refetch = self._tracker.view.refetch_from(cursor)
        start = 0 if from_start else cursor if refetch is None else refetch
        outbox = await self._store.outbox() if push is None else push
        session = SyncSession(
            space_id=self.space_id,
            device_id=self.device_id,
            host=self.endpoint.host,
            sign=self.device.sign,
            cursor=start,
            outbox=outbox,
            anchor=self._tracker.view.anchor(start),
        )
        self._tracker.begin_session(outbox, read_from=start)
        connection = SyncConnection(self.endpoint, session)

        async def handle(event: SessionEvent) -> None:
            match event:
                case Received():
                    fresh = await self._receive([(s.envelope, s.seq) for s in event.events], report)
                    if on_event is not None:
                        for verified in fresh:
                            result = on_event(verified)
                            if result is not None:
                                await result
                case Acknowledged():
                    await self._store.mark_acknowledged((a.event_id, a.seq) for a in event.acks)
                    self._tracker.acked(event.acks)
                    report.acknowledged += len(event.acks)
                    report.acked_ids.update(a.event_id for a in event.acks)
                case CursorAdvanced():
                    # The cursor and the relay record it covers, in one transaction.
                    await self._tracker.save(cursor=event.cursor)
                case PushRefused():
                    report.refused.append(event.code)
                    report.refusals.append(event)
                case RelayBehind() | RelayRewound():
                    report.relay_behind = True
                    await self._tracker.relay_lost_data(self._events)
                case UpToDate():
                    # Read up to the relay's head: what is still missing is overdue.
                    await self._tracker.read_complete(session.cursor)
                    await self._refresh_integrity()
                    if connected is not None:
                        connected.set()
                case _:
                    pass
            if self._join is not None and session.up_to_date:
                await self._complete_join()

        self._connection = connection
        try:
            await connection.run(handle, until_up_to_date=until_up_to_date)
        finally:
            self._connection = None
            await self._tracker.challenged(session.challenge)
            await self._tracker.save()
            if self._tracker.changed_since_published:
                await self._refresh_integrity()
        await self._store.put({_META_LAST_SYNC: str(now_ms()).encode()})
        report.pending = len(self._pending)

    async def _receive(
        self, items: list[tuple[bytes, int | None]], report: SyncReport
    ) -> list[VerifiedEvent]:
        """Admit envelopes from the relay; store what passes, hold or record the rest."""
        # Signatures first, a page at a time on every core (client/keys/signatures.py).
        verified = signatures.valid_signatures([data for data, _ in items])
        # What passes, waits or fails, held events retried: client/core/decisions.py.
        page = decisions.admit_page(self._verifier, items, self._pending, self._rejected, verified)
        for served in page.served:
            self._tracker.served(served.relay_seq, served.data, served.event_id, valid=served.valid)
        for h in page.held:
            self._pending[h.event_id] = (h.data, h.relay_seq)
            await self._store.put_pending(h.event_id, h.data, h.relay_seq, h.waiting_for)
        for event_id in page.released:
            self._pending.pop(event_id, None)
        for r in page.rejected:
            self._rejected.add(r.event_id or b"")
            await self._store.add_rejected(r.event_id, r.data, r.code, r.reason, r.relay_seq)
        report.rejected += len(page.rejected)
        accepted = page.accepted
        if accepted:
            await self._store.add_events(_new_event(e, s) for e, s in accepted)
            for event, _ in accepted:
                self._events[event.event_id] = event
        report.received += len(accepted)
        return [e for e, _ in accepted if e.author != self.device_id]

    async def _complete_join(self) -> None:
        pending = self._join
        if pending is None:
            return
        invite = self._verifier.membership.invites.get(InviteId(pending.invite_id))
        if invite is None:
            # The partner's invite event has not reached the relay yet; try next sync.
            return
        member_id, name = decisions.joining_identity(
            self._verifier.membership, invite.invite_id, MemberId(pending.member_id), pending.name
        ) or (pending.member_id, pending.name)
        payload = MemberJoined(
            member_id=member_id,
            name=name,
            box_key=self.device.box_public_key,
            invite_id=pending.invite_id,
            proof=pending.proof,
        )
        data = self._seal(payload, None)
        self._join = None
        try:
            await self._accept_own(data, relay_seq=None, queue=True)
        except BaseException:
            self._join = pending
            raise
        await self._store.delete_meta(_META_JOIN)

    # -- reading ------------------------------------------------------------------

    def events(self) -> list[VerifiedEvent]:
        """Every accepted event in the deterministic causal order."""
        return causal_order(self._events.values())

    def journal(self, *, include_retracted: bool = False) -> list[JournalItem]:
        items = fold_journal(self.events(), self._verifier.membership)
        return items if include_retracted else [i for i in items if not i.retracted]

    async def audit(self, moment: Moment | None = None) -> AuditReport:
        """Re-check everything stored on this device from nothing (``trellis verify``)."""
        stored = [e.envelope for e in await self._store.load_events()]
        return audit_log(
            self.space_id,
            self._verifier.space_keys,
            stored,
            await self._store.rejected(),
            moment or Moment.now(),
            self.integrity(),
        )

    def views(self, moment: Moment | None = None) -> Views:
        """Every view (journal, agreements, disclosures, ...) as of ``moment``."""
        return build_views(self.events(), self._verifier.membership, moment or Moment.now())

    def events_key_for_epoch(self, epoch: int) -> bytes:
        key = self._verifier.events_key(epoch)
        if key is None:
            raise LocalDataError(f"This device holds no key for epoch {epoch}.")
        return key

    @property
    def membership(self) -> Membership:
        return self._verifier.membership

    def profiles(self) -> dict[MemberId, Profile]:
        """Names and roles, folded in causal order (cached until new events arrive)."""
        if self._profiles_at != len(self._events):
            self._profiles = fold_profiles(self.events(), self._verifier.membership)
            self._profiles_at = len(self._events)
        return self._profiles

    def member_name(self, member_id: bytes) -> str:
        profile = self.profiles().get(MemberId(member_id))
        return profile.name if profile else "someone not in this space"

    def author_name(self, device_id: bytes) -> str:
        member = self._verifier.membership.member_of(device_id)
        return self.member_name(member.member_id) if member else "someone not in this space"

    def me(self) -> Member | None:
        return self._verifier.membership.member_of(self.device_id)

    def members(self) -> list[MemberView]:
        m = self._verifier.membership
        mine = m.devices.get(self.device_id)
        return [
            MemberView(
                member_id=member.member_id,
                name=self.member_name(member.member_id),
                devices=[
                    DeviceView(d.device_id, d.device_id == self.device_id)
                    for d in m.devices.values()
                    if d.member_id == member.member_id
                ],
                is_me=mine is not None and mine.member_id == member.member_id,
            )
            for member in m.members.values()
        ]

    def safety_number(self) -> str:
        """Over the *active* devices: it changes when a device is added or removed."""
        m = self._verifier.membership
        return crypto.safety_number(self.space_id, [d for d in m.devices if m.is_active(d)])

    # -- devices and local settings (client/space/devices.py) -----------------------------

    def chain_seq(self, device_id: bytes) -> int:
        """The last seq of ``device_id``'s chain that this device holds (0: none)."""
        head = self._verifier.heads.get(DeviceId(device_id))
        return 0 if head is None else head[0]

    def epoch_keys(self) -> dict[int, bytes]:
        return self._verifier.space_keys

    async def get_local(self, key: str) -> bytes | None:
        return await self._store.get(key)

    async def put_local(self, items: dict[str, bytes]) -> None:
        await self._store.put(items)

    async def reseal(self, passphrase: str, *, kdf_cost: vault.KdfCost | None = None) -> None:
        """Seal this device's keys with a new passphrase, replacing the old vault."""
        _require_passphrase(passphrase)
        sealed = await vault.seal_off_loop(passphrase, self._secrets, kdf_cost)
        await self._store.put({_META_VAULT: sealed})

    async def status(self) -> Status:
        last = await self._store.get(_META_LAST_SYNC)
        return Status(
            relay=self.endpoint.url,
            space_id=self.space_id,
            device_id=self.device_id,
            members=self.members(),
            events=len(self._events),
            outbox=await self._store.outbox_size(),
            pending=len(self._pending),
            rejected=len(await self._store.rejected()),
            last_sync_at=int(last.decode()) if last else None,
            joined=self.joined,
            # Whatever makes 'trellis verify' fail is here too (§10.6).
            integrity=[
                *self.integrity(),
                *violation_findings(practice_problems(self.views())),
            ],
        )

    # -- tamper evidence and recovery (docs/PROTOCOL.md §9.6, §9.7) -------------------

    def integrity(self) -> list[Finding]:
        """The findings that stand now, proofs first; empty when all is well."""
        return [
            dataclasses.replace(f, message=names_in(f.message, self.author_name))
            for f in self._tracker.findings
        ]

    async def reseed(self) -> relocation.ReseedReport:
        """Push this device's whole verified copy (every author's events) back to the
        relay, and read the relay's history again from the start."""
        return await relocation.reseed(self)

    async def move_relay(self, url: str) -> relocation.MoveReport:
        """Move this space to the relay at ``url``: register it there, then re-seed."""
        return await relocation.move_relay(self, url)

    async def _refresh_integrity(self) -> None:
        cursor = int((await self._store.get(_META_CURSOR) or b"0").decode())
        membership = self._verifier.membership
        # Events of an epoch whose key never reached a removed device are not withheld.
        still_member = membership.is_active(self.device_id)
        waiting = [
            item
            for event_id, (data, relay_seq) in self._pending.items()
            if (
                item := waiting_item(
                    event_id,
                    data,
                    relay_seq,
                    knows=self._verifier.knows,
                    events_key=self._verifier.events_key,
                )
            ).has_key
            or still_member
        ]
        findings = assess(
            me=self.device_id,
            events=self._events.values(),
            waiting=waiting,
            refusals=await self._tracker.store.refusals(),
            view=self._tracker.view,
            cursor=cursor,
            lost=self._tracker.lost(),
            sightings=await self._tracker.store.sightings(),
            # Stored as written: names go in only when shown (THREAT_MODEL.md §22).
            name_of=name_token,
            grace_ms=self.split_view_grace_ms,
        )
        await self._tracker.publish(findings)


def check_payload(payload: Payload) -> None:
    """Refuse, before anything is signed, a payload the partner's app would reject.

    msgspec checks field limits (lengths, ranges, formats) when decoding, not when a
    struct is built, so a round trip is the check.
    """
    try:
        decode_payload(encode_payload(payload))
    except PayloadFormatError as exc:
        detail = str(exc).removeprefix("payload invalid: ")
        raise TrellisError(
            f"That cannot be saved: {detail}.", code=ClientErrorCode.INVALID_INPUT
        ) from None


def is_passing_failure(exc: TrellisError) -> bool:
    """A failure that may pass if we try again later (the relay restarting, no network)."""
    return decisions.is_passing_failure(exc.code, unreachable=isinstance(exc, RelayUnreachable))


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


def _new_event(event: VerifiedEvent, relay_seq: int | None) -> NewEvent:
    return NewEvent(
        event_id=event.event_id,
        author=event.author,
        author_seq=event.envelope.seq,
        envelope=event.canonical,
        relay_seq=relay_seq,
    )


def _require_passphrase(passphrase: str) -> None:
    if len(passphrase) < 8:
        raise TrellisError(
            "Choose a passphrase of at least 8 characters: it protects everything on this device.",
            code=ClientErrorCode.WEAK_PASSPHRASE,
        )


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
