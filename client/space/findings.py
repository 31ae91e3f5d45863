"""The integrity findings of an open space, computed from what it holds and what it saw
of the relay (docs/PROTOCOL.md §9.6); the rules are client/core/integrity.py's. Run by
a sync session once it is up to date and when it ends (client/space/syncing.py)."""

from __future__ import annotations

from client.core.integrity import assess, waiting_item
from client.space.state import SpaceState
from client.store.integrity_names import name_token


async def refresh_integrity(state: SpaceState) -> None:
    """Compute the integrity findings (docs/PROTOCOL.md §9.6) from what this device
    holds and what it saw of the relay, and publish them."""
    verifier, me = state.verifier, state.device.device_id
    # Events of an epoch whose key never reached a removed device are not withheld.
    still_member = verifier.membership.is_active(me)
    waiting = [
        item
        for event_id, (data, relay_seq) in state.pending.items()
        if (
            item := waiting_item(
                event_id,
                data,
                relay_seq,
                knows=verifier.knows,
                events_key=verifier.events_key,
            )
        ).has_key
        or still_member
    ]
    findings = assess(
        me=me,
        events=state.events.values(),
        waiting=waiting,
        refusals=await state.tracker.store.refusals(),
        view=state.tracker.view,
        cursor=await state.cursor(),
        lost=state.tracker.lost(),
        sightings=await state.tracker.store.sightings(),
        # Stored as written: names go in only when shown (THREAT_MODEL.md §22).
        name_of=name_token,
        grace_ms=state.split_view_grace_ms,
    )
    await state.tracker.publish(findings)
