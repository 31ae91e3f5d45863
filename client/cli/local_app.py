"""``trellis app``: serve the local web app (client/app) for this device and open it.

It binds 127.0.0.1 only, prints the address with its one-time token, and opens the
default browser unless ``--no-browser``. The passphrase is asked in the page, never
here and never in the URL.
"""

from __future__ import annotations

import argparse
import asyncio
import webbrowser

from client.app.server import run, serve
from client.cli.common import UsageError, home_dir

MAX_PORT = 65535

APP_HELP = "open the app in your browser (served on this computer only)"


async def cmd_app(args: argparse.Namespace) -> int:
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
    if not args.no_browser:
        await asyncio.to_thread(webbrowser.open, url)
    await serve(state, sock)
    return 0


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
