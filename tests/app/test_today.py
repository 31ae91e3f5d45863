"""What Today lists for each partner (client/views/today.py), with two real spaces on
a real relay: an agreement waits for the partner who did not propose it until they
answer; a disclosure is unmarked for the partner until they mark it."""

from __future__ import annotations

from pathlib import Path

from client.views.today import agreements_waiting_for, disclosures_unmarked_for
from schemas.practices import (
    AgreementAccepted,
    AgreementProposed,
    DisclosureAcknowledged,
    DisclosureMade,
)
from tests.integration.pairing import pair
from tests.integration.relay_process import RelayProcess


async def test_today_lists_what_waits_for_each_partner(tmp_path: Path, relay: RelayProcess) -> None:
    alex, blake = await pair(tmp_path, relay.url)
    try:
        proposal = await alex.append(
            AgreementProposed(title="Phones down at dinner", clauses=["No phones at the table."])
        )
        shared = await alex.append(DisclosureMade(kind="meeting", summary="Went to a meeting."))
        await alex.sync()
        await blake.sync()
        alex_id, blake_id = alex.me().member_id, blake.me().member_id  # type: ignore[union-attr]

        assert [a.id for a in agreements_waiting_for(blake.views(), blake_id)] == [
            proposal.event_id
        ]
        assert agreements_waiting_for(alex.views(), alex_id) == []
        assert [d.id for d in disclosures_unmarked_for(blake.views(), blake_id)] == [
            shared.event_id
        ]
        assert disclosures_unmarked_for(alex.views(), alex_id) == []

        await blake.append(AgreementAccepted(version=proposal.event_id))
        await blake.append(
            DisclosureAcknowledged(disclosure=shared.event_id, response="Thank you.")
        )
        assert agreements_waiting_for(blake.views(), blake_id) == []
        assert disclosures_unmarked_for(blake.views(), blake_id) == []
    finally:
        await alex.close()
        await blake.close()
