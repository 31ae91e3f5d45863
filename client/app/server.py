"""Building and serving the app: Litestar behind the gate (client/app/security.py),
served by uvicorn on 127.0.0.1 only."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar, Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from client.app import screen
from client.app.screens import SCREENS
from client.app.screens.access import refuse_locked_post
from client.app.security import Access, Gate
from client.app.state import AppState, Locked

STATIC = Path(__file__).with_name("static")
HOST = "127.0.0.1"
"""The only address the app listens on: never another interface."""


def _locked(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    """A page that needs the open space, while it is locked: to the unlock page (or
    to the first-time page when this device holds no space yet)."""
    app: AppState = request.app.state["trellis"]
    return Redirect(path="/unlock" if app.has_space else "/welcome", status_code=303)


def _http_error(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """404, 405 and the like: one calm sentence, no detail."""
    status = getattr(exc, "status_code", 400)
    text = "There is no such page here." if status == 404 else "That cannot be done here."
    return Response(
        content=screen.render("error.html", text=text), media_type="text/html", status_code=status
    )


def _unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The outermost shell: never a traceback or an exception's text on the page (it
    could quote what was written)."""
    return Response(
        content=screen.render(
            "error.html",
            text="Something unexpected went wrong. What was already saved on this device is "
            "kept. Go back and try again; if it keeps happening, restart the app.",
        ),
        media_type="text/html",
        status_code=500,
    )


def create_app(state: AppState) -> Gate:
    """The whole app for ``state``, gate included (a test can make its own)."""
    screen.NAV[:] = [
        screen.NavEntry(s.nav_label, s.nav_path)
        for s in SCREENS
        if s.nav_label is not None and s.nav_path is not None
    ]

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        state.start()
        try:
            yield
        finally:
            await state.stop()

    def provide_app() -> AppState:
        return state

    from litestar.di import Provide

    litestar = Litestar(
        route_handlers=[
            *(h for s in SCREENS for h in s.handlers),
            create_static_files_router(path="/static", directories=[STATIC]),
        ],
        dependencies={"app": Provide(provide_app, sync_to_thread=False)},
        exception_handlers={Locked: _locked, HTTPException: _http_error, Exception: _unexpected},
        lifespan=[lifespan],
        # A form sent while locked is kept, not lost (client/app/screens/access.py).
        before_request=refuse_locked_post,
        openapi_config=None,
        debug=False,
    )
    litestar.state["trellis"] = state
    return Gate(litestar, state.access, state.touch)


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (``port`` 0: any free one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(64)
    sock.setblocking(False)
    return sock


async def serve(state: AppState, sock: socket.socket) -> None:
    """Serve until interrupted. No access log: a request line can carry the URL token."""
    config = uvicorn.Config(
        create_app(state),
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    await server.serve(sockets=[sock])


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def run(home: Path, port: int) -> tuple[AppState, socket.socket]:
    """The state and bound socket for ``home`` on ``port`` (the CLI prints the URL
    between this and :func:`serve`)."""
    sock = bind(port)
    state = AppState(home=home, access=Access(port=port_of(sock)))
    return state, sock
