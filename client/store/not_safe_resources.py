"""The person's own "Not safe?" resources (helplines, a friend's number): a small
unencrypted file in the home folder, so the page works before unlock (docs/
THREAT_MODEL.md §25). Read by ``trellis not-safe`` and the app's Not safe? page."""

from __future__ import annotations

import json
from pathlib import Path

RESOURCES_FILE = "not-safe-resources.json"
MAX_RESOURCES = 20
MAX_RESOURCE_CHARS = 300


def load_resources(home: Path) -> list[str]:
    """The saved resources; none when the file is missing or unreadable."""
    try:
        data = json.loads((home / RESOURCES_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return []
    return [str(r) for r in data][:MAX_RESOURCES] if isinstance(data, list) else []
