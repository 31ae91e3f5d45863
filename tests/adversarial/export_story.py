"""An export story for the adversarial export tests: two partners, real envelopes
(tests/client/builders.py), an export made as ``trellis export`` makes it, and a forger
who reveals more and signs again with their own device."""

from __future__ import annotations

import msgspec

from client.core.verify import VerifiedEvent
from client.export import build_export, choose_with_consent, verify_export
from client.export.format import (
    HTML_SCRIPT_CLOSE,
    HTML_SCRIPT_OPEN,
    ExportDocument,
    RevealedDoc,
    encode_document,
    from_b64,
    signed_bytes,
)
from client.keys import crypto
from client.views.fold import causal_order
from schemas.practices import ExportConsented
from tests.client.builders import (
    EPOCH_KEYS,
    SPACE_ID,
    START_MS,
    Built,
    Writer,
    genesis,
    invite_issued,
    member_joined,
    new_verifier,
)

DAY_MS = 86_400_000
CREATED_AT_MS = START_MS + DAY_MS
ASKED = ExportConsented(
    recipient="Dr. Rivera", purpose="Our session", expires_at=CREATED_AT_MS + 30 * DAY_MS
)


def admitted(built: list[Built]) -> list[VerifiedEvent]:
    verifier = new_verifier()
    events = []
    for b in built:
        outcome = verifier.admit(b.data)
        assert outcome.event is not None, (outcome.code, outcome.reason)
        events.append(outcome.event)
    return causal_order(events)


def couple() -> tuple[Writer, Writer, list[Built]]:
    alex, blake = Writer("alex", "Alex"), Writer("blake", "Blake")
    created = genesis(alex)
    invited = invite_issued(alex)
    joined = member_joined(blake, deps=[invited])
    return alex, blake, [created, invited, joined]


class Made:
    """An export as ``trellis export`` makes it: what the consent rules kept, what they
    left out, and the signed document."""

    def __init__(
        self,
        writer: Writer,
        built: list[Built],
        chosen: set[bytes],
        *,
        created_at_ms: int = CREATED_AT_MS,
    ) -> None:
        events = admitted(built)
        kept, self.left_out = choose_with_consent(
            space_id=SPACE_ID,
            events=events,
            chosen={e.event_id for e in events if e.event_id in chosen},
            exporter=writer.device_id,
            declaration=ASKED,
            created_at_ms=created_at_ms,
        )
        self.declared = writer.write(
            msgspec.structs.replace(ASKED, left_out=self.left_out), deps=[built[-1]]
        )
        self.events = admitted([*built, self.declared])
        self.kept = kept
        self.document = build_export(
            space_id=SPACE_ID,
            events=self.events,
            chosen=kept | {self.declared.event_id},
            events_key_for_epoch=lambda epoch: crypto.events_key_for(EPOCH_KEYS[epoch]),
            exporter=writer.device,
            title="Agreements",
            created_at_ms=created_at_ms,
        )


def page_text(report: str) -> str:
    """The report without the embedded JSON: what a reader sees or prints."""
    before, rest = report.split(HTML_SCRIPT_OPEN.decode("ascii"), 1)
    return before + rest.split(HTML_SCRIPT_CLOSE.decode("ascii"), 1)[1]


def codes(document: bytes) -> list[str]:
    verified, findings = verify_export(document)
    assert (verified is None) == bool(findings)
    return [f.code for f in findings]


def with_revealed(made: Made, extra: list[VerifiedEvent], signer: Writer) -> bytes:
    """``made``'s document with ``extra`` revealed too (each with its real content key,
    in causal order before the declaration), signed again by ``signer``: what a
    modified app that skips the consent rule writes."""
    doc = msgspec.json.decode(made.document, type=ExportDocument)
    keys = {
        e.event_id.hex(): crypto.content_key_of(
            crypto.events_key_for(EPOCH_KEYS[e.envelope.epoch]), e.envelope
        ).hex()
        for e in extra
    }
    revealed = [*doc.revealed[:-1], *(RevealedDoc(i, k) for i, k in keys.items())]
    order = {e.event_id.hex(): n for n, e in enumerate(made.events)}
    revealed.sort(key=lambda r: order[r.event_id])
    revealed.append(doc.revealed[-1])
    forged = msgspec.structs.replace(doc, revealed=revealed)
    envelopes = [[from_b64(e) or b"" for e in c.envelopes] for c in forged.chains]
    signature = signer.device.sign(signed_bytes(forged, envelopes))
    return encode_document(msgspec.structs.replace(forged, signature=signature.hex()))


def resigned(doc: ExportDocument, signer: Writer) -> bytes:
    """``doc`` as edited, signed again by ``signer``'s device: the exporter's own
    modified app can always sign what it writes."""
    envelopes = [[from_b64(e) or b"" for e in c.envelopes] for c in doc.chains]
    signature = signer.device.sign(signed_bytes(doc, envelopes))
    return encode_document(msgspec.structs.replace(doc, signature=signature.hex()))


def doc_of(document: bytes) -> ExportDocument:
    return msgspec.json.decode(document, type=ExportDocument)
