"""Every tunable of the relay in one table: name, default, help (docs/OPERATIONS.md §2).

A setting comes from, in rising priority: its default here, the TOML file named by
``--config FILE`` (or ``TRELLIS_RELAY_CONFIG``), the environment variable
``TRELLIS_RELAY_<NAME>``, the command-line flag ``--<name>``. The help text is part of
the field, so ``trellis-relay --help`` can never miss a setting, and a test fails when
docs/OPERATIONS.md does.

Limits whose help says "0 turns it off" accept 0 for "no limit"; every other number
must be positive. ``validate()`` refuses a combination that cannot work with one
sentence per problem, naming the setting.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.envelope import MAX_CIPHERTEXT_BYTES

ENV_PREFIX = "TRELLIS_RELAY_"
CONFIG_ENV_VAR = ENV_PREFIX + "CONFIG"

ENVELOPE_OVERHEAD_BYTES = 1024
"""Room for an envelope's header fields and signature around the largest ciphertext."""

FRAME_OVERHEAD_BYTES = 1024
"""Room for a frame's own fields (type, req, head...) around the envelopes it carries."""

MIN_TOKEN_CHARS = 16
"""A creation token shorter than this could be guessed; at 16 random characters it cannot."""

SECRET_SETTINGS = frozenset({"space_creation_token"})
"""Settings never printed or logged (``trellis-relay settings`` masks them)."""

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")


def _setting(default: Any, help_text: str) -> Any:
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True, slots=True)
class Settings:
    """The relay's configuration. Construct with keywords; ``validate()`` before use."""

    # --- where it listens and what it stores ---------------------------------------
    host: str = _setting("127.0.0.1", "Address to listen on. Keep loopback behind a proxy.")
    port: int = _setting(8765, "TCP port to listen on.")
    db: str = _setting(
        "./trellis-relay.db",
        "Path of the SQLite database file (or sqlite:PATH), or a PostgreSQL URL "
        "(postgresql://user@host/dbname) for several relay processes on one database.",
    )
    public_hosts: tuple[str, ...] = _setting(
        (),
        "Comma-separated host[:port] names the relay answers to, as apps dial it "
        "(relay.example.org). When set, a device that signs in under any other Host is "
        "refused (wrong_host). Empty accepts any Host.",
    )
    # --- limits on one message ----------------------------------------------------
    max_frame_bytes: int = _setting(
        1024 * 1024,
        "Largest websocket message accepted or sent, in bytes; larger ones close the "
        "connection with frame_too_large. Also caps HTTP request bodies.",
    )
    max_batch_envelopes: int = _setting(
        500, "Most envelopes in one push; more are refused with batch_too_large."
    )
    max_envelope_bytes: int = _setting(
        MAX_CIPHERTEXT_BYTES + ENVELOPE_OVERHEAD_BYTES,
        "Largest single envelope, in bytes; larger ones are refused with envelope_too_large.",
    )
    # --- limits on one connection ---------------------------------------------------
    max_pushes_per_s: float = _setting(
        100.0,
        "Pushes one connection may send per second on average; beyond the burst a push "
        "is refused with rate_limited and the connection stays open.",
    )
    push_burst: int = _setting(
        200, "Pushes one connection may send at once before max_pushes_per_s applies."
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
    auth_timeout_s: float = _setting(
        10.0, "Seconds a new connection has to sign in before it is closed (auth_timeout)."
    )
    idle_timeout_s: float = _setting(
        60.0,
        "Seconds a connection may stay silent (no message and no websocket ping from the "
        "app) before it is closed with idle_timeout. 0 turns it off.",
    )
    ping_interval_s: float = _setting(
        20.0,
        "Seconds between the relay's own websocket pings; a connection that does not "
        "answer one within the same time is closed. 0 turns pings off.",
    )
    # --- limits on many connections ---------------------------------------------------
    max_connections_per_space: int = _setting(
        16,
        "Signed-in connections one space may hold at once, shared out between its two "
        "partners (each partner's devices hold at most half, rounded up); more are refused "
        "with rate_limited (close 4029). 0 turns it off.",
    )
    max_unauthenticated_connections: int = _setting(
        512,
        "Connections, across the whole relay, that have not signed in yet: HTTP requests "
        "still arriving, and sync connections before sign-in, each counted up to this. "
        "More are closed at once; with auth_timeout_s this bounds what slow or stalled "
        "handshakes can hold. 0 turns it off.",
    )
    max_connections_per_address: int = _setting(
        100,
        "Open sync connections from one client address (an IPv6 /64 counts as one); "
        "more are refused with rate_limited (close 4029). 0 turns it off.",
    )
    # --- quotas -----------------------------------------------------------------------
    max_space_events: int = _setting(
        1_000_000,
        "Events one space may store; a push beyond it is refused with quota_exceeded. "
        "0 turns it off.",
    )
    max_space_bytes: int = _setting(
        1024 * 1024 * 1024,
        "Bytes of envelopes one space may store; a push beyond it is refused with "
        "quota_exceeded. 0 turns it off.",
    )
    # --- invites ------------------------------------------------------------------------
    invite_ttl_max_s: int = _setting(
        7 * 24 * 3600, "Longest lifetime an invite may ask for, in seconds."
    )
    clock_skew_s: int = _setting(
        600, "How far a signed request's time may differ from the relay's clock, in seconds."
    )
    redeem_attempts_per_invite: int = _setting(
        10,
        "Failed redemptions of one invite per redeem_window_s; more failures are refused "
        "with rate_limited (HTTP 429), while a valid proof is always admitted. "
        "0 turns it off.",
    )
    redeem_attempts_per_address: int = _setting(
        30,
        "Invite look-ups and failed redemptions from one client address per "
        "redeem_window_s; "
        "more are refused with rate_limited (HTTP 429). 0 turns it off.",
    )
    redeem_window_s: float = _setting(
        600.0, "The window, in seconds, over which invite attempts are counted."
    )
    # --- who may create spaces, and how much the relay stores (server/quotas.py) --------
    space_creation_token: str = _setting(
        "",
        "Secret that creating a space requires (Authorization: Bearer TOKEN), at least 16 "
        "characters; hand it to the couples you serve. Empty lets anyone who reaches the "
        "relay create spaces. A secret: set it in the config file or the environment.",
    )
    max_spaces_per_address: int = _setting(
        10,
        "Spaces one client address may create per space_creation_window_s; more are "
        "refused with too_many_spaces (HTTP 429). 0 turns it off.",
    )
    space_creation_window_s: float = _setting(
        86400.0, "The window, in seconds, over which space creations are counted."
    )
    max_total_bytes: int = _setting(
        0,
        "Bytes of envelopes all spaces together may store; beyond it new spaces and new "
        "entries are refused with relay_full. 0 turns it off.",
    )
    max_spaces: int = _setting(
        0, "Spaces the relay holds at most; more are refused with relay_full. 0 turns it off."
    )
    # --- the operator's own listener (server/operator.py) ---------------------------------
    operator_host: str = _setting(
        "127.0.0.1",
        "Address of the operator listener (metrics, admin). Keep it loopback; never put "
        "it behind the public proxy.",
    )
    operator_port: int = _setting(
        8766,
        "TCP port of the operator listener, which serves /metrics and the admin "
        "endpoints; never the public port. 0 turns it off.",
    )
    max_connections: int = _setting(
        1000,
        "Connections (sync and HTTP) the relay serves at once; more are answered 503. The "
        "relay raises its open-file limit to fit, or refuses to start.",
    )
    # --- running it ---------------------------------------------------------------------
    read_connections: int = _setting(
        2, "Read-only database connections serving pulls and look-ups."
    )
    shutdown_timeout_s: float = _setting(
        10.0,
        "Seconds SIGTERM waits for pushes already received to be committed and "
        "acknowledged before connections are closed anyway.",
    )
    log_level: str = _setting("info", "Logging level: debug, info, warning or error.")
    log_format: str = _setting(
        "text", "Log line format: text for people, json for one JSON object per line."
    )

    def validate(self) -> Settings:
        """Refuse combinations that cannot work, with a sentence naming the setting."""
        problems = []
        if not 0 <= self.port <= 65535:
            problems.append("port must be between 0 and 65535")
        if self.send_queue_bytes < self.max_frame_bytes:
            problems.append("send_queue_bytes must hold at least one frame of max_frame_bytes")
        if self.max_frame_bytes < self.max_envelope_bytes + FRAME_OVERHEAD_BYTES:
            problems.append(
                "max_frame_bytes must leave room for one envelope of max_envelope_bytes "
                f"plus {FRAME_OVERHEAD_BYTES} bytes"
            )
        for name in _POSITIVE:
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be more than 0")
        for name in _ZERO_TURNS_OFF:
            if getattr(self, name) < 0:
                problems.append(f"{name} must be 0 (off) or more")
        if self.log_level.lower() not in LOG_LEVELS:
            problems.append("log_level must be debug, info, warning or error")
        if self.log_format not in LOG_FORMATS:
            problems.append("log_format must be text or json")
        if self.space_creation_token and len(self.space_creation_token) < MIN_TOKEN_CHARS:
            problems.append(f"space_creation_token must be at least {MIN_TOKEN_CHARS} characters")
        if self.operator_port and self.operator_port == self.port:
            problems.append("operator_port must differ from port (or be 0 to turn it off)")
        if not 0 <= self.operator_port <= 65535:
            problems.append("operator_port must be between 0 and 65535")
        for host in self.public_hosts:
            if not host or any(c.isspace() or c in "/@" for c in host):
                problems.append(
                    f"public_hosts must be host[:port] names like relay.example.org, got {host!r}"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self


_POSITIVE = (
    "max_frame_bytes",
    "max_batch_envelopes",
    "max_envelope_bytes",
    "max_pushes_per_s",
    "push_burst",
    "max_inflight_pushes",
    "send_queue_bytes",
    "auth_timeout_s",
    "invite_ttl_max_s",
    "clock_skew_s",
    "redeem_window_s",
    "read_connections",
    "shutdown_timeout_s",
    "space_creation_window_s",
    "max_connections",
)
_ZERO_TURNS_OFF = (
    "idle_timeout_s",
    "ping_interval_s",
    "max_connections_per_space",
    "max_connections_per_address",
    "max_unauthenticated_connections",
    "max_space_events",
    "max_space_bytes",
    "redeem_attempts_per_invite",
    "redeem_attempts_per_address",
    "max_spaces_per_address",
    "max_total_bytes",
    "max_spaces",
)


def parse_hosts(text: str) -> tuple[str, ...]:
    """``"a.example, B.example:8443"`` -> ``("a.example", "b.example:8443")``.

    Host names compare without case (RFC 9110 §4.2.3), so they are kept lowercase."""
    return tuple(part.strip().lower() for part in text.split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class SettingInfo:
    """One row of the settings table, for ``--help``, the config file and the docs."""

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

    @property
    def shown_default(self) -> str:
        if isinstance(self.default, tuple):
            return ",".join(self.default) or "(empty)"
        return str(self.default) or "(empty)"


_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "tuple[str, ...]": tuple}


def settings_table() -> Iterator[SettingInfo]:
    for f in dataclasses.fields(Settings):
        # Annotations are strings under ``from __future__ import annotations``.
        kind = _TYPES[f.type] if isinstance(f.type, str) else f.type
        yield SettingInfo(f.name, kind, f.default, f.metadata["help"])


_TYPE_WORDS = {str: "text", int: "whole number", float: "number", tuple: "list of names"}


def parse_value(info: SettingInfo, text: str) -> Any:
    """Convert one string from the environment or a flag; ValueError names the setting."""
    if info.type is tuple:
        return parse_hosts(text)
    try:
        return info.type(text)
    except ValueError:
        raise ValueError(f"{info.name} must be a {_TYPE_WORDS[info.type]}, got {text!r}") from None


def _from_toml(info: SettingInfo, value: Any, source: str) -> Any:
    """A value from the config file, in TOML's own types."""
    wrong = ValueError(f"{info.name} in {source} must be a {_TYPE_WORDS[info.type]}, got {value!r}")
    if info.type is tuple:
        if isinstance(value, str):
            return parse_hosts(value)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return parse_hosts(",".join(value))
        raise wrong
    if isinstance(value, bool):  # TOML true is not a number here
        raise wrong
    if info.type is float and isinstance(value, int | float):
        return float(value)
    if isinstance(value, info.type):
        return value
    raise wrong


def read_config_file(path: str) -> dict[str, Any]:
    """The settings in a TOML file: top-level ``name = value`` pairs, names as in the
    settings table. Unknown names and wrong types are refused, naming them."""
    try:
        with Path(path).open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ValueError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ValueError(f"config file {path} cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config file {path} is not valid TOML: {exc}") from None
    known = {info.name: info for info in settings_table()}
    values: dict[str, Any] = {}
    for name, value in data.items():
        info = known.get(name.replace("-", "_"))
        if info is None:
            raise ValueError(
                f"config file {path} sets {name!r}, which is not a setting; "
                "see trellis-relay --help"
            )
        values[info.name] = _from_toml(info, value, f"config file {path}")
    return values


def from_sources(
    environ: Mapping[str, str],
    overrides: Mapping[str, Any] | None = None,
    *,
    read_config: Callable[[str], dict[str, Any]] = read_config_file,
) -> Settings:
    """Defaults, then the config file, then ``TRELLIS_RELAY_*`` variables, then explicit
    overrides (flags). The config file is ``overrides["config"]`` or $TRELLIS_RELAY_CONFIG.
    """
    overrides = dict(overrides or {})
    values: dict[str, Any] = {}
    config_path = overrides.pop("config", None) or environ.get(CONFIG_ENV_VAR)
    if config_path:
        values.update(read_config(config_path))
    for info in settings_table():
        if info.env_var in environ:
            values[info.name] = parse_value(info, environ[info.env_var])
    known = {info.name for info in settings_table()}
    for name, value in overrides.items():
        if value is not None and name in known:
            values[name] = value
    return Settings(**values).validate()


def shown_settings(settings: Settings) -> list[tuple[str, str]]:
    """(name, value) of every setting in effect, secrets masked: ``trellis-relay settings``."""
    shown = []
    for info in settings_table():
        value = getattr(settings, info.name)
        if info.name in SECRET_SETTINGS:
            text = "(set, hidden)" if value else "(empty)"
        elif isinstance(value, tuple):
            text = ",".join(value) or "(empty)"
        else:
            text = str(value) or "(empty)"
        shown.append((info.name, text))
    return shown
