"""The committed JSON Schema and test vectors match what the generators produce now."""

from __future__ import annotations

import json

import msgspec
import pytest

from schemas import envelope, http, payloads, protocol
from schemas.errors import ErrorCode
from schemas.jsonschema import generate
from tests.tools.regenerate import ROOT, expected_files, stale_json_files

STALE = "is stale: run `make schemas` (python -m tests.tools.regenerate) and commit the result"


@pytest.mark.parametrize("path", sorted(expected_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_generated_file_matches_the_generator(path):
    expected = expected_files()[path]
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run `make schemas`"
    assert path.read_bytes() == expected, f"{path.relative_to(ROOT)} {STALE}"


def test_no_schema_file_is_left_over_from_a_type_that_is_gone():
    assert stale_json_files() == [], f"schemas/json {STALE}"


def test_generation_is_deterministic():
    assert generate() == generate()
    assert expected_files() == expected_files()


def test_every_generated_file_is_sorted_pretty_json_with_a_trailing_newline():
    for path, data in expected_files().items():
        assert data.endswith(b"}\n") or data.endswith(b"]\n"), path.name
        assert json.dumps(json.loads(data), indent=2, sort_keys=True, ensure_ascii=False) + (
            "\n"
        ) == data.decode("utf-8")


def _wire_structs() -> set[str]:
    """Every public msgspec struct of the contract that travels between parties."""
    names = set()
    for module in (envelope, protocol, http, payloads):
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, msgspec.Struct)
                and value.__module__ == module.__name__
                and not name.startswith("_")
            ):
                names.add(name)
    # UnknownPayload is how a reader represents a payload it cannot read, not a type
    # anyone writes.
    return names - {"UnknownPayload"}


def test_every_wire_and_payload_struct_has_a_json_schema():
    described = set()
    for data in generate().values():
        described |= set(json.loads(data).get("$defs", {}))
    assert _wire_structs() - described == set()


def test_every_schema_says_what_it_describes_and_which_dialect():
    for name, data in generate().items():
        doc = json.loads(data)
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        assert doc["title"], name
        assert doc["description"], name


def test_msgpack_schemas_say_that_base64_strings_are_msgpack_bin_on_the_wire():
    for name in ("envelope.json", "client_message.json", "relay_message.json", "payload.json"):
        description = json.loads(generate()[name])["description"]
        assert "msgpack bin" in description, name
    assert "msgpack bin" in json.loads(generate()["event_body.json"])["description"]


def test_envelope_schema_is_an_array_of_exactly_eleven_fields_of_version_2():
    env = json.loads(generate()["envelope.json"])["$defs"]["Envelope"]
    assert env["type"] == "array"
    assert len(env["prefixItems"]) == 11
    assert env["minItems"] == env["maxItems"] == 11
    assert env["prefixItems"][0]["minimum"] == env["prefixItems"][0]["maximum"] == 2
    assert env["prefixItems"][7]["title"] == "key_commitment"


def test_error_codes_file_lists_every_code_with_message_close_code_and_status():
    listed = json.loads(generate()["error_codes.json"])["oneOf"]
    assert [entry["const"] for entry in listed] == [code.value for code in ErrorCode]
    for entry in listed:
        assert entry["description"]
        assert "x-close-code" in entry
        assert 400 <= entry["x-http-status"] <= 599


def test_every_position_of_an_array_like_struct_is_named_by_its_field():
    named = {}
    for data in generate().values():
        for name, component in json.loads(data).get("$defs", {}).items():
            if "prefixItems" in component:
                named[name] = [item["title"] for item in component["prefixItems"]]
    assert named["Envelope"] == list(envelope.Envelope.__struct_fields__)
    assert named["Ack"] == ["event_id", "seq"]
    assert named["Stored"] == ["seq", "envelope"]
