"""Events that break the other side (issue #10): a partner's app that signs and encrypts
hostile content must never stop this client. Each such event is an ``invalid_event``
finding with its id, stays out of every view, and what comes after it is shown.
(docs/PROTOCOL.md §9.8, docs/THREAT_MODEL.md §21)"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from client.cli.parser import main
from client.views.present import iso_utc, local_time
from schemas.payloads import EventBody, JournalEntry
from tests.client.builders import Built, Writer, entry, paired
from tests.integration.cli import PASSPHRASE
from tests.integration.offline_home import build_home, deliver_more

MAX_MS = 2**53 - 1

LISTINGS: list[list[str]] = [
    ["timeline"],
    ["journal", "list", "--all"],
    ["agreement", "list"],
    ["plan", "list"],
    ["windows", "list"],
    ["disclosures"],
    ["checkins"],
    ["sobriety", "show"],
    ["milestone", "list"],
    ["gratitude", "list"],
    ["signals"],
    ["status"],
]


def hostile_write(
    writer: Writer,
    raw: bytes,
    deps: list[Built],
    *,
    recorded_at: int | None = None,
    occurred_at: int | None = None,
) -> Built:
    """A genuine event of ``writer`` (signed, encrypted, chained, right clock) whose
    plaintext is whatever a modified app chose."""
    lamport = 1 + max([writer.lamport, *(d.lamport for d in deps)])
    at = writer.clock_ms + 60_000
    body = EventBody(
        deps=[d.event_id for d in deps],
        lamport=lamport,
        recorded_at=at if recorded_at is None else recorded_at,
        occurred_at=at if occurred_at is None else occurred_at,
        payload=msgspec.Raw(raw),
    )
    return writer.write(raw, deps=deps, lamport=lamport, plaintext=msgspec.msgpack.encode(body))


def nested(depth: int, leaf: bytes = b"\x00") -> bytes:
    return b"\x91" * depth + leaf


def pack(value: object) -> bytes:
    return msgspec.msgpack.encode(value)


KINDS = [
    "journal_entry",
    "journal_amended",
    "agreement_proposed",
    "agreement_accepted",
    "disclosure_made",
    "check_in",
    "signal_sent",
    "signal_cleared",
    "milestone_marked",
    "sobriety_started",
    "profile_updated",
    "member_joined",
    "key_rotated",
    "no_such_kind",
]

_values = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.sampled_from([MAX_MS, 2**53, -1, 0]),
    st.text(max_size=50),
    st.text(min_size=5000, max_size=70_000).map(lambda t: t or "x"),
    st.binary(max_size=40),
    st.none(),
    st.lists(st.integers(min_value=-(2**63), max_value=2**64 - 1), max_size=5),
)
_fields = st.sampled_from(
    [
        "text",
        "title",
        "clauses",
        "version",
        "entry",
        "until",
        "level",
        "kind",
        "summary",
        "date",
        "mood",
        "tags",
        "name",
    ]
)
payloads = st.one_of(
    # Nesting far past any recursion limit, in the payload or one of its fields.
    st.integers(min_value=1000, max_value=200_000).map(nested),
    st.tuples(st.sampled_from(KINDS), st.integers(min_value=500, max_value=50_000)).map(
        lambda kd: b"\x82\xa4type" + pack(kd[0]) + b"\xa4text" + nested(kd[1])
    ),
    # Known and unknown kinds with fields of any type and size.
    st.tuples(st.sampled_from(KINDS), st.dictionaries(_fields, _values, max_size=4)).map(
        lambda kd: pack({"type": kd[0], **kd[1]})
    ),
    # A valid entry, or msgpack values of any shape where a payload belongs.
    st.just(pack(JournalEntry(text="a fine entry"))),
    _values.map(pack),
)
times = st.one_of(st.none(), st.sampled_from([MAX_MS, 2**50, 0, 1]))


def run_cli(home: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--home", str(home), *args])
    return code, out.getvalue(), err.getvalue()


def assert_every_listing_renders(home: Path) -> None:
    for listing in LISTINGS:
        for extra in ([], ["--json"]):
            code, out, err = run_cli(home, *listing, *extra)
            assert "unexpected" not in err, (listing, extra, err)
            assert code == 0, (listing, extra, err)
            if extra:
                json.loads(out)
    code, out, err = run_cli(home, "verify")
    assert code in (0, 1), err
    assert "unexpected" not in err, err


@pytest.fixture
def passphrase_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRELLIS_PASSPHRASE", PASSPHRASE)


@settings(
    max_examples=12,
    deadline=None,
    # Each example runs every listing in-process; shrinking a failure would take minutes.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=payloads, recorded_at=times, occurred_at=times)
def test_hostile_validly_signed_payloads_never_stop_admission_views_or_listings(
    passphrase_env: None, raw: bytes, recorded_at: int | None, occurred_at: int | None
) -> None:
    pair = paired()
    hostile = hostile_write(
        pair.alex, raw, [pair.joined], recorded_at=recorded_at, occurred_at=occurred_at
    )
    after = entry(pair.alex, "Written after it.", deps=[pair.joined])
    home = Path(tempfile.mkdtemp(prefix="trellis-hostile-"))
    try:
        build_home(home, pair.blake, [*pair.membership, hostile, after])
        assert_every_listing_renders(home)
        _, out, _ = run_cli(home, "journal", "list", "--json")
        texts = [item["text"] for item in json.loads(out)]
        # What came after the hostile event is shown: sync goes on.
        assert "Written after it." in texts
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_a_payload_nested_thousands_deep_is_an_invalid_event_finding_with_its_id(
    tmp_path: Path, passphrase_env: None
) -> None:
    pair = paired()
    hostile = hostile_write(pair.alex, nested(5000), [pair.joined])
    after = entry(pair.alex, "Still here.", deps=[pair.joined])

    build_home(tmp_path, pair.blake, [*pair.membership, hostile, after])

    code, out, _ = run_cli(tmp_path, "status", "--json")
    findings = json.loads(out)["integrity"]
    [invalid] = [f for f in findings if f["code"] == "invalid_event"]
    assert invalid["severity"] == "proof"
    assert invalid["events"] == [hostile.event_id.hex()]
    code, out, _ = run_cli(tmp_path, "verify")
    assert code == 1
    assert hostile.event_id.hex()[:8] in out
    code, out, _ = run_cli(tmp_path, "timeline", "--json")
    assert hostile.event_id.hex() not in out
    assert "Still here." in out


def test_a_time_of_2_to_the_53_ms_is_set_aside_and_every_listing_still_renders(
    tmp_path: Path, passphrase_env: None
) -> None:
    pair = paired()
    far = hostile_write(
        pair.alex,
        pack(JournalEntry(text="From the far future.")),
        [pair.joined],
        recorded_at=MAX_MS,
    )
    build_home(tmp_path, pair.blake, [*pair.membership, far])

    assert_every_listing_renders(tmp_path)
    _, out, _ = run_cli(tmp_path, "journal", "list", "--json")
    assert "From the far future." not in out
    _, out, _ = run_cli(tmp_path, "status", "--json")
    assert far.event_id.hex() in out


def test_formatters_show_any_time_without_failing() -> None:
    for ms in (0, MAX_MS, 2**63, -(2**40)):
        assert iso_utc(ms)
        assert local_time(ms)


def test_an_unreadable_body_is_refused_with_a_finding_and_listings_still_render(
    tmp_path: Path, passphrase_env: None
) -> None:
    pair = paired()
    broken = hostile_write(pair.alex, b"", [pair.joined])  # the body's msgpack is cut short

    report = build_home(tmp_path, pair.blake, [*pair.membership, broken])

    assert report.rejected == 1
    assert_every_listing_renders(tmp_path)
    _, out, _ = run_cli(tmp_path, "status", "--json")
    assert broken.event_id.hex() in out


def test_a_hostile_event_held_pending_does_not_stop_the_integrity_check(
    tmp_path: Path, passphrase_env: None
) -> None:
    pair = paired()
    skipped = entry(pair.alex, "Not delivered yet.", deps=[pair.joined])
    hostile = hostile_write(pair.alex, nested(50_000), [pair.joined])

    report = build_home(tmp_path, pair.blake, [*pair.membership, hostile])

    assert report.received == len(pair.membership)  # the hostile one waits for its prev
    assert_every_listing_renders(tmp_path)
    build_home_more = deliver_more(tmp_path, [skipped])
    assert build_home_more.received == 2  # and both pass once it arrives
