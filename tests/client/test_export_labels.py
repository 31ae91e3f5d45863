"""Every event kind and field an export's report can show has plain words
(client/export/consent.py ``WORD_LABELS``, client/export/html_labels.py ``FIELD_WORDS``,
client/views/present ``event_summary``).

The lists are enumerated from the schemas, so a payload kind or field added later fails
here until someone gives it words: a therapist never reads "boundary_set" or
"from_stage", and a left-out event is never "something your partner wrote".
"""

from __future__ import annotations

import types
from typing import Any

import msgspec
import pytest

from client.core.verify import VerifiedEvent
from client.export.consent import WORD_LABELS, left_out_label, left_out_sentence, may_be_left_out
from client.export.html_labels import FIELD_WORDS, HIDDEN
from client.views.present import event_summary
from schemas.payloads import PAYLOAD_TYPES, EventBody, Payload, payload_kind
from tests.client.builders import Writer

KINDS = sorted(str(t.__struct_config__.tag) for t in PAYLOAD_TYPES)


def _field_names() -> set[str]:
    """Every field of every payload and of every structure inside one."""
    (_,), components = msgspec.json.schema_components([Payload])
    return {name for c in components.values() for name in c.get("properties", {})}


def test_the_kinds_are_enumerated_from_the_schema() -> None:
    assert len(KINDS) == len(PAYLOAD_TYPES) > 40
    assert {"pacing_forward_proposed", "pacing_stepped_back", "boundary_set"} <= set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_that_can_be_left_out_has_words(kind: str) -> None:
    if not may_be_left_out(kind):
        return
    assert kind in WORD_LABELS, f"no words for a left-out {kind}"
    assert left_out_label(kind) != "something your partner wrote"


@pytest.mark.parametrize(
    "kind",
    ["pacing_plan_proposed", "pacing_forward_proposed", "pacing_stepped_back", "boundary_set"],
)
def test_pacing_moves_and_boundaries_have_words(kind: str) -> None:
    assert WORD_LABELS[kind].startswith(("a ", "an "))


def test_every_field_the_report_can_show_has_words() -> None:
    missing = sorted(_field_names() - HIDDEN - FIELD_WORDS.keys())
    assert missing == [], f"fields without words in the report: {missing}"
    assert not (FIELD_WORDS.keys() & HIDDEN)
    for words in FIELD_WORDS.values():
        assert words
        assert words[0].isupper()
        assert "_" not in words


def _sample(info: msgspec.inspect.Type) -> Any:
    """A value of the type ``info`` describes (the first choice of a union or literal)."""
    if isinstance(info, msgspec.inspect.StrType):
        return "2026-01-01" if info.pattern and "[0-9]{4}" in info.pattern else "words"
    if isinstance(info, msgspec.inspect.BytesType):
        return bytes(info.min_length or 32)
    if isinstance(info, msgspec.inspect.BoolType):
        return False
    if isinstance(info, msgspec.inspect.IntType):
        return info.ge or 0
    if isinstance(info, msgspec.inspect.LiteralType):
        return info.values[0]
    if isinstance(info, msgspec.inspect.ListType):
        return []
    if isinstance(info, msgspec.inspect.UnionType):
        return _sample(next(t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)))
    if isinstance(info, msgspec.inspect.StructType):
        return info.cls(**{f.name: _sample(f.type) for f in info.fields if f.required})
    raise AssertionError(f"no sample for {info}")


class _Names:
    def author_name(self, device_id: bytes) -> str:
        return "Blake"

    def member_name(self, member_id: bytes) -> str:
        return "Blake"


@pytest.mark.parametrize("cls", PAYLOAD_TYPES, ids=lambda t: str(t.__struct_config__.tag))
def test_every_kind_has_a_sentence_of_its_own(cls: type[msgspec.Struct]) -> None:
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    payload = _sample(info)
    writer = Writer("blake", "Blake")
    event = VerifiedEvent(
        bytes(32),
        types.SimpleNamespace(author=writer.device_id),  # type: ignore[arg-type]
        b"",
        EventBody(deps=[], lamport=1, recorded_at=0, occurred_at=0, payload=msgspec.Raw(b"")),
        payload,
    )
    sentence = event_summary(event, _Names())
    assert sentence
    assert sentence != "Blake wrote an event", f"{payload_kind(payload)} has no sentence"


def test_a_left_out_proposal_and_a_recovery_plan_read_apart() -> None:
    """Both are ``agreement_proposed``: the left-out item's ``about`` (the version a
    proposal revises, or its own id) tells them apart in the CLI, the app and the report;
    a recovery plan is left out without one, as exports always wrote it."""
    proposal = left_out_sentence("agreement_proposed", "They can.", about=bytes(32))
    plan = left_out_sentence("agreement_proposed", "They can.")
    assert proposal.startswith("Left out an agreement proposal:")
    assert plan.startswith("Left out a recovery plan:")
