"""Tamper evidence: what one device can tell about a relay that lies, sans-I/O
(docs/PROTOCOL.md §9.6, docs/THREAT_MODEL.md §5.3).

Theory of operation. Admission (client/core/verify.py) already refuses anything forged and holds
back anything that cannot be placed yet. This module turns what admission and the
sync session saw into **findings**: typed, stable codes with a sentence for people and
the events involved, each either

* a **warning**: it may be innocent or passing (an event that simply has not arrived
  yet, a partner who was offline); it clears by itself when the data arrives; or
* **proof**: evidence that does not go away (bytes that are not genuine, two signed
  histories of one device, the relay contradicting what it said before).

Three kinds of material feed it, all kept on the device:

1. the events themselves: pending ones (what they wait for), refused ones (why), and
   accepted ones with their authors' frontiers (``deps``);
2. a :class:`RelayView`: the relay's own numbering as this device read it, relay seq by
   relay seq (what bytes it served there, and when this device first learned it);
3. relay misbehaviour seen in passing (:class:`Sighting`), kept as proof.

Nothing here changes the log or the views: suspect events stay pending or refused, as
admission decided. Findings only say what was seen.

The package, by job (import from here): :mod:`~client.core.integrity.findings` (what a
finding is), :mod:`~client.core.integrity.refusals` (what admission refused),
:mod:`~client.core.integrity.missing` (what has not arrived, or was lost),
:mod:`~client.core.integrity.split_view` (what the partner has seen),
:mod:`~client.core.integrity.sightings` (relay misbehaviour seen in passing) and
:mod:`~client.core.integrity.assess` (all of them together). The device keeps its record
of the relay in client/store/integrity_store.py.
"""

from client.core.integrity.assess import assess
from client.core.integrity.findings import Finding, FindingCode, Severity
from client.core.integrity.missing import Waiting, rollback_finding, waiting_item, withheld_finding
from client.core.integrity.refusals import Refusal, invalid_payload_findings, refusal_findings
from client.core.integrity.sightings import replay_findings
from client.core.integrity.split_view import (
    SPLIT_VIEW_GRACE_MS,
    conflicting_frontier_findings,
    split_view_findings,
)

__all__ = [
    "SPLIT_VIEW_GRACE_MS",
    "Finding",
    "FindingCode",
    "Refusal",
    "Severity",
    "Waiting",
    "assess",
    "conflicting_frontier_findings",
    "invalid_payload_findings",
    "refusal_findings",
    "replay_findings",
    "rollback_finding",
    "split_view_findings",
    "waiting_item",
    "withheld_finding",
]
