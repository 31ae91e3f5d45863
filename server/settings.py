"""Every tunable of the relay in one table: name, default, help (docs/OPERATIONS.md).

A setting comes from, in rising priority: its default here, the environment variable
``TRELLIS_RELAY_<NAME>``, the command-line flag ``--<name>``. The help text is part of
the field, so ``trellis-relay --help`` can never miss a setting (a test checks it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from schemas.envelope import MAX_CIPHERTEXT_BYTES

ENV_PREFIX = "TRELLIS_RELAY_"

ENVELOPE_OVERHEAD_BYTES = 1024
"""Room for an envelope's header fields and signature around the largest ciphertext."""

FRAME_OVERHEAD_BYTES = 1024
"""Room for a frame's own fields (type, req, head...) around the envelopes it carries."""


def _setting(default: Any, help_text: str) -> Any:
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True, slots=True)
class Settings:
    """The relay's configuration. Construct with keywords; ``validate()`` before use."""

    host: str = _setting("127.0.0.1", "Address to listen on. Keep loopback behind a proxy.")
    port: int = _setting(8765, "TCP port to listen on.")
    db: str = _setting("./trellis-relay.db", "Path of the SQLite database file.")
    max_frame_bytes: int = _setting(
        1024 * 1024,
        "Largest websocket message accepted or sent, in bytes; larger ones close the "
        "connection with frame_too_large.",
    )
    max_batch_envelopes: int = _setting(
        500, "Most envelopes in one push; more are refused with batch_too_large."
    )
    max_envelope_bytes: int = _setting(
        MAX_CIPHERTEXT_BYTES + ENVELOPE_OVERHEAD_BYTES,
        "Largest single envelope, in bytes; larger ones are refused with envelope_too_large.",
    )
    auth_timeout_s: float = _setting(
        10.0, "Seconds a new connection has to sign in before it is closed (auth_timeout)."
    )
    invite_ttl_max_s: int = _setting(
        7 * 24 * 3600, "Longest lifetime an invite may ask for, in seconds."
    )
    clock_skew_s: int = _setting(
        600, "How far a signed request's time may differ from the relay's clock, in seconds."
    )
    max_inflight_pushes: int = _setting(
        16,
        "Pushes one connection may have waiting for their acks; the relay stops reading "
        "that connection until one is acknowledged.",
    )
    send_queue_bytes: int = _setting(
        16 * 1024 * 1024,
        "Bytes queued for one connection that reads too slowly; beyond this the relay "
        "closes it (rate_limited) and it catches up by pulling after reconnecting.",
    )
    read_connections: int = _setting(
        2, "Read-only database connections serving pulls and look-ups."
    )
    log_level: str = _setting("info", "Logging level: debug, info, warning or error.")

    def validate(self) -> Settings:
        """Refuse combinations that cannot work, with a sentence naming the setting."""
        problems = []
        if not 0 <= self.port <= 65535:
            problems.append("port must be between 0 and 65535")
        if self.max_envelope_bytes < 1:
            problems.append("max_envelope_bytes must be positive")
        if self.send_queue_bytes < self.max_frame_bytes:
            problems.append("send_queue_bytes must hold at least one frame of max_frame_bytes")
        if self.max_frame_bytes < self.max_envelope_bytes + FRAME_OVERHEAD_BYTES:
            problems.append(
                "max_frame_bytes must leave room for one envelope of max_envelope_bytes "
                f"plus {FRAME_OVERHEAD_BYTES} bytes"
            )
        for name in (
            "max_batch_envelopes",
            "invite_ttl_max_s",
            "clock_skew_s",
            "max_inflight_pushes",
            "send_queue_bytes",
            "read_connections",
        ):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1")
        if self.auth_timeout_s <= 0:
            problems.append("auth_timeout_s must be positive")
        if self.log_level.lower() not in {"debug", "info", "warning", "error"}:
            problems.append("log_level must be debug, info, warning or error")
        if problems:
            raise ValueError("; ".join(problems))
        return self


@dataclass(frozen=True, slots=True)
class SettingInfo:
    """One row of the settings table, for ``--help`` and the docs."""

    name: str
    type: type
    default: Any
    help: str

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


_TYPES: dict[str, type] = {"str": str, "int": int, "float": float}


def settings_table() -> Iterator[SettingInfo]:
    for f in dataclasses.fields(Settings):
        # Annotations are strings under ``from __future__ import annotations``.
        kind = _TYPES[f.type] if isinstance(f.type, str) else f.type
        yield SettingInfo(f.name, kind, f.default, f.metadata["help"])


def parse_value(info: SettingInfo, text: str) -> Any:
    """Convert one string from the environment or a flag; ValueError names the setting."""
    try:
        return info.type(text)
    except ValueError:
        raise ValueError(f"{info.name} must be a {info.type.__name__}, got {text!r}") from None


def from_sources(
    environ: Mapping[str, str], overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Defaults, then ``TRELLIS_RELAY_*`` variables, then explicit overrides (flags)."""
    values: dict[str, Any] = {}
    for info in settings_table():
        if info.env_var in environ:
            values[info.name] = parse_value(info, environ[info.env_var])
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = value
    return Settings(**values).validate()
