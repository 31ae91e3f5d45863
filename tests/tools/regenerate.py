"""Write the generated contract files: ``python -m tests.tools.regenerate`` (``make schemas``).

- ``schemas/json/*.json``: JSON Schema from :func:`schemas.jsonschema.generate`; files
  there that it no longer produces are removed.
- ``schemas/json/export.json``: JSON Schema of the export document (client/export/format.py;
  generated here because ``schemas`` may not import ``client``).
- ``schemas/vectors/envelope.json``: known-answer vectors from :mod:`tests.tools.vectors`.

tests/schemas/test_generated_files_are_fresh.py fails until this has been run after a
change to the contract.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from client.export.format import ExportDocument
from schemas.jsonschema import generate, render
from tests.tools.vectors import VECTORS_FILE, render_envelope_vectors

ROOT = Path(__file__).resolve().parents[2]
JSON_DIR = ROOT / "schemas" / "json"
VECTORS_DIR = ROOT / "schemas" / "vectors"


EXPORT_SCHEMA_FILE = "export.json"


def export_schema() -> bytes:
    """JSON Schema of the export document (docs/PROTOCOL.md "Exports")."""
    document = msgspec.json.schema(ExportDocument)
    # ``summary`` is required in version 2 and absent in version 1; never null (a null
    # is not the canonical encoding of either). msgspec cannot say so: say it here.
    export = document["$defs"]["ExportDocument"]
    export["properties"]["summary"] = {"$ref": "#/$defs/FirstPage"}
    export["allOf"] = [
        {
            "if": {"properties": {"version": {"const": 2}}},
            "then": {"required": ["summary"]},
            "else": {"not": {"required": ["summary"]}},
        }
    ]
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "ExportDocument"
    document["description"] = (
        "A Trellis export (docs/PROTOCOL.md, Exports): one JSON object, valid only in its "
        "canonical encoding (fields in this order, compact, UTF-8, no BOM, '<', '>' and "
        "'&' written as \\u003c, \\u003e, \\u0026). Unknown fields are refused. "
        "chains[].envelopes are canonical envelope bytes (envelope.json) in standard "
        "padded base64; ids, keys and signatures are lowercase hex. Version 2 adds summary, "
        "the report's first page, which a verifier computes again from the revealed events."
    )
    return render(document)


def expected_files() -> dict[Path, bytes]:
    """Every generated path with the contents it should have."""
    files = {JSON_DIR / name: data for name, data in generate().items()}
    files[JSON_DIR / EXPORT_SCHEMA_FILE] = export_schema()
    files[VECTORS_DIR / VECTORS_FILE] = render_envelope_vectors()
    return files


def stale_json_files() -> list[Path]:
    """Schema files on disk that the generator no longer produces."""
    produced = {*generate(), EXPORT_SCHEMA_FILE}
    return sorted(p for p in JSON_DIR.glob("*.json") if p.name not in produced)


def main() -> None:
    for path in stale_json_files():
        path.unlink()
        print(f"removed {path.relative_to(ROOT)}")
    for path, data in expected_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.read_bytes() == data:
            continue
        path.write_bytes(data)
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
