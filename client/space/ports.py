"""What the flows of a space (devices, relocation, pairing) may use of it.

The flows take a :class:`SpaceLike`, not the :class:`client.space.Space` class: they
import nothing of the facade and reach into none of its private state, so the facade
can import them without an import cycle (issue #12), and a test can read in one place
everything a flow depends on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from client.core.verify import Member, Membership, VerifiedEvent
from client.keys import vault
from client.keys.crypto import DeviceKeys
from client.space.reports import SyncReport
from client.store.relay_http import RelayEndpoint
from schemas.ids import DeviceId, MemberId, SpaceId
from schemas.payloads import Payload

EventCallback = Callable[[VerifiedEvent], Awaitable[None] | None]


class SpaceLike(Protocol):
    """The public face of one device in one space, as the flows see it."""

    @property
    def home(self) -> Path: ...

    @property
    def space_id(self) -> SpaceId: ...

    @property
    def device(self) -> DeviceKeys: ...

    @property
    def endpoint(self) -> RelayEndpoint: ...

    @property
    def device_id(self) -> DeviceId: ...

    @property
    def joined(self) -> bool: ...

    @property
    def membership(self) -> Membership: ...

    def me(self) -> Member | None: ...

    def events(self) -> list[VerifiedEvent]: ...

    def member_name(self, member_id: bytes) -> str: ...

    def safety_number(self) -> str: ...

    def chain_seq(self, device_id: bytes) -> int: ...

    def epoch_keys(self) -> dict[int, bytes]: ...

    def events_key_for_epoch(self, epoch: int) -> bytes: ...

    async def append(
        self, payload: Payload, *, occurred_at: int | None = None
    ) -> VerifiedEvent: ...

    async def sync(
        self,
        *,
        watch: bool = False,
        on_event: EventCallback | None = None,
        timeout_s: float | None = 120.0,
        retry_for_s: float = 0.0,
    ) -> SyncReport: ...

    async def invite(
        self,
        *,
        ttl_s: int = ...,
        kind: str = "member",
        for_member: MemberId | None = None,
    ) -> str: ...

    async def reseal(self, passphrase: str, *, kdf_cost: vault.KdfCost | None = None) -> None: ...

    async def outbox_size(self) -> int: ...

    async def get_local(self, key: str) -> bytes | None: ...

    async def put_local(self, items: dict[str, bytes]) -> None: ...

    async def delete_local(self, key: str) -> None: ...

    async def stored_envelopes(self) -> list[bytes]: ...

    async def run_session(
        self, report: SyncReport, *, push: list[bytes] | None, from_start: bool
    ) -> None: ...

    def genesis_envelope(self) -> bytes | None: ...

    async def switch_relay(self, endpoint: RelayEndpoint, extra: dict[str, bytes]) -> None: ...
