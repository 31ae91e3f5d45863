"""Findings about what has not arrived: events the relay should have delivered and has
not (rule W), and events it had stored and lost (docs/PROTOCOL.md §9.6)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec

from client.core.admission_checks import open_plaintext
from client.core.integrity.findings import (
    Finding,
    FindingCode,
    Severity,
    count_events,
    count_positions,
    unique,
)
from client.keys import crypto
from schemas.envelope import decode_envelope
from schemas.ids import EventId
from schemas.payloads import PayloadFormatError


@dataclass(frozen=True, slots=True)
class Waiting:
    """A pending envelope: what it is, where the relay put it, and what it lacks."""

    event_id: EventId
    relay_seq: int | None
    author: bytes
    missing: tuple[bytes, ...]
    """Event ids it names that this device does not hold (its ``prev``, its ``deps``)."""
    has_key: bool
    """Whether this device holds the key of its epoch."""


def waiting_item(
    event_id: EventId,
    data: bytes,
    relay_seq: int | None,
    *,
    knows: Callable[[bytes], bool],
    events_key: Callable[[int], bytes | None],
) -> Waiting:
    """Open a pending envelope far enough to name what it waits for."""
    env = decode_envelope(data)
    missing: list[bytes] = []
    if env.prev is not None and not knows(env.prev):
        missing.append(env.prev)
    key = events_key(env.epoch)
    if key is not None:
        try:
            # The one decode site (admission_checks.py): a hostile body cannot stop us.
            body, _ = open_plaintext(crypto.open_event(key, env))
        except (crypto.CryptoError, PayloadFormatError, msgspec.MsgspecError):
            body = None
        if body is not None:
            missing.extend(d for d in body.deps if not knows(d))
    return Waiting(event_id, relay_seq, env.author, tuple(missing), key is not None)


def withheld_finding(waiting: Sequence[Waiting], skipped: Sequence[int]) -> Finding | None:
    """Events the relay should have delivered by now and has not (§9.6 rule W).

    ``waiting`` must hold only envelopes the relay placed at or below the cursor: the
    relay has said it served everything up to there, so what they wait for is not merely
    on its way. ``skipped`` are relay seqs it said it served and did not."""
    if not waiting and not skipped:
        return None
    ids = unique(
        [*(w.event_id.hex() for w in waiting), *(m.hex() for w in waiting for m in w.missing)]
    )
    parts = []
    if waiting:
        parts.append(
            f"{count_events(len(waiting))} received here wait for earlier ones the relay has not "
            "delivered"
        )
    if skipped:
        shown = ", ".join(str(s) for s in skipped[:10])
        more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        parts.append(
            f"the relay skipped {count_positions(len(skipped))} {shown}{more} of its history"
        )
    return Finding(
        FindingCode.WITHHELD_EVENTS,
        Severity.WARNING,
        "Some events have not reached this device: "
        + "; ".join(parts)
        + ". Nothing is shown until they arrive. This can be a delay: sync again. If it "
        "stays, the relay may be holding events back; 'trellis sync --reseed' on your "
        "partner's device gives the relay their copy again.",
        tuple(ids),
    )


def rollback_finding(lost: Sequence[bytes]) -> Finding | None:
    """Events the relay had stored (it acknowledged or served them) and no longer holds."""
    if not lost:
        return None
    return Finding(
        FindingCode.ROLLBACK,
        Severity.WARNING,
        f"The relay lost {count_events(len(lost))} it had already stored: it went back to an "
        "older state, perhaps restored from a backup. Nothing is lost on this device. Run "
        "'trellis sync --reseed' to give the relay this device's copy back; this warning "
        f"clears when the relay holds {'it' if len(lost) == 1 else 'them'} again.",
        tuple(sorted(e.hex() for e in lost)),
    )
