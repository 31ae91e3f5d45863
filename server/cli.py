"""``trellis-relay`` (and ``python -m server``): run, back up and check the relay.

    trellis-relay [SETTINGS]                 serve (also: trellis-relay serve)
    trellis-relay backup --out FILE          consistent copy of the live database
    trellis-relay check [--skip-signatures]  integrity check of the database
    trellis-relay settings                   the settings in effect, secrets masked
    trellis-relay spaces | quota | delete-space   the operator's tools (admin_cli.py)

Every setting in settings.py is a flag here, an environment variable and a key of the
optional TOML file given with ``--config``; the help text comes from the settings
table, so ``--help`` documents all of them. Bad values stop the relay before it
starts, with a sentence naming the setting (exit status 2).

The server stack is the one measured cheapest on this machine class (DESIGN.md,
"Performance notes"): uvicorn's websockets-sansio protocol on uvloop, with
per-message compression off; _uvicorn.py adds draining on SIGTERM and client pings.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import uvicorn

from server import __version__, admin_cli
from server._log import configure_logging, logger
from server._pg_migrations import is_postgres_url
from server._runtime import Relay
from server._uvicorn import ActivityWebSocketProtocol, RelayServer, handshake_limited_http
from server.app import create_app
from server.operator import ASGI, OperatorApp, dispatch, write_token
from server.ops import OpsError, backup_database, check_database
from server.pg_ops import check_pg_database, migrate_store
from server.settings import (
    CONFIG_ENV_VAR,
    SettingInfo,
    Settings,
    from_sources,
    parse_value,
    settings_table,
    shown_settings,
)
from server.startup import EXIT_STARTUP_FAILED, StartupProblem, preflight
from server.stores import sqlite_path

WS_MAX_SIZE_FACTOR = 2
"""uvicorn drops frames above ws_max_size with a bare 1009; reading up to twice our own
limit lets the relay answer a moderately oversized frame with a typed frame_too_large
Error first (docs/PROTOCOL.md §6, errors and limits)."""

GRACEFUL_SHUTDOWN_S = 10
"""After the relay's own drain, how long uvicorn waits for HTTP requests to finish."""

_METAVARS: dict[type, str] = {str: "TEXT", int: "N", float: "NUMBER", tuple: "HOSTS"}

EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def _metavar(info: SettingInfo) -> str:
    if info.name.endswith("_s") and not info.name.endswith("_per_s"):
        return "SECONDS"
    return _METAVARS[info.type]


def _flag_type(info: SettingInfo) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return parse_value(info, text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = info.name
    return convert


def _config_and_db_flags(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=default,
        help=f"TOML file of settings, name = value (env {CONFIG_ENV_VAR}); the "
        "environment and flags override it",
    )
    if suppress:
        parser.add_argument(
            "--db", metavar="TEXT", default=default, help="Path of the SQLite database file."
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trellis-relay",
        description="Run the Trellis relay: a blind store-and-forward service for "
        "end-to-end encrypted logs. It stores ciphertext and can read none of it.",
        epilog="Each setting comes from, in rising priority: its default, the --config "
        "file, the environment variable shown, the flag. Limits marked '0 turns it off' "
        "accept 0 for no limit. docs/OPERATIONS.md explains every setting. Exit status: "
        "0 stopped normally; 1 failed while running, or check found problems; 2 a setting "
        "or the set-up is wrong (restarting will not help); 3 failed to start for another "
        "reason (see the log); 4 a port is in use.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"trellis-relay {__version__}")
    _config_and_db_flags(parser, suppress=False)
    for info in settings_table():
        parser.add_argument(
            info.flag,
            dest=info.name,
            type=_flag_type(info),
            default=None,
            metavar=_metavar(info),
            help=f"{info.help} (env {info.env_var}; default: {info.shown_default})",
        )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("serve", help="run the relay (what happens without a command)")
    backup = commands.add_parser(
        "backup",
        help="write a consistent copy of the database while the relay serves",
        description="Copy the database with SQLite's online backup API into a new "
        "file, check the copy and only then give it its name. Safe while the relay runs.",
    )
    backup.add_argument("--out", required=True, metavar="FILE", help="the new backup file")
    _config_and_db_flags(backup, suppress=True)
    check = commands.add_parser(
        "check",
        help="check the database's integrity (exit status 1 if it finds problems)",
        description="Check SQLite's integrity and the relay's own rules: dense seqs, "
        "byte counts, canonical envelopes with the right ids, signatures and chains. "
        "Read-only; safe while the relay runs.",
    )
    check.add_argument(
        "--skip-signatures",
        action="store_true",
        help="do not verify envelope signatures (faster on very large databases)",
    )
    _config_and_db_flags(check, suppress=True)
    migrate = commands.add_parser(
        "migrate-store",
        help="copy a SQLite relay database into an empty PostgreSQL database",
        description="Copy every space, device, invite and event (with its sequence "
        "number) from the SQLite file into the empty PostgreSQL database, in one "
        "transaction, then check the copy. Stop the relay first. docs/OPERATIONS.md §15.",
    )
    migrate.add_argument("--from", dest="source", required=True, metavar="PATH")
    migrate.add_argument("--to", dest="target", required=True, metavar="URL")
    shown = commands.add_parser(
        "settings", help="print the settings in effect (secrets masked) and exit"
    )
    _config_and_db_flags(shown, suppress=True)
    admin_cli.add_commands(commands, lambda p: _config_and_db_flags(p, suppress=True))
    return parser


def uvicorn_config(settings: Settings, app: ASGI | None = None) -> uvicorn.Config:
    has_uvloop = importlib.util.find_spec("uvloop") is not None
    ping_s = settings.ping_interval_s or None
    return uvicorn.Config(
        app or create_app(settings),
        host=settings.host,
        port=settings.port,
        http=handshake_limited_http(
            settings.auth_timeout_s, settings.max_unauthenticated_connections
        ),
        ws=ActivityWebSocketProtocol,
        ws_per_message_deflate=False,
        ws_max_size=settings.max_frame_bytes * WS_MAX_SIZE_FACTOR,
        ws_ping_interval=ping_s,
        ws_ping_timeout=ping_s,
        loop="uvloop" if has_uvloop else "asyncio",
        lifespan="on",
        # Never debug: uvicorn's debug lines dump frame bytes (server/_log.py).
        log_level="info" if settings.log_level.lower() == "debug" else settings.log_level.lower(),
        log_config=None,  # configure_logging set up every logger already
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        limit_concurrency=settings.max_connections,
    )


def describe_db(db: str) -> str:
    """The database for a log line: a SQLite file's full path, or a PostgreSQL URL
    without its password."""
    if is_postgres_url(db):
        parts = urlsplit(db)
        host = parts.hostname or ""
        user = f"{parts.username}@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{user}{host}{port}{parts.path}"
    return os.path.abspath(sqlite_path(db))


def serve(settings: Settings) -> int:
    """Check the set-up, bind both ports, serve; the exit status (server/startup.py)."""
    try:
        sockets = preflight(settings)
    except StartupProblem as exc:
        print(f"trellis-relay: {exc}", file=sys.stderr)
        return exc.exit_status
    app = create_app(settings)
    # The admin tools work on the SQLite store; on PostgreSQL the operator listener
    # serves metrics only (docs/OPERATIONS.md §15).
    admin_token = settings.operator_port and not is_postgres_url(settings.db)
    operator = OperatorApp(app, write_token(sqlite_path(settings.db)) if admin_token else "")
    config = uvicorn_config(settings, dispatch(app, operator, settings.operator_port))
    where = (
        f"trellis-relay {__version__} listening on http://{settings.host}:{settings.port} "
        f"(sync at ws://{settings.host}:{settings.port}/v1/sync), "
        f"database {describe_db(settings.db)}"
    )
    if settings.operator_port:
        where += f"; metrics and admin on http://{settings.operator_host}:{settings.operator_port}"

    def listening() -> None:
        # Only now: the database is open and both sockets accept connections.
        if settings.log_format == "json":
            logger.info("%s", where)
        else:
            print(where, flush=True)

    def current_relay() -> Relay | None:
        relay = getattr(app.state, "relay", None)
        return relay if isinstance(relay, Relay) else None

    server = RelayServer(config, current_relay, settings.shutdown_timeout_s, on_listening=listening)
    try:
        server.run(sockets=sockets)
    finally:
        for sock in sockets:
            sock.close()
    return 0 if server.started else EXIT_STARTUP_FAILED


def show_settings(settings: Settings) -> int:
    for name, value in shown_settings(settings):
        print(f"{name} = {value}")
    return 0


def run_backup(settings: Settings, out: str) -> int:
    if is_postgres_url(settings.db):
        print(
            "trellis-relay backup: this relay stores in PostgreSQL; back it up with "
            "pg_dump (docs/OPERATIONS.md §15.3)",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    try:
        target = backup_database(settings.db, out)
    except OpsError as exc:
        print(f"trellis-relay backup: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"backed up {os.path.abspath(settings.db)} to {target.resolve()} (checked: ok)")
    return 0


def run_check(settings: Settings, *, signatures: bool) -> int:
    try:
        if is_postgres_url(settings.db):
            report = check_pg_database(settings.db, signatures=signatures)
        else:
            report = check_database(sqlite_path(settings.db), signatures=signatures)
    except OpsError as exc:
        print(f"trellis-relay check: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(report.summary())
    return 0 if report.ok else EXIT_PROBLEMS


def run_migrate_store(source: str, target: str) -> int:
    if not is_postgres_url(target):
        print("trellis-relay migrate-store: --to must be a postgresql:// URL", file=sys.stderr)
        return EXIT_PROBLEMS
    try:
        moved = migrate_store(sqlite_path(source), target)
    except OpsError as exc:
        print(f"trellis-relay migrate-store: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(
        f"copied {moved.spaces} spaces, {moved.devices} devices, {moved.invites} invites "
        f"and {moved.events} events to {describe_db(target)}"
    )
    print(moved.check.summary())
    return 0 if moved.check.ok else EXIT_PROBLEMS


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = from_sources(os.environ, vars(args))
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    configure_logging(settings.log_level, settings.log_format)
    match args.command:
        case "backup":
            sys.exit(run_backup(settings, args.out))
        case "check":
            sys.exit(run_check(settings, signatures=not args.skip_signatures))
        case "migrate-store":
            sys.exit(run_migrate_store(args.source, args.target))
        case "settings":
            sys.exit(show_settings(settings))
        case "spaces" | "quota" | "delete-space":
            sys.exit(admin_cli.run(settings, args))
        case _:
            sys.exit(serve(settings))
