"""The :class:`Space` facade: one device's view of one shared space.

It holds the state (:class:`client.space.state.SpaceState`) and the read API, and hands
each flow to the module that does it, by flow: opening (create, join, open), writing
(append), syncing (sync), pairing (invite), devices, relocation (re-seed, move). The
flows use each other's public functions only, and the outer ones (devices,
relocation, pairing) see this class only as a :class:`client.space.ports.SpaceLike`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from client.core.integrity import Finding
from client.core.verify import Member, Membership, VerifiedEvent
from client.errors import LocalDataError, TrellisError
from client.keys import crypto, vault
from client.space import devices, findings, opening, pairing, relocation, syncing, writing
from client.space.ports import EventCallback
from client.space.reports import DeviceView, MemberView, Status, SyncReport
from client.space.state import META_CURSOR, META_LAST_SYNC, META_RELAY, META_VAULT, SpaceState
from client.store.integrity_names import names_in
from client.store.relay_http import RelayEndpoint
from client.views import Moment, Views, build_views
from client.views.audit import AuditReport, audit_log, practice_problems, violation_findings
from client.views.fold import JournalItem, causal_order, fold_journal
from client.views.recovery import Profile, fold_profiles
from schemas.ids import DeviceId, EventId, MemberId, SpaceId
from schemas.payloads import Payload


class Space:
    """One device in one space. Create it with :meth:`create`, :meth:`join` or
    :meth:`open`; always :meth:`close` it."""

    def __init__(self, state: SpaceState) -> None:
        self._state = state
        self._profiles: dict[MemberId, Profile] = {}
        self._profiles_at = -1

    # -- opening (client/space/opening.py) -----------------------------------------

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
        state = await opening.create(
            home, relay_url=relay_url, name=name, passphrase=passphrase, kdf_cost=kdf_cost
        )
        return cls(state)

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
        state, kind = await opening.join(
            home,
            code=code,
            name=name,
            passphrase=passphrase,
            relay_url=relay_url,
            kdf_cost=kdf_cost,
        )
        space = cls(state)
        # Redeemed and saved: if this first sync fails in a way that may pass, the join
        # completes on the next successful one, and ``space.joined`` tells the caller
        # which happened. A failure that cannot pass (this device was removed, the
        # space is gone) is raised; the device stays saved for 'trellis sync'.
        try:
            await space.sync()
            if kind == "rejoin":
                # Lost every device: the old ones are removed in the same step (§5.9).
                await devices.finish_rejoin(space)
        except TrellisError as exc:
            if not syncing.is_passing_failure(exc):
                await space.close()
                raise
        return space

    @classmethod
    async def open(cls, home: Path, *, passphrase: str) -> Space:
        return cls(await opening.open_home(home, passphrase=passphrase))

    async def close(self) -> None:
        await self._state.store.close()

    async def __aenter__(self) -> Space:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    @property
    def home(self) -> Path:
        return self._state.home

    @property
    def device(self) -> crypto.DeviceKeys:
        return self._state.device

    @property
    def space_id(self) -> SpaceId:
        return self._state.space_id

    @property
    def endpoint(self) -> RelayEndpoint:
        return self._state.endpoint

    @property
    def split_view_grace_ms(self) -> int:
        """How long a partner may write without our events before it is a warning."""
        return self._state.split_view_grace_ms

    @split_view_grace_ms.setter
    def split_view_grace_ms(self, value: int) -> None:
        self._state.split_view_grace_ms = value

    @property
    def home_notices(self) -> list[str]:
        """Sentences about files in the home folder that were made private on opening."""
        return list(self._state.store.notices)

    @property
    def device_id(self) -> DeviceId:
        return self._state.device.device_id

    @property
    def joined(self) -> bool:
        return self._state.join is None

    # -- writing (writing.py), inviting (pairing.py), syncing (syncing.py) -----------

    async def append(self, payload: Payload, *, occurred_at: int | None = None) -> VerifiedEvent:
        """Sign, encrypt and store one event locally; it is pushed at the next sync
        (or at once while a sync connection is open)."""
        return await writing.append(self._state, payload, occurred_at)

    async def invite(
        self,
        *,
        ttl_s: int = pairing.DEFAULT_INVITE_TTL_S,
        kind: str = "member",
        for_member: MemberId | None = None,
    ) -> str:
        """Register an invite at the relay, record it in a signed event, push it, and
        return the code to give the partner (secret: show it only to them).

        ``kind="rejoin"`` with ``for_member`` (the other partner, who lost every device)
        lets that partner rejoin as themselves (client/space/devices.py, rejoin_invite)."""
        return await pairing.invite(self, ttl_s=ttl_s, kind=kind, for_member=for_member)

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
        return await syncing.sync(
            self._state,
            lambda: devices.rotate_if_due(self),
            watch=watch,
            on_event=on_event,
            timeout_s=timeout_s,
            retry_for_s=retry_for_s,
            connected=connected,
        )

    async def run_session(
        self, report: SyncReport, *, push: list[bytes] | None, from_start: bool
    ) -> None:
        """One session until up to date: ``push`` replaces the outbox (a re-seed),
        ``from_start`` reads the relay's whole history again."""
        await syncing.run_session(self._state, report, push=push, from_start=from_start)

    # Test hooks: what a partner's modified app would do (tests/integration/offline_home.py).

    def _seal(self, payload: Payload, occurred_at: int | None) -> bytes:
        return writing.seal(self._state, payload, occurred_at)

    async def _accept_own(
        self, data: bytes, *, relay_seq: int | None, queue: bool
    ) -> VerifiedEvent:
        return await writing.accept_own(self._state, data, relay_seq=relay_seq, queue=queue)

    async def _receive(
        self, items: list[tuple[bytes, int | None]], report: SyncReport
    ) -> list[VerifiedEvent]:
        return await syncing.receive(self._state, items, report)

    async def _refresh_integrity(self) -> None:
        await findings.refresh_integrity(self._state)

    # -- reading ------------------------------------------------------------------

    @property
    def event_count(self) -> int:
        """How many events are accepted: it only grows, so a cache of anything folded
        from :meth:`events` is current while this is unchanged (client/app)."""
        return len(self._state.events)

    @property
    def disk_generation(self) -> int:
        """Times memory went back to the disk after a failed write (PROTOCOL.md §9.13);
        a cache keyed on :attr:`event_count` keys on this too."""
        return self._state.disk_generation

    def events(self) -> list[VerifiedEvent]:
        """Every accepted event in the deterministic causal order."""
        return causal_order(self._state.events.values())

    def journal(self, *, include_retracted: bool = False) -> list[JournalItem]:
        items = fold_journal(self.events(), self.membership)
        return items if include_retracted else [i for i in items if not i.retracted]

    async def audit(self, moment: Moment | None = None) -> AuditReport:
        """Re-check everything stored on this device from nothing (``trellis verify``)."""
        store = self._state.store
        return audit_log(
            self.space_id,
            self._state.verifier.space_keys,
            await self.stored_envelopes(),
            await store.rejected(),
            moment or Moment.now(),
            self.integrity(),
        )

    def views(self, moment: Moment | None = None) -> Views:
        """Every view (journal, agreements, disclosures, ...) as of ``moment``."""
        return build_views(self.events(), self.membership, moment or Moment.now())

    def events_key_for_epoch(self, epoch: int) -> bytes:
        key = self._state.verifier.events_key(epoch)
        if key is None:
            raise LocalDataError(f"This device holds no key for epoch {epoch}.")
        return key

    @property
    def membership(self) -> Membership:
        return self._state.verifier.membership

    def profiles(self) -> dict[MemberId, Profile]:
        """Names and roles, folded in causal order (cached until new events arrive)."""
        if self._profiles_at != len(self._state.events):
            self._profiles = fold_profiles(self.events(), self.membership)
            self._profiles_at = len(self._state.events)
        return self._profiles

    def member_name(self, member_id: bytes) -> str:
        profile = self.profiles().get(MemberId(member_id))
        return profile.name if profile else "someone not in this space"

    def author_name(self, device_id: bytes) -> str:
        member = self.membership.member_of(device_id)
        return self.member_name(member.member_id) if member else "someone not in this space"

    def me(self) -> Member | None:
        return self.membership.member_of(self.device_id)

    def members(self) -> list[MemberView]:
        m = self.membership
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
        m = self.membership
        return crypto.safety_number(self.space_id, [d for d in m.devices if m.is_active(d)])

    def chain_seq(self, device_id: bytes) -> int:
        """The last seq of ``device_id``'s chain that this device holds (0: none)."""
        head = self._state.verifier.heads.get(DeviceId(device_id))
        return 0 if head is None else head[0]

    def epoch_keys(self) -> dict[int, bytes]:
        return self._state.verifier.space_keys

    def genesis_envelope(self) -> bytes | None:
        """The space's first event, or None before this device has it."""
        genesis = self.membership.genesis
        return None if genesis is None else self._state.events[genesis].canonical

    async def stored_envelopes(self) -> list[bytes]:
        """Every accepted event as stored, in the order this device accepted them."""
        return [e.envelope for e in await self._state.store.load_events()]

    async def outbox_size(self) -> int:
        """How many of this device's events the relay has not acknowledged yet."""
        return await self._state.store.outbox_size()

    async def undelivered(self) -> set[EventId]:
        """This device's events the relay has not acknowledged yet (PROTOCOL.md §9.14)."""
        return {EventId(e) for e in await self._state.store.outbox_ids()}

    async def status(self) -> Status:
        store = self._state.store
        last = await store.get(META_LAST_SYNC)
        return Status(
            relay=self.endpoint.url,
            space_id=self.space_id,
            device_id=self.device_id,
            members=self.members(),
            events=len(self._state.events),
            outbox=await store.outbox_size(),
            pending=len(self._state.pending),
            rejected=len(await store.rejected()),
            last_sync_at=int(last.decode()) if last else None,
            joined=self.joined,
            # Whatever makes 'trellis verify' fail is here too (§10.6).
            integrity=[
                *self.integrity(),
                *violation_findings(practice_problems(self.views())),
            ],
        )

    def integrity(self) -> list[Finding]:
        """The findings that stand now (docs/PROTOCOL.md §9.6), proofs first; empty
        when all is well."""
        return [
            dataclasses.replace(f, message=names_in(f.message, self.author_name))
            for f in self._state.tracker.findings
        ]

    # -- local settings and keys (devices.py) ---------------------------------------

    async def get_local(self, key: str) -> bytes | None:
        return await self._state.store.get(key)

    async def put_local(self, items: dict[str, bytes]) -> None:
        await self._state.store.put(items)

    async def delete_local(self, key: str) -> None:
        await self._state.store.delete_meta(key)

    async def reseal(self, passphrase: str, *, kdf_cost: vault.KdfCost | None = None) -> None:
        """Seal this device's keys with a new passphrase, replacing the old vault."""
        opening.require_passphrase(passphrase)
        sealed = await vault.seal_off_loop(passphrase, self._state.secrets, kdf_cost)
        await self._state.store.put({META_VAULT: sealed})

    # -- recovery (relocation.py, docs/PROTOCOL.md §9.7) -----------------------------

    async def reseed(self) -> relocation.ReseedReport:
        """Push this device's whole verified copy (every author's events) back to the
        relay, and read the relay's history again from the start."""
        return await relocation.reseed(self)

    async def move_relay(self, url: str) -> relocation.MoveReport:
        """Move this space to the relay at ``url``: register it there, then re-seed."""
        return await relocation.move_relay(self, url)

    async def switch_relay(self, endpoint: RelayEndpoint, extra: dict[str, bytes]) -> None:
        """Talk to ``endpoint`` from now on, reading its history from the start;
        ``extra`` local settings are saved in the same step."""
        self._state.endpoint = endpoint
        await self._state.store.put({META_RELAY: endpoint.url.encode(), META_CURSOR: b"0", **extra})
        await self._state.tracker.new_relay()
