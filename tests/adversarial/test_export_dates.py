"""An export's own dates (docs/THREAT_MODEL.md §17.6; docs/PROTOCOL.md "Exports",
"Verifying").

1. The first page's period: a page that says "since 1 March" in an export made in
   February, or "as of" another moment than the export's own ``created_at``, is refused
   as ``bad_summary_dates``, whatever else it says.
2. A backdated export: ``created_at`` is the exporter's own claim (a consent counts
   until its end, judged at ``created_at``). It cannot precede an event of the other
   partner's that the export shows, by more than a clock's margin
   (``created_before_events``): those times the exporter's device cannot write. The
   exporter's own events bound nothing (its device wrote their times too), and an honest
   export is never dated before the partner's events (``not_before_partner``).

Each forged export is signed again by the forger's own device, as a dishonest partner's
modified app would.
"""

from __future__ import annotations

import msgspec
import pytest

from client.export import ExportError, build_export, render_html, verify_export
from client.export.dating import not_before_partner
from client.export.format import CLOCK_MARGIN_MS
from client.keys import crypto
from schemas.practices import AgreementAccepted, AgreementProposed
from tests.adversarial.export_story import (
    CREATED_AT_MS,
    DAY_MS,
    Made,
    admitted,
    codes,
    couple,
    doc_of,
    resigned,
)
from tests.client.builders import EPOCH_KEYS, SPACE_ID, Built, Writer

MINUTE_MS = 60_000


def _agreed(blake_clock_ms: int | None = None) -> tuple[Writer, Writer, list[Built], Built]:
    """Alex proposes, Blake accepts (at ``blake_clock_ms`` plus a minute, by Blake's
    clock, when given)."""
    alex, blake, built = couple()
    proposal = alex.write(
        AgreementProposed(title="Phones away", clauses=["No phones at dinner"]), deps=[built[-1]]
    )
    if blake_clock_ms is not None:
        blake.clock_ms = blake_clock_ms
    accepted = blake.write(AgreementAccepted(version=proposal.event_id), deps=[proposal])
    return alex, blake, [*built, proposal, accepted], accepted


def _made() -> tuple[Writer, Made, Built]:
    alex, _, built, accepted = _agreed()
    return alex, Made(alex, built, {b.event_id for b in built[3:]}), accepted


# --- 1. the first page's period --------------------------------------------------------


def test_an_honest_first_page_runs_from_its_start_to_the_export() -> None:
    _, made, _ = _made()
    doc = doc_of(made.document)
    assert doc.summary is not None
    assert doc.summary.since <= doc.created_at
    assert doc.summary.as_of == doc.created_at
    assert codes(made.document) == []


def test_a_first_page_that_starts_after_its_export_is_refused() -> None:
    """ "Since March" in an export made in February: the page recomputes the same from
    the same events (nothing is after its start), so only the dates can catch it."""
    alex, made, _ = _made()
    doc = doc_of(made.document)
    assert doc.summary is not None
    later = msgspec.structs.replace(doc.summary, since=doc.created_at + 30 * DAY_MS)
    forged = resigned(msgspec.structs.replace(doc, summary=later), alex)

    verified, findings = verify_export(forged)
    assert verified is None
    assert [(f.code, f.where) for f in findings] == [("bad_summary_dates", "$.summary.since")]
    assert "a summary starts no later than its export" in findings[0].message


def test_a_first_page_as_of_another_moment_than_its_export_is_refused() -> None:
    alex, made, _ = _made()
    doc = doc_of(made.document)
    assert doc.summary is not None
    other = msgspec.structs.replace(doc.summary, as_of=doc.created_at - DAY_MS // 2)
    forged = resigned(msgspec.structs.replace(doc, summary=other), alex)

    _, findings = verify_export(forged)
    assert [(f.code, f.where) for f in findings] == [("bad_summary_dates", "$.summary.as_of")]


def test_a_report_of_a_first_page_with_bad_dates_is_refused_too() -> None:
    alex, made, _ = _made()
    report = render_html(made.document)
    doc = doc_of(made.document)
    assert doc.summary is not None
    later = msgspec.structs.replace(doc.summary, since=doc.created_at + 1)
    forged = resigned(msgspec.structs.replace(doc, summary=later), alex).decode("utf-8")
    embedded_start = report.index('id="trellis-export">') + len('id="trellis-export">')
    embedded_end = report.index("</script>", embedded_start)
    edited = report[:embedded_start] + forged + report[embedded_end:]

    _, findings = verify_export(edited.encode("utf-8"))
    assert [f.code for f in findings] == ["bad_summary_dates"]


# --- 2. a backdated export ---------------------------------------------------------------


def _backdated(made: Made, alex: Writer, created_at: int) -> bytes:
    """``made`` dated ``created_at``, its first page moved with it (a careful forger)."""
    doc = doc_of(made.document)
    assert doc.summary is not None
    page = msgspec.structs.replace(
        doc.summary, since=min(doc.summary.since, created_at), as_of=created_at
    )
    return resigned(msgspec.structs.replace(doc, created_at=created_at, summary=page), alex)


def test_an_export_dated_before_the_partners_event_it_shows_is_refused() -> None:
    alex, made, accepted = _made()
    blakes = next(e for e in made.events if e.event_id == accepted.event_id)
    forged = _backdated(made, alex, blakes.body.recorded_at - CLOCK_MARGIN_MS - 1)

    verified, findings = verify_export(forged)
    assert verified is None
    assert [f.code for f in findings] == ["created_before_events"]
    assert accepted.event_id.hex()[:8] in findings[0].where


def test_a_backdate_within_the_clock_margin_or_after_the_partners_events_is_not_caught() -> None:
    """What stays open (§17.6): any date after the partner's newest event shown."""
    alex, made, accepted = _made()
    blakes = next(e for e in made.events if e.event_id == accepted.event_id)
    for created_at in (blakes.body.recorded_at - CLOCK_MARGIN_MS, blakes.body.recorded_at):
        assert "created_before_events" not in codes(_backdated(made, alex, created_at))


def test_the_exporters_own_events_bound_nothing() -> None:
    """The exporter's device writes its own events' times, the declaration's included
    (written just after the export's time is taken): they neither prove nor break."""
    alex, _, built, _ = _agreed()
    alex.clock_ms = CREATED_AT_MS + DAY_MS  # Alex's events are dated a day after
    late = alex.write(AgreementProposed(title="Sleep", clauses=["By 23:00"]), deps=[built[-1]])
    made = Made(alex, [*built, late], {b.event_id for b in [*built[3:], late]})
    assert codes(made.document) == []


@pytest.mark.parametrize("ahead_min", [5, 30])
def test_a_partners_clock_ahead_of_the_exporters(ahead_min: int) -> None:
    """Blake's phone runs ``ahead_min`` minutes fast: within the margin the export is
    dated now and verifies; beyond it, build_export refuses a date before Blake's event,
    and the app dates the export at that event less the margin, which verifies."""
    now = CREATED_AT_MS
    alex, _, built, _ = _agreed(blake_clock_ms=now + (ahead_min - 1) * MINUTE_MS)
    chosen = {b.event_id for b in built[3:]}
    events = admitted(built)
    dated = not_before_partner(SPACE_ID, events, alex.device_id, now)
    if ahead_min * MINUTE_MS <= CLOCK_MARGIN_MS:
        assert dated == now
    else:
        assert dated == now + ahead_min * MINUTE_MS - CLOCK_MARGIN_MS
        with pytest.raises(ExportError, match="dated before an event of your partner"):
            Made(alex, built, chosen, created_at_ms=now)
        # The refused attempt wrote a declaration: start again from the same history.
        alex, _, built, _ = _agreed(blake_clock_ms=now + (ahead_min - 1) * MINUTE_MS)
    made = Made(alex, built, chosen, created_at_ms=dated)
    assert codes(made.document) == []
    assert doc_of(made.document).created_at == dated


def test_build_export_refuses_a_date_before_the_partners_event() -> None:
    alex, _, built, accepted = _agreed()
    events = admitted(built)
    with pytest.raises(ExportError, match="dated before an event of your partner"):
        build_export(
            space_id=SPACE_ID,
            events=events,
            chosen={e.event_id for e in events if e.event_id == accepted.event_id},
            events_key_for_epoch=lambda epoch: crypto.events_key_for(EPOCH_KEYS[epoch]),
            exporter=alex.device,
            title="Agreements",
            created_at_ms=0,
        )


def test_only_the_partners_events_shown_date_an_export_and_a_wrong_clock_is_refused() -> None:
    """Blake's phone is a month fast. An export of only Alex's own entries is dated now
    (Blake's clock must not move it, and with it which consents still hold); one that
    would show Blake's entry is refused in plain words, not dated a month ahead."""
    now = CREATED_AT_MS
    alex, _, built, accepted = _agreed(blake_clock_ms=now + 30 * DAY_MS)
    events = admitted(built)
    alexs_own = {b.event_id for b in built if b.author == alex.device_id}
    assert not_before_partner(SPACE_ID, events, alex.device_id, now, chosen=alexs_own) == now
    with pytest.raises(ExportError, match="more than a day after this device's clock"):
        not_before_partner(SPACE_ID, events, alex.device_id, now, chosen={accepted.event_id})
