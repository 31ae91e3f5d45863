"""Pairing and devices: the invite code (and its QR code) for the partner or for one
of my own new devices, the safety number with how to compare it in person, every
device of both partners, removing one of my own, and leaving the space.

The flows are client/space's (pairing.invite, devices.revoke, devices.leave); this
screen only asks and shows. An invite code is a secret: it is shown on this page
only, never put in a URL, and forgotten when the app locks.
"""

from __future__ import annotations

from typing import Any

import segno
from litestar import Request, Response, get, post
from litestar.response import Redirect

from client.app.screen import App, Screen, done, page, read_form
from client.errors import TrellisError
from client.space import devices
from client.space.pairing import MAX_INVITE_TTL_S
from client.views.present import plain_error

HOURS_CHOICES = (1, 4, 24, 72, 168)


def qr_data_uri(code: str) -> str:
    """The code as a QR code, an SVG in a data: URI (the page's CSP allows images from
    this origin and data: only)."""
    return str(
        segno.make(code, error="m").svg_data_uri(scale=5, border=2, dark="#1b1f24", light="#ffffff")
    )


@get("/pairing")
async def pairing_page(app: App) -> Response[Any]:
    space = app.require()
    members = space.members()
    partner_joined = len(members) >= 2
    safety = await devices.safety_state(space) if partner_joined else None
    number_groups = safety.number.split() if safety else []
    invite = None
    if app.invite is not None:
        kind, code, hours = app.invite
        invite = {"kind": kind, "code": code, "hours": hours, "qr": qr_data_uri(code)}
    return page(
        app,
        "pairing/pairing.html",
        current="/pairing",
        members=members,
        partner_joined=partner_joined,
        joined=space.joined,
        safety=safety,
        number_groups=number_groups,
        invite=invite,
        hours_choices=HOURS_CHOICES,
        rows=devices.device_rows(space),
    )


def _hours(value: str) -> float:
    try:
        hours = float(value)
    except ValueError:
        hours = 24.0
    return min(max(hours, 1.0), MAX_INVITE_TTL_S / 3600)


@post("/pairing/invite")
async def invite(app: App, request: Request[Any, Any, Any]) -> Redirect:
    form = await read_form(request)
    kind = "device" if form.get("kind") == "device" else "member"
    hours = _hours(form.get("hours"))
    try:
        async with app.sync_paused() as space:
            code = await space.invite(ttl_s=int(hours * 3600), kind=kind)
    except TrellisError as exc:
        return done(app, "/pairing", plain_error(exc.message), problem=True)
    app.invite = (kind, code, hours)
    return done(app, "/pairing#invite")


@post("/pairing/invite/hide")
async def hide_invite(app: App) -> Redirect:
    app.invite = None
    return done(app, "/pairing", "The code is no longer shown. It still works until it expires.")


@post("/pairing/confirm")
async def confirm(app: App) -> Redirect:
    space = app.require()
    await devices.confirm_safety_number(space)
    return done(app, "/pairing", "Confirmed. You will be told here if your devices change.")


@post("/pairing/revoke")
async def revoke(app: App, request: Request[Any, Any, Any]) -> Redirect:
    form = await read_form(request)
    try:
        async with app.sync_paused() as space:
            target = await devices.revoke(space, form.get("device"), reason=form.optional("reason"))
    except TrellisError as exc:
        return done(app, "/pairing", plain_error(exc.message), problem=True)
    return done(
        app,
        "/pairing",
        f"Device {target.hex()[:12]} is removed: the relay refuses it, and what is written "
        "from now on uses a new key it does not have. Compare safety numbers with your "
        "partner again.",
    )


@post("/pairing/leave")
async def leave(app: App, request: Request[Any, Any, Any]) -> Redirect:
    form = await read_form(request)
    if form.get("confirm") != "yes":
        return done(
            app,
            "/pairing",
            "Leaving cannot be undone: your devices stop syncing with your partner. Tick the "
            "box to confirm.",
            problem=True,
        )
    try:
        async with app.sync_paused() as space:
            response = await devices.leave(space)
    except TrellisError as exc:
        return done(app, "/pairing", plain_error(exc.message), problem=True)
    text = "You left the shared space. Everything shared until now stays readable on this device."
    if response.space_deleted:
        text += " Nobody remains in the space, so the relay deleted its copy."
    return done(app, "/pairing", text)


SCREEN = Screen(
    handlers=[pairing_page, invite, hide_invite, confirm, revoke, leave],
    nav_label="Pairing and devices",
    nav_path="/pairing",
)
