"""verify-export never raises, whatever it is given (docs/PROTOCOL.md "Exports",
"Verifying"): mutations of a real export, re-signed by its exporter so that they reach
past the signature check into chains, keys, payloads, attribution and rendering.
"""

from __future__ import annotations

import base64

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from client.export import render_html, verify_export
from client.export.compare import cross_check
from client.export.format import ExportDocument, RevealedDoc, from_b64
from client.views.present import iso_utc, local_time
from tests.client.test_export import Story, doc_of, export_of, signed_by, tell_story

_STORY: Story = tell_story()
_EXPORT = export_of(_STORY)
_ORIGINAL, _ = verify_export(_EXPORT)


def _flip_envelope(
    doc: ExportDocument, chain: int, index: int, pos: int, mask: int
) -> ExportDocument:
    chains = list(doc.chains)
    c = chains[chain % len(chains)]
    envelopes = list(c.envelopes)
    raw = bytearray(from_b64(envelopes[index % len(envelopes)]) or b"")
    if raw:
        raw[pos % len(raw)] ^= mask
    envelopes[index % len(envelopes)] = base64.b64encode(bytes(raw)).decode()
    chains[chain % len(chains)] = msgspec.structs.replace(c, envelopes=envelopes)
    return msgspec.structs.replace(doc, chains=chains)


@st.composite
def mutated(draw: st.DrawFn) -> ExportDocument:
    doc = doc_of(_EXPORT)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.integers(0, 7))
        if kind == 0:
            doc = _flip_envelope(
                doc,
                draw(st.integers(0, 9)),
                draw(st.integers(0, 9)),
                draw(st.integers(0, 4000)),
                draw(st.integers(1, 255)),
            )
        elif kind == 1:
            doc = msgspec.structs.replace(doc, created_at=draw(st.integers(0, 2**53 - 1)))
        elif kind == 2:
            revealed = list(doc.revealed)
            i = draw(st.integers(0, len(revealed) - 1))
            key = draw(st.binary(min_size=32, max_size=32)).hex()
            revealed[i] = RevealedDoc(revealed[i].event_id, key)
            doc = msgspec.structs.replace(doc, revealed=revealed)
        elif kind == 3:
            doc = msgspec.structs.replace(doc, revealed=draw(st.permutations(doc.revealed)))
        elif kind == 4 and len(doc.revealed) > 1:
            keep = draw(st.lists(st.sampled_from(doc.revealed), min_size=1, unique_by=id))
            doc = msgspec.structs.replace(doc, revealed=keep)
        elif kind == 5:
            chains = list(doc.chains)
            i = draw(st.integers(0, len(chains) - 1))
            cut = draw(st.integers(1, len(chains[i].envelopes)))
            chains[i] = msgspec.structs.replace(
                chains[i], envelopes=chains[i].envelopes[:cut], head_seq=cut
            )
            doc = msgspec.structs.replace(doc, chains=chains)
        elif kind == 6:
            doc = msgspec.structs.replace(doc, chains=draw(st.permutations(doc.chains)))
        else:
            doc = msgspec.structs.replace(
                doc, title=draw(st.text(min_size=1, max_size=300).filter(str.strip))
            )
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_verify_export_never_raises_on_mutated_real_exports(doc: ExportDocument) -> None:
    data = signed_by(doc, _STORY.pair.alex.device)
    verified, findings = verify_export(data)
    assert (verified is None) == bool(findings)
    if verified is not None:
        assert _ORIGINAL is not None
        assert verified.scope
        html = render_html(data).encode()
        assert verify_export(html)[1] == []
        cross_check(verified, _ORIGINAL)
        for event in verified.revealed:
            local_time(event.recorded_at)


def test_times_past_the_year_9999_are_written_without_an_error() -> None:
    assert iso_utc(2**53 - 1) == f"{2**53 - 1} ms after 1970-01-01 00:00 UTC"
    assert local_time(2**53 - 1) == f"{2**53 - 1} ms after 1970-01-01 00:00 UTC"
