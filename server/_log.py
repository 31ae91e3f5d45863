"""Logging: text or JSON lines, with request and connection ids, and nothing secret.

Only shortened ids are ever logged: enough to correlate lines, too little to be an
identifier someone could use (docs/THREAT_MODEL.md §14). Envelope bytes, signatures,
invite wrapped keys, invite ids and client addresses are never logged at all; a test
runs a whole pairing and sync through a relay at debug level and searches its log for
every secret and ciphertext it handled (tests/relay_ops/test_logs.py).

Every line carries the id of the HTTP request (``req``) or sync connection (``conn``)
it belongs to, when it belongs to one: the ids live in context variables that the
request middleware (app.py) and the sync shell (sync.py) set, and that asyncio copies
into every task they start.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from contextvars import ContextVar

logger = logging.getLogger("trellis.relay")

SHORT_ID_HEX = 8
LOG_ID_BYTES = 4

request_id: ContextVar[str | None] = ContextVar("trellis_request_id", default=None)
connection_id: ContextVar[str | None] = ContextVar("trellis_connection_id", default=None)

_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def short(identifier: bytes) -> str:
    """The first 8 hex digits of an id, for log lines."""
    return identifier[: SHORT_ID_HEX // 2].hex()


def new_log_id() -> str:
    """A fresh random id for one request or connection (8 hex digits)."""
    return os.urandom(LOG_ID_BYTES).hex()


def request_id_from_header(value: str | None) -> str:
    """A proxy's X-Request-Id when it is a plain token, else a fresh id: whatever a
    client sends must not be able to forge or break log lines."""
    if value and _ACCEPTABLE_REQUEST_ID.match(value):
        return value
    return new_log_id()


class _ContextIds(logging.Filter):
    """Attach the current request and connection ids to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.connection_id = connection_id.get()
        return True


class _NoClientAddresses(logging.Filter):
    """Drop uvicorn's per-connection lines, which name the client's address and port
    (``127.0.0.1:49942 - "WebSocket /v1/sync" [accepted]``). The relay logs its own
    line per connection, with a connection id and without the address."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith('%s - "WebSocket'))


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = []
        if rid := getattr(record, "request_id", None):
            ids.append(f"req={rid}")
        if cid := getattr(record, "connection_id", None):
            ids.append(f"conn={cid}")
        record.ids = f" [{' '.join(ids)}]" if ids else ""
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, and req / conn / exc if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if rid := getattr(record, "request_id", None):
            line["req"] = rid
        if cid := getattr(record, "connection_id", None):
            line["conn"] = cid
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str, log_format: str) -> None:
    """Send every logger (ours and uvicorn's) to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(_ContextIds())
    handler.addFilter(_NoClientAddresses())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    # Libraries never log below info here: their debug lines carry raw bytes (aiosqlite
    # prints every query's parameters, websockets the first bytes of every frame).
    chosen = logging.getLevelName(level.upper())
    root.setLevel(max(chosen, logging.INFO))
    logging.getLogger("trellis").setLevel(chosen)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
