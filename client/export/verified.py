"""What a verified export holds (docs/PROTOCOL.md "Exports", "Verifying"): the revealed
events, the chains, who is who, and the exporter's declaration; and how times read.

Plain data, produced only by client/export/verify.py once every check has passed; the
report, the summary and the cross-check read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from client.core.verify import VerifiedEvent
from client.export.first_page_doc import FirstPage
from schemas.ids import DeviceId, EventId, SpaceId
from schemas.practices import ExportConsented


@dataclass(frozen=True, slots=True)
class RevealedEvent:
    event_id: EventId
    author: DeviceId
    seq: int
    recorded_at: int
    occurred_at: int
    kind: str
    payload: dict[str, Any]
    """The payload as JSON-able builtins, byte strings (event ids) in hex."""
    summary: str
    """The app's plain sentence for the event (client/views/present.py)."""
    deps: tuple[EventId, ...] = ()
    """The author's frontier when it wrote the event: what its device had seen."""
    source: VerifiedEvent | None = None
    """The opened event itself, for the apps' folds (the report's summary)."""


@dataclass(frozen=True, slots=True)
class ChainSummary:
    """One device's chain as the export carries it."""

    device: DeviceId
    head_seq: int
    head_id: EventId
    revealed_seqs: tuple[int, ...]
    event_ids: tuple[EventId, ...] = ()
    """Every event id of the chain, seq 1 first: what a cross-check compares."""


@dataclass(frozen=True, slots=True)
class VerifiedExport:
    title: str
    space_id: SpaceId
    created_at: int
    exporter: DeviceId
    revealed: list[RevealedEvent]
    """In the causal order the exporter gave, which verification checked."""
    declaration: ExportConsented
    """The exporter's own ``export_consented``: whom the export is for, why, until when,
    and what it left out (docs/PROTOCOL.md "Exports", "Consent"). Every verified export
    has one (an export without is refused, ``no_declaration``)."""
    chains: list[ChainSummary] = field(default_factory=list)
    members: dict[DeviceId, str] = field(default_factory=dict)
    """Device → its member's name, derived from the revealed membership events exactly
    as the apps derive it (client/export/attribution.py)."""
    device_members: dict[DeviceId, bytes] = field(default_factory=dict)
    """Device → member id, by the same rules."""
    member_names: dict[bytes, str] = field(default_factory=dict)
    """Member id → name, for every member the revealed events establish."""
    version: int = 1
    """The document's format version."""
    first_page: FirstPage | None = None
    """Version 2's first page, checked equal to what the revealed events give."""

    @property
    def sealed_count(self) -> int:
        """Events carried as ciphertext only: present and in place, but unreadable."""
        return sum(c.head_seq - len(c.revealed_seqs) for c in self.chains)

    def name_of(self, device: bytes) -> str:
        return self.members.get(DeviceId(device), f"device {device.hex()[:8]}")

    @property
    def scope(self) -> str:
        """What this export can and cannot prove, in one plain sentence (docs/PROTOCOL.md
        "Exports", "What an export proves"): it is one device's copy, at one time."""
        who = self.name_of(self.exporter)
        return (
            f"This is the history as held by {who}'s device ({self.exporter.hex()[:8]}) at "
            f"{utc_text(self.created_at)}. Events {who}'s device had not received by then, "
            f"or left out, cannot be seen here: a later event of {who}'s partner (a "
            "withdrawal, say) may exist. An export made by the other partner, checked "
            "together with this one (trellis verify-export A B), shows whether either left "
            "anything out."
        )


def utc_text(ms: int) -> str:
    """A time as ``YYYY-MM-DD HH:MM UTC``, the same on every machine; never raises.

    Times are checked to be 0 ≤ t ≤ 2^53 − 1 ms, which reaches past the year 9999 that
    ``datetime`` can show: such a time is written as a count of milliseconds.
    """
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (ValueError, OverflowError, OSError):
        return f"{ms} ms after 1970-01-01 00:00 UTC"
