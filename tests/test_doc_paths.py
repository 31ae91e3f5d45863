"""README and docs point at code that exists (issue #12: "README and docs point to the new
paths").

Every repository path the prose names (``client/views/agreements/fold.py``,
``server/session.py``, ``tests/integration/...``) must exist, and every dotted name of
ours (``client.views.present``, ``schemas.errors.ErrorCode``) must import, so a module
that moves takes its mentions along in the same change.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_PATH = re.compile(r"(?<![\w/.-])((?:client|server|schemas|tests|bench|docs)/[\w./-]*\w)(?![\w…*])")
"""A path of ours; one followed by ``…`` or ``*`` is a pattern (``0001_…sql``)."""
_DOTTED = re.compile(r"(?<![\w./-])((?:client|server|schemas)(?:\.[A-Za-z_]\w*)+)")


def _mentions(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """(where, what) for every match, where is ``file:line``."""
    found = []
    for doc in DOCS:
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            found.extend(
                (f"{doc.name}:{number}", m.group(1).rstrip(".")) for m in pattern.finditer(line)
            )
    return found


def _resolves(dotted: str) -> bool:
    """Whether ``dotted`` is a module of ours, or an attribute reached from one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def test_the_docs_name_paths_and_modules() -> None:
    assert len(_mentions(_PATH)) > 20
    assert len(_mentions(_DOTTED)) > 5


def test_every_path_named_in_the_docs_exists() -> None:
    missing = [f"{where} {path}" for where, path in _mentions(_PATH) if not (ROOT / path).exists()]
    assert missing == []


def test_every_module_named_in_the_docs_imports() -> None:
    missing = [f"{where} {name}" for where, name in _mentions(_DOTTED) if not _resolves(name)]
    assert missing == []
