"""Write the generated contract files: ``python -m tests.tools.regenerate`` (``make schemas``).

- ``schemas/json/*.json``: JSON Schema from :func:`schemas.jsonschema.generate`; files
  there that it no longer produces are removed.
- ``schemas/vectors/envelope.json``: known-answer vectors from :mod:`tests.tools.vectors`.

tests/schemas/test_generated_files_are_fresh.py fails until this has been run after a
change to the contract.
"""

from __future__ import annotations

from pathlib import Path

from schemas.jsonschema import generate
from tests.tools.vectors import VECTORS_FILE, render_envelope_vectors

ROOT = Path(__file__).resolve().parents[2]
JSON_DIR = ROOT / "schemas" / "json"
VECTORS_DIR = ROOT / "schemas" / "vectors"


def expected_files() -> dict[Path, bytes]:
    """Every generated path with the contents it should have."""
    files = {JSON_DIR / name: data for name, data in generate().items()}
    files[VECTORS_DIR / VECTORS_FILE] = render_envelope_vectors()
    return files


def stale_json_files() -> list[Path]:
    """Schema files on disk that the generator no longer produces."""
    produced = set(generate())
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
