"""``trellis app``: serve the local web app (client/app) for this device and open it.

It binds 127.0.0.1 only, prints the address with its one-time token, and opens the
default browser unless ``--no-browser``. The passphrase is asked in the page, never
here and never in the URL.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
from pathlib import Path

from client.cli.common import UsageError, home_dir

MAX_PORT = 65535
LAUNCH_FILE = "open-app.html"

APP_HELP = "open the app in your browser (served on this computer only)"


async def cmd_app(args: argparse.Namespace) -> int:
    # The web app (litestar, uvicorn, jinja) and the browser launcher load only here, so
    # registering this command costs the other commands nothing.
    import webbrowser

    from client.app.server import run, serve

    home = home_dir(args)
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not 0 <= args.port <= MAX_PORT:
        raise UsageError(f"A port is a number from 1 to {MAX_PORT} (or 0 for any free one).")
    try:
        state, sock = run(home, args.port)
    except OSError:
        raise UsageError(
            f"Port {args.port} on 127.0.0.1 is taken (another app may use it). Choose "
            "another with --port, or leave --port out for any free one."
        ) from None
    url = state.access.start_url()
    print("Trellis is open on this computer only. If your browser does not open, go to:")
    print(url, flush=True)
    print("This address works once. Press Ctrl-C here to stop the app.", flush=True)
    opener = None if args.no_browser else launch_file(home, url)
    try:
        if opener is not None:
            await asyncio.to_thread(webbrowser.open, opener.as_uri())
        await serve(state, sock)
    finally:
        if opener is not None:
            opener.unlink(missing_ok=True)
    return 0


def launch_file(home: Path, url: str) -> Path:
    """A private file that sends the browser to ``url``.

    The browser is started with this file's name, not the address: a program's
    arguments can be read by every user of the computer (``ps``), and the address
    holds the one-time token. Readable by this user only; removed when the app stops.
    """
    path = home / LAUNCH_FILE
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(
            "<!doctype html><meta charset=utf-8>"
            f'<meta http-equiv="refresh" content="0;url={html.escape(url, quote=True)}">'
            "<title>Opening Trellis</title>"
        )
    return path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("app", help=APP_HELP)
    p.add_argument(
        "--port",
        type=int,
        default=0,
        metavar="N",
        help="the port on 127.0.0.1 to serve on (default: any free one)",
    )
    p.add_argument(
        "--no-browser", action="store_true", help="print the address but do not open a browser"
    )
    p.set_defaults(handler=cmd_app)
