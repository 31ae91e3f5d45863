"""Writes a partner may not make (issue #10; docs/PROTOCOL.md §10.6): refused by this
client before anything is signed, and, when a modified client writes them anyway, a
finding that is never shown as having taken effect."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from pathlib import Path

import pytest

from client.cli.parser import main
from client.errors import TrellisError
from client.space import Space
from schemas.payloads import JournalAmended, JournalRetracted
from schemas.practices import (
    AgreementAccepted,
    AgreementProposed,
    DisclosureAcknowledged,
    DisclosureMade,
)
from tests.client.builders import entry, paired
from tests.integration.cli import PASSPHRASE
from tests.integration.offline_home import build_home


def run_cli(home: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["--home", str(home), *args])
    return code, out.getvalue()


@pytest.fixture
def passphrase_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRELLIS_PASSPHRASE", PASSPHRASE)


def test_accepting_the_same_version_twice_is_refused_before_it_is_written(
    tmp_path: Path,
) -> None:
    pair = paired()
    proposal = pair.alex.write(
        AgreementProposed(title="Phones at night", clauses=["Off by 10"]), deps=[pair.joined]
    )
    build_home(tmp_path, pair.blake, [*pair.membership, proposal])

    async def accept_twice() -> tuple[int, TrellisError]:
        space = await Space.open(tmp_path, passphrase=PASSPHRASE)
        try:
            await space.append(AgreementAccepted(version=proposal.event_id))
            with pytest.raises(TrellisError) as refused:
                await space.append(AgreementAccepted(version=proposal.event_id))
            return len(space.events()), refused.value
        finally:
            await space.close()

    events, refused = asyncio.run(accept_twice())
    assert refused.code == "not_allowed"
    assert "already accepted" in refused.message
    assert events == len(pair.membership) + 2  # the proposal and one acceptance


def test_what_a_modified_client_writes_against_the_rules_is_a_finding_with_no_effect(
    tmp_path: Path, passphrase_env: None
) -> None:
    pair = paired()
    mine = entry(pair.alex, "Alex's own words.", deps=[pair.joined])
    proposal = pair.alex.write(
        AgreementProposed(title="Phones at night", clauses=["Off by 10"]), deps=[mine]
    )
    shared = pair.blake.write(DisclosureMade(kind="meeting", summary="Meeting"), deps=[proposal])
    blake = pair.blake
    amended = blake.write(JournalAmended(entry=mine.event_id, text="Rewritten by Blake."))
    retracted = blake.write(JournalRetracted(entry=mine.event_id))
    own_ack = blake.write(DisclosureAcknowledged(disclosure=shared.event_id))
    first = blake.write(AgreementAccepted(version=proposal.event_id))
    again = blake.write(AgreementAccepted(version=proposal.event_id))
    bad = [amended, retracted, own_ack, again]
    build_home(
        tmp_path, pair.alex, [*pair.membership, mine, proposal, shared, *bad[:3], first, again]
    )

    _, out = run_cli(tmp_path, "journal", "list", "--json", "--all")
    [item] = json.loads(out)
    assert item["text"] == "Alex's own words."
    assert item["retracted"] is False
    _, out = run_cli(tmp_path, "timeline")
    for line in out.splitlines():
        if "updated a journal entry" in line or "withdrew a journal entry" in line:
            assert "this had no effect" in line
    _, out = run_cli(tmp_path, "timeline", "--json")
    effects = {e["id"]: e["had_effect"] for e in json.loads(out)}
    assert [effects[b.event_id.hex()] for b in bad] == [False] * 4
    assert effects[first.event_id.hex()] is True
    code, out = run_cli(tmp_path, "verify")
    assert code == 1
    for word in ("amend_by_other_member", "retract_by_other_member", "duplicate_consent"):
        assert word in out
    _, out = run_cli(tmp_path, "status", "--json")
    flagged = {e for f in json.loads(out)["integrity"] for e in f["events"]}
    assert {b.event_id.hex() for b in bad} <= flagged
