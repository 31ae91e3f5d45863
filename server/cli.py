"""``trellis-relay`` (and ``python -m server``): run the relay with uvicorn.

Every setting in settings.py is a flag here and an environment variable; the help text
comes from the settings table, so ``--help`` documents all of them. The server stack
is the one measured cheapest on this machine class (DESIGN.md, "Performance notes"):
uvicorn's websockets-sansio protocol on uvloop, with per-message compression off.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
from collections.abc import Sequence

import uvicorn

from server import __version__
from server.app import create_app
from server.settings import Settings, from_sources, settings_table

WS_MAX_SIZE_FACTOR = 2
"""uvicorn drops frames above ws_max_size with a bare 1009; reading up to twice our own
limit lets the relay answer a moderately oversized frame with a typed frame_too_large
Error first (docs/PROTOCOL.md §6, errors and limits)."""

_METAVARS: dict[type, str] = {str: "TEXT", int: "N", float: "SECONDS"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trellis-relay",
        description="Run the Trellis relay: a blind store-and-forward service for "
        "end-to-end encrypted logs. It stores ciphertext and can read none of it.",
        epilog="Each setting can also be set with the environment variable shown; a flag "
        "overrides the environment.",
    )
    parser.add_argument("--version", action="version", version=f"trellis-relay {__version__}")
    for info in settings_table():
        parser.add_argument(
            info.flag,
            dest=info.name,
            type=info.type,
            default=None,
            metavar=_METAVARS[info.type],
            help=f"{info.help} (env {info.env_var}; default: {info.default})",
        )
    return parser


def uvicorn_config(settings: Settings) -> uvicorn.Config:
    has_uvloop = importlib.util.find_spec("uvloop") is not None
    return uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_max_size=settings.max_frame_bytes * WS_MAX_SIZE_FACTOR,
        loop="uvloop" if has_uvloop else "asyncio",
        lifespan="on",
        log_level=settings.log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=10,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = from_sources(os.environ, vars(args))
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    config = uvicorn_config(settings)
    print(
        f"trellis-relay {__version__} listening on http://{settings.host}:{settings.port} "
        f"(sync at ws://{settings.host}:{settings.port}/v1/sync), "
        f"database {os.path.abspath(settings.db)}",
        flush=True,
    )
    uvicorn.Server(config).run()
