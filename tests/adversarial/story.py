"""Two partners, Alex and Blake, through the lying relay; helpers that read as the story."""

from __future__ import annotations

from pathlib import Path

from client.core.integrity import Finding, Severity
from client.space import Space
from schemas.payloads import JournalEntry
from tests.integration.pairing import pair

SYNC_TIMEOUT_S = 15.0


async def partners(tmp_path: Path, relay_url: str, opened: list[Space]) -> tuple[Space, Space]:
    """Alex and Blake, paired and synced; ``opened`` (the fixture) closes them."""
    alex, blake = await pair(tmp_path, relay_url)
    opened.extend((alex, blake))
    # Findings say what the relay did; a partner writing later than usual is not tested
    # here, so the split-view grace is none at all.
    alex.split_view_grace_ms = blake.split_view_grace_ms = 0
    return alex, blake


async def write(space: Space, *texts: str) -> None:
    for text in texts:
        await space.append(JournalEntry(text=text))


async def sync(*spaces: Space) -> None:
    for space in spaces:
        await space.sync(timeout_s=SYNC_TIMEOUT_S)


def codes(space: Space) -> list[tuple[str, str]]:
    return [(f.code.value, f.severity.value) for f in space.integrity()]


def finding(space: Space, code: str) -> Finding:
    [found] = [f for f in space.integrity() if f.code.value == code]
    return found


def proofs(space: Space) -> list[Finding]:
    return [f for f in space.integrity() if f.severity is Severity.PROOF]


def journal(space: Space) -> list[str]:
    return [item.text for item in space.journal()]


def event_ids(space: Space) -> set[bytes]:
    return {e.event_id for e in space.events()}


def head_seq(space: Space) -> int:
    """The last seq of this device's own chain."""
    return max(e.envelope.seq for e in space.events() if e.author == space.device_id)


def event_at(space: Space, author: Space, seq: int) -> bytes:
    """The id of ``author``'s event at ``seq``, as ``space`` holds it."""
    [found] = [
        e.event_id for e in space.events() if e.author == author.device_id and e.envelope.seq == seq
    ]
    return found
