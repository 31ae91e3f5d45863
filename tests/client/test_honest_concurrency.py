"""Honest concurrency is never a violation (issue #10; docs/PROTOCOL.md §10.5).

Two partners with two devices each act offline and at the same time: every action is
one the honest client would write on that device at that moment (it passes
client/views/write_rules.py against what the device holds). Devices sync in random pairs now
and then; at the end, every event reaches two fresh devices in two random orders. The
property: nothing is refused, no rule is reported broken (``trellis verify`` is clean),
and both devices fold to the same state.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from client.core.verify import LogVerifier, VerifiedEvent
from client.errors import TrellisError
from client.views import Moment, Views, build_views
from client.views.audit import audit_log
from client.views.fold import causal_order
from client.views.write_rules import check_write
from schemas.ids import EventId
from schemas.payloads import JournalAmended, JournalEntry, JournalRetracted, Payload
from schemas.practices import (
    AgreementAccepted,
    AgreementDeclined,
    AgreementProposed,
    AgreementReviewed,
    AgreementWithdrawn,
    DisclosureAcknowledged,
    DisclosureMade,
    SignalCleared,
    SignalSent,
)
from tests.client.builders import (
    EPOCH_KEYS,
    SPACE_ID,
    Built,
    Writer,
    admit_until_settled,
    fixed_bytes,
    genesis,
    invite_issued,
    member_joined,
    new_verifier,
)

MOMENT = Moment(now_ms=1_767_225_600_000 + 86_400_000, tz=datetime.UTC)
ALEX_PHONE = fixed_bytes("alex phone invite", 32)
BLAKE_PHONE = fixed_bytes("blake phone invite", 32)

ACTIONS = (
    "propose",
    "accept",
    "decline",
    "withdraw",
    "revise",
    "review",
    "entry",
    "amend",
    "retract",
    "disclose",
    "acknowledge",
    "signal",
    "clear",
    "sync",
)
WEIGHTED = (*ACTIONS, *("sync",) * 5, *("accept",) * 3, *("withdraw",) * 2, "decline", "review")
"""Syncs and answers often enough that devices act on shared versions at the same time."""


@dataclass
class Device:
    writer: Writer
    verifier: LogVerifier = field(default_factory=new_verifier)
    events: dict[EventId, VerifiedEvent] = field(default_factory=dict)

    def learn(self, built: list[Built]) -> None:
        fresh = [b.data for b in built if b.event_id not in self.events]
        for outcome in admit_until_settled(self.verifier, fresh):
            assert outcome.event is not None
            self.events[outcome.event.event_id] = outcome.event

    def ordered(self) -> list[VerifiedEvent]:
        return causal_order(self.events.values())


def _setup() -> tuple[list[Device], dict[EventId, Built]]:
    alex1, blake1 = Writer("alex", "Alex"), Writer("blake", "Blake")
    alex2, blake2 = Writer("alex phone", "Alex"), Writer("blake phone", "Blake")
    alex2.member_id, blake2.member_id = alex1.member_id, blake1.member_id
    created = genesis(alex1)
    invited = invite_issued(alex1)
    joined = member_joined(blake1, deps=[invited])
    phone_a = invite_issued(alex1, ALEX_PHONE, kind="device", deps=[joined])
    alex2_joined = member_joined(alex2, ALEX_PHONE, deps=[phone_a])
    phone_b = invite_issued(blake1, BLAKE_PHONE, kind="device", deps=[alex2_joined])
    blake2_joined = member_joined(blake2, BLAKE_PHONE, deps=[phone_b])
    setup = [created, invited, joined, phone_a, alex2_joined, phone_b, blake2_joined]
    devices = [Device(w) for w in (alex1, alex2, blake1, blake2)]
    for device in devices:
        device.learn(setup)
        assert len(device.events) == len(setup)
    return devices, {b.event_id: b for b in setup}


def _payload(action: str, views: Views, pick: int, n: int) -> Payload | None:
    versions = [v for a in views.agreements.agreements for v in a.versions]
    entries = views.journal
    disclosures = views.disclosures
    signals = views.signals

    def chosen(items: list[object]) -> object | None:
        return items[pick % len(items)] if items else None

    match action:
        case "propose":
            return AgreementProposed(title=f"Agreement {n}", clauses=["One", "Two"])
        case "accept" | "decline" | "withdraw" | "review":
            v = chosen(list(versions))
            if v is None:
                return None
            version = v.id  # type: ignore[attr-defined]
            if action == "accept":
                return AgreementAccepted(version=version)
            if action == "decline":
                return AgreementDeclined(version=version)
            if action == "withdraw":
                return AgreementWithdrawn(version=version)
            return AgreementReviewed(version=version, outcome="keep" if pick % 2 else "revise")
        case "revise":
            v = chosen(list(versions))
            if v is None:
                return None
            clauses = list(v.clauses)  # type: ignore[attr-defined]
            # Half the time a narrowing (one clause fewer), else a widening.
            new = clauses[:-1] if pick % 2 and len(clauses) > 1 else [*clauses, f"More {n}"]
            return AgreementProposed(
                title=v.title,  # type: ignore[attr-defined]
                clauses=new,
                revises=v.id,  # type: ignore[attr-defined]
            )
        case "entry":
            return JournalEntry(text=f"Entry {n}")
        case "amend" | "retract":
            e = chosen(list(entries))
            if e is None:
                return None
            if action == "amend":
                return JournalAmended(entry=e.id, text=f"Amended {n}")  # type: ignore[attr-defined]
            return JournalRetracted(entry=e.id)  # type: ignore[attr-defined]
        case "disclose":
            return DisclosureMade(kind="meeting", summary=f"Meeting {n}")
        case "acknowledge":
            d = chosen(list(disclosures))
            return None if d is None else DisclosureAcknowledged(disclosure=d.id)  # type: ignore[attr-defined]
        case "signal":
            return SignalSent(level="pause")
        case "clear":
            s = chosen(list(signals))
            return None if s is None else SignalCleared(signal=s.id)  # type: ignore[attr-defined]
    return None


def _write(device: Device, payload: Payload, by_id: dict[EventId, Built]) -> Built | None:
    membership = device.verifier.membership
    me = membership.member_of(device.writer.device_id)
    assert me is not None
    ordered = device.ordered()
    try:
        check_write(payload, me.member_id, lambda: ordered, membership)
    except TrellisError:
        return None  # the honest client refuses it: never written
    deps = [by_id[d] for d in device.verifier.frontier(excluding=device.writer.device_id)]
    built = device.writer.write(payload, deps=deps)
    by_id[built.event_id] = built
    device.learn([built])
    assert built.event_id in device.events, "the device must accept its own event"
    return built


def _state(views: Views) -> object:
    return (
        [
            (
                a.id,
                a.status,
                [
                    (v.id, v.status, [c.event_id for c in v.accepted_by], len(v.without_effect))
                    for v in a.versions
                ],
            )
            for a in views.agreements.agreements
        ],
        [(i.id, i.text, i.retracted) for i in views.journal],
        [(d.id, len(d.acknowledgements)) for d in views.disclosures],
        [(s.id, s.cleared_by_event) for s in views.signals],
        sorted(views.without_effect),
    )


steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3),
        st.sampled_from(WEIGHTED),
        st.integers(min_value=0, max_value=50),
        st.integers(min_value=0, max_value=3),
    ),
    min_size=20,
    max_size=80,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedule=steps, data=st.data())
def test_honest_concurrent_schedules_never_produce_a_finding_and_always_converge(
    schedule: list[tuple[int, str, int, int]], data: st.DataObject
) -> None:
    devices, by_id = _setup()
    for n, (who, action, pick, other) in enumerate(schedule):
        device = devices[who]
        if action == "sync":
            peer = devices[other]
            everything = [by_id[e] for e in (*device.events, *peer.events)]
            device.learn(everything)
            peer.learn(everything)
            continue
        views = build_views(device.ordered(), device.verifier.membership, MOMENT)
        payload = _payload(action, views, pick, n)
        if payload is not None:
            _write(device, payload, by_id)

    everything = list(by_id.values())
    states = []
    for _ in range(2):
        order = data.draw(st.permutations(everything))
        fresh = LogVerifier(SPACE_ID, EPOCH_KEYS)
        accepted = admit_until_settled(fresh, [b.data for b in order])
        assert len(accepted) == len(everything), "every honest event is accepted"
        events = causal_order(o.event for o in accepted if o.event is not None)
        views = build_views(events, fresh.membership, MOMENT)
        assert [(v.code, v.message) for v in views.violations] == []
        report = audit_log(SPACE_ID, EPOCH_KEYS, [e.canonical for e in events], [], MOMENT)
        assert report.clean, report.problems
        states.append(_state(views))
    assert states[0] == states[1]
