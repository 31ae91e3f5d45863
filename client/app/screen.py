"""What a screen is, and the helpers every screen uses to answer.

A screen module (client/app/screens/<name>.py) exports ``SCREEN``: its handlers, and
the nav entry if it has one. Pages are rendered by :func:`page` from templates in
client/app/templates/<name>/ that extend ``layout.html``; a form's handler reads it
with :func:`read_form` and answers with :func:`done` (a redirect to a page with one
sentence on it), so every form works without JavaScript and a reload never sends it
twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from litestar import Request, Response
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.handlers import BaseRouteHandler
from litestar.response import Redirect

from client.app.security import CSRF_FIELD, ONCE_FIELD, once_token
from client.app.state import AppState
from client.app.views_cache import current_views
from client.space import Space
from client.views import Views
from client.views.present import SENT_LATER_APP, delivery_sentence, local_time
from client.views.present_signals import partner_signal_sentence
from client.views.recovery import active_signals
from client.views.shown import shown

TEMPLATES = Path(__file__).with_name("templates")

App = NamedDependency[AppState]
"""Handlers receive the app's state as the named dependency ``app``."""


@dataclass(frozen=True)
class Screen:
    """One screen: its route handlers and, if it is in the nav, its label and path."""

    handlers: Sequence[BaseRouteHandler]
    nav_label: str | None = None
    nav_path: str | None = None


@dataclass(frozen=True)
class NavEntry:
    label: str
    path: str


def _shown(value: Any) -> Any:
    """Every value a template prints, before escaping: a string loses what no page
    shows, by the one table every screen and report reads (client/views/shown.py;
    docs/THREAT_MODEL.md §29): a partner's name or note holding a RIGHT-TO-LEFT
    OVERRIDE would otherwise turn the app's own words after it around on the line.
    Markup (the app's own, e.g. a block from a macro) is left as it is."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return shown(value, page=True)
    return value


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    # Partner text is hostile input: everything is escaped unless marked safe.
    autoescape=True,
    finalize=_shown,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["when"] = local_time
_env.globals["once"] = once_token
"""A fresh value for each form's ``once`` field: the gate takes each value once, so a
double click or a resent form does not write twice."""
_env.globals["once_field"] = ONCE_FIELD

NAV: list[NavEntry] = []
"""Filled once from the registry (client/app/screens/__init__.py) when the app is built."""


def render(template: str, **context: Any) -> str:
    return _env.get_template(template).render(**context)


def page(
    app: AppState,
    template: str,
    *,
    views: Views | None = None,
    status: int = 200,
    current: str = "",
    **context: Any,
) -> Response[str]:
    """A full page: the layout (nav, the partner's signal banner, flashes) around
    ``template``. ``views`` is passed on when the screen folded them already;
    ``current`` is the nav path to mark as the current page."""
    space = app.space
    banner: list[dict[str, Any]] = []
    me_name = None
    if space is not None:
        views = views or current_views(space)
        me = space.me()
        me_name = space.member_name(me.member_id) if me else None
        for s in active_signals(views.signals):
            if me is not None and s.sender == me.member_id:
                continue
            banner.append(
                {
                    "sentence": partner_signal_sentence(
                        space.member_name(s.sender), s.level, s.until
                    ),
                    "level": s.level,
                    "words": s.preset_text or s.note,
                }
            )
    html = render(
        template,
        csrf=app.current_csrf,
        csrf_field=CSRF_FIELD,
        nav=NAV,
        unlocked=space is not None,
        me_name=me_name,
        banner=banner,
        flashes=app.take_flashes(),
        sync_problem=app.sync_problem,
        alive_ms=int(app.alive_every_s * 1000),
        views=views,
        space=space,
        current=current,
        **context,
    )
    return Response(content=html, media_type=MediaType.HTML, status_code=status)


def done(app: AppState, to: str, text: str | None = None, *, problem: bool = False) -> Redirect:
    """After a form: show ``text`` once on the page at ``to`` (303: a reload does not
    send the form again)."""
    if text:
        app.flash(text, problem=problem)
    return Redirect(path=to, status_code=303)


@dataclass
class Form:
    """A submitted form's fields (multi-valued ones with :meth:`all`)."""

    fields: list[tuple[str, str]]

    def get(self, name: str) -> str:
        """The first value of ``name``, stripped; "" when absent."""
        return next((v.strip() for k, v in self.fields if k == name), "")

    def raw(self, name: str) -> str:
        """The first value of ``name`` exactly as sent (passphrases)."""
        return next((v for k, v in self.fields if k == name), "")

    def all(self, name: str) -> list[str]:
        return [v.strip() for k, v in self.fields if k == name and v.strip()]

    def optional(self, name: str) -> str | None:
        return self.get(name) or None


async def read_form(request: Request[Any, Any, Any]) -> Form:
    """The form body (the gate in client/app/security.py checked it already)."""
    form = await request.form()
    return Form([(k, v) for k, v in form.multi_items() if isinstance(v, str)])


async def delivery(app: AppState, space: Space, *, signal: bool = False) -> str:
    """Whether what was just saved reached the relay, in the CLI's words."""
    outcome = await app.delivered(space)
    return delivery_sentence(outcome, signal=signal, later=SENT_LATER_APP)
