"""Integrity findings, sans-I/O (client/core/integrity/, client/core/relay_view.py, §9.6).

Each test builds what a device holds (accepted, pending and refused envelopes, and what
the relay served at which seq) and asks which findings stand."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from client.core.integrity import (
    FindingCode,
    Refusal,
    Severity,
    Waiting,
    assess,
    split_view_findings,
    waiting_item,
)
from client.core.relay_view import HOLE, RelaySlot, RelayView, Sighting, SightingKind
from client.core.verify import LogVerifier, Verdict, VerifiedEvent
from schemas.ids import DeviceId
from tests.client.builders import (
    MINUTE_MS,
    START_MS,
    Built,
    Pair,
    entry,
    new_verifier,
    paired,
)

NAMES = {}


def name_of(device: bytes) -> str:
    return NAMES.get(device, "someone")


def accepted(verifier: LogVerifier, *events: Built) -> list[VerifiedEvent]:
    out = []
    for e in events:
        outcome = verifier.admit(e.data)
        assert outcome.verdict is Verdict.ACCEPTED, outcome
        assert outcome.event is not None
        out.append(outcome.event)
    return out


def story() -> tuple[Pair, LogVerifier, list[VerifiedEvent]]:
    pair = paired()
    NAMES.update({pair.alex.device_id: "Alex", pair.blake.device_id: "Blake"})
    verifier = new_verifier()
    return pair, verifier, accepted(verifier, *pair.membership)


def codes_of(
    *,
    me: DeviceId,
    events: Sequence[VerifiedEvent] = (),
    waiting: Sequence[Waiting] = (),
    refusals: Sequence[Refusal] = (),
    view: RelayView | None = None,
    cursor: int = 0,
    lost: Sequence[bytes] = (),
    sightings: Sequence[Sighting] = (),
) -> list[tuple[str, str]]:
    findings = assess(
        me=me,
        events=events,
        waiting=waiting,
        refusals=refusals,
        view=view or RelayView(),
        cursor=cursor,
        lost=lost,
        sightings=sightings,
        name_of=name_of,
        grace_ms=0,
    )
    return [(f.code.value, f.severity.value) for f in findings]


def served(view: RelayView, *events: Built | VerifiedEvent, at: int = START_MS) -> None:
    for seq, e in enumerate(events, start=len(view.slots) + 1):
        assert view.observe(seq, e.event_id, valid=True, at=at) is None


# -- nothing wrong ---------------------------------------------------------------------


def test_a_log_where_everything_arrived_has_no_finding() -> None:
    pair, _, events = story()
    view = RelayView()
    served(view, *events)

    assert codes_of(me=pair.alex.device_id, events=events, view=view, cursor=3) == []


# -- withholding -----------------------------------------------------------------------


def test_an_event_waiting_for_an_earlier_one_the_relay_passed_is_a_warning() -> None:
    pair, verifier, events = story()
    first = entry(pair.blake, "first")
    second = entry(pair.blake, "second")
    view = RelayView()
    served(view, *events)
    view.observe(5, second.event_id, valid=True, at=START_MS)  # seq 4 skipped
    item = waiting_item(
        second.event_id,
        second.data,
        5,
        knows=verifier.knows,
        events_key=verifier.events_key,
    )

    assert item.missing == (first.event_id,)
    assert codes_of(me=pair.alex.device_id, events=events, waiting=[item], view=view, cursor=5) == [
        ("withheld_events", "warning")
    ]
    # Above the cursor it is merely on its way: no finding.
    assert (
        codes_of(me=pair.alex.device_id, events=events, waiting=[item], view=view, cursor=3) == []
    )


def test_a_relay_seq_the_cursor_passed_without_an_event_is_a_skipped_position() -> None:
    pair, _, events = story()
    view = RelayView()
    served(view, *events)

    findings = assess(
        me=pair.alex.device_id,
        events=events,
        waiting=[],
        refusals=[],
        view=view,
        cursor=5,
        lost=[],
        sightings=[],
        name_of=name_of,
    )

    [withheld] = findings
    assert withheld.code is FindingCode.WITHHELD_EVENTS
    assert "skipped positions 4, 5" in withheld.message


# -- refusals ----------------------------------------------------------------------------


def test_forged_bytes_are_proof_and_rule_breaking_events_are_told_apart() -> None:
    pair, _, events = story()
    forged = entry(pair.blake, "changed")
    invalid = entry(pair.blake, "bad clock")
    refusals = [
        Refusal(forged.event_id, forged.data, "bad_signature", "signature does not verify", 4),
        Refusal(invalid.event_id, invalid.data, "bad_lamport", "clock is off", 5),
    ]

    assert codes_of(me=pair.alex.device_id, events=events, refusals=refusals) == [
        ("forged_event", "proof"),
        ("invalid_event", "proof"),
    ]


def test_a_second_event_at_a_taken_position_is_proof_of_equivocation_naming_both() -> None:
    pair, verifier, events = story()
    [real] = accepted(verifier, entry(pair.blake, "real"))
    fork = pair.blake.write(real.payload, seq=real.envelope.seq, prev=real.envelope.prev)
    refusal = Refusal(fork.event_id, fork.data, "equivocation", "position taken", 6)

    findings = assess(
        me=pair.alex.device_id,
        events=[*events, real],
        waiting=[],
        refusals=[refusal],
        view=RelayView(),
        cursor=0,
        lost=[],
        sightings=[],
        name_of=name_of,
    )

    [equivocation] = findings
    assert equivocation.code is FindingCode.EQUIVOCATION
    assert equivocation.severity is Severity.PROOF
    assert set(equivocation.events) == {fork.event_id.hex(), real.event_id.hex()}
    assert "Blake" in equivocation.message


def test_an_event_built_on_a_refused_fork_is_proof_of_a_split_view() -> None:
    pair, verifier, events = story()
    [real] = accepted(verifier, entry(pair.alex, "real"))
    fork = pair.alex.write(real.payload, seq=real.envelope.seq, prev=real.envelope.prev)
    on_fork = entry(pair.blake, "reply", deps=[fork])
    refusal = Refusal(fork.event_id, fork.data, "equivocation", "position taken", 5)
    item = waiting_item(
        on_fork.event_id, on_fork.data, 6, knows=verifier.knows, events_key=verifier.events_key
    )

    codes = codes_of(
        me=pair.alex.device_id, events=[*events, real], waiting=[item], refusals=[refusal]
    )

    assert ("split_view", "proof") in codes
    assert ("equivocation", "proof") in codes


# -- rollback and replay --------------------------------------------------------------------


def test_events_the_relay_lost_are_a_rollback_warning_and_sightings_are_replay_proof() -> None:
    pair, _, events = story()

    assert codes_of(
        me=pair.alex.device_id,
        events=events,
        lost=[events[1].event_id],
        sightings=[Sighting(SightingKind.REUSED_CHALLENGE)],
    ) == [("replay", "proof"), ("rollback", "warning")]


# -- split view (stale frontier) -------------------------------------------------------------


def test_a_partner_writing_long_after_a_sync_without_our_event_is_a_split_view_warning() -> None:
    pair, verifier, events = story()
    [ours] = accepted(verifier, entry(pair.alex, "ours"))
    seen = [pair.invite]  # Blake's frontier: Alex's invite, never Alex's entry
    [synced] = accepted(verifier, entry(pair.blake, "after ours reached the relay", deps=seen))
    pair.blake.clock_ms += 120 * MINUTE_MS
    [stale] = accepted(verifier, entry(pair.blake, "still without ours", deps=seen))
    view = RelayView()
    served(view, *events, ours)
    served(view, synced, at=pair.blake.clock_ms - 110 * MINUTE_MS)
    served(view, stale, at=pair.blake.clock_ms)
    everything = [*events, ours, synced, stale]

    [split] = split_view_findings(pair.alex.device_id, everything, view, name_of, grace_ms=0)

    assert split.code is FindingCode.SPLIT_VIEW
    assert split.severity is Severity.WARNING
    assert split.events == (stale.event_id.hex(), ours.event_id.hex(), synced.event_id.hex())
    # Not within the grace period, and never from one device's own events.
    assert (
        split_view_findings(
            pair.alex.device_id, everything, view, name_of, grace_ms=200 * MINUTE_MS
        )
        == []
    )
    assert split_view_findings(pair.blake.device_id, everything, view, name_of, grace_ms=0) == []


def test_a_partner_who_wrote_offline_and_pushed_everything_at_once_is_not_a_split_view() -> None:
    pair, verifier, events = story()
    [ours] = accepted(verifier, entry(pair.alex, "ours"))
    offline = accepted(
        verifier,
        entry(pair.blake, "offline 1", deps=[pair.invite]),
        entry(pair.blake, "offline 2", deps=[pair.invite]),
    )
    view = RelayView()
    served(view, *events, ours)
    # Both reached us in the same sync, after they were written.
    served(view, *offline, at=pair.blake.clock_ms + MINUTE_MS)

    assert split_view_findings(pair.alex.device_id, [*events, ours, *offline], view, name_of) == []


def test_the_split_view_warning_clears_when_the_partners_newest_event_covers_ours() -> None:
    pair, verifier, events = story()
    [ours] = accepted(verifier, entry(pair.alex, "ours"))
    [synced] = accepted(verifier, entry(pair.blake, "synced", deps=[pair.invite]))
    pair.blake.clock_ms += 120 * MINUTE_MS
    [caught_up] = accepted(verifier, entry(pair.blake, "seen it", deps=[_as_built(ours)]))
    view = RelayView()
    served(view, *events, ours, synced, caught_up, at=START_MS)

    assert (
        split_view_findings(
            pair.alex.device_id, [*events, ours, synced, caught_up], view, name_of, grace_ms=0
        )
        == []
    )


def _as_built(event: VerifiedEvent) -> Built:
    return Built(
        event.canonical, event.event_id, event.author, event.envelope.seq, event.lamport, None
    )


# -- the relay's numbering -----------------------------------------------------------------


def test_the_same_event_at_two_seqs_or_two_events_at_one_seq_are_sighted() -> None:
    _, _, events = story()
    view = RelayView()
    served(view, *events)

    moved = view.observe(9, events[0].event_id, valid=True, at=START_MS)
    rewritten = view.observe(2, b"n" * 32, valid=True, at=START_MS)
    same_again = view.observe(3, events[2].event_id, valid=True, at=START_MS)

    assert moved == Sighting(SightingKind.MOVED, (events[0].event_id,), 9, 1)
    assert rewritten == Sighting(SightingKind.REWRITTEN, (events[1].event_id, b"n" * 32), 2)
    assert view.seq_of(events[1].event_id) == 2  # what was read first stands
    assert same_again is None
    assert view.slots[9].valid is False  # asked for again at the next sync
    assert view.refetch_from(9) == 8


def test_bad_bytes_and_skipped_seqs_are_read_once_more_then_settled() -> None:
    view = RelayView()
    view.observe(1, b"a" * 32, valid=True, at=START_MS)
    view.observe(2, b"garbage digest".ljust(32, b"."), valid=False, at=START_MS)
    view.finish_read(0, 4, START_MS)  # seqs 3 and 4 never came

    assert view.skipped(4) == [3, 4]
    assert view.refetch_from(4) == 1
    view.begin_read()
    view.finish_read(1, 4, START_MS)  # the second reading brought nothing either

    assert view.refetch_from(4) is None
    assert view.slots[3] == RelaySlot(HOLE, False, START_MS, settled=True)
    view.observe(3, b"c" * 32, valid=True, at=START_MS)  # a re-seed's reading fills it
    assert view.skipped(4) == [4]


def test_the_anchor_is_the_last_good_event_at_or_below_the_cursor() -> None:
    view = RelayView()
    view.observe(1, b"a" * 32, valid=True, at=START_MS)
    view.observe(2, b"b" * 32, valid=False, at=START_MS)

    assert view.anchor(2) == (1, b"a" * 32)
    assert view.anchor(0) is None
    assert RelayView(base=5).anchor(5) is None


def test_every_finding_code_is_documented_in_the_protocol_and_the_threat_model() -> None:
    docs = Path(__file__).parents[2] / "docs"
    protocol = (docs / "PROTOCOL.md").read_text(encoding="utf-8")
    threats = (docs / "THREAT_MODEL.md").read_text(encoding="utf-8")
    for code in FindingCode:
        assert f"| `{code.value}` |" in protocol, code
        assert f"`{code.value}`" in threats, code
