"""``trellis app``: the local web app each partner uses on their own computer.

The client library serves it on 127.0.0.1; the browser shows it. Every rule goes
through the same :class:`~client.space.Space` API, folds (client/views) and words
(client/views/present*.py) as the CLI: this package only asks and shows.

Layout (one job per file):

- ``security``: the gate every request passes (Host check, one-time URL token to a
  session cookie, Origin and anti-forgery token on every change, strict headers).
- ``state``: the open space (or none while locked), its one live sync session, the
  live-update fan-out, the idle lock.
- ``screen``: what a screen is, page rendering (Jinja2, autoescaped: partner text is
  hostile input) and the form helpers.
- ``server``: the Litestar app behind the gate, served by uvicorn on 127.0.0.1.
- ``screens/``: one module per screen; ``templates/<screen>/`` its templates;
  ``static/``: app.css and app.js, the only script (live updates, quick exit).

Adding a screen (the convention, so screens are added without touching others):

1. Write ``client/app/screens/<name>.py`` exporting ``SCREEN = Screen(handlers=[...],
   nav_label="...", nav_path="/<name>")``. Handlers take the ``app: AppState``
   dependency; a page calls ``app.require()`` for the open space (a locked app then
   redirects to the unlock page by itself).
2. Put its templates in ``client/app/templates/<name>/``; each extends
   ``layout.html`` and fills ``{% block content %}``. Every form posts
   (``method="post"``) with the hidden field ``{{ csrf_field }}`` = ``{{ csrf }}``;
   without it the gate refuses the form. Regions that should update live carry an
   ``id`` and ``data-live``.
3. A form's handler reads it with ``read_form`` and answers with ``done(app, path,
   sentence)``: a 303 redirect, the sentence shown once. Sentences come from
   client/views/present*.py where the CLI says the same thing.
4. Add one line to ``client/app/screens/__init__.py``.

No inline script or style anywhere (the CSP forbids them), nothing from another
origin, and no GET handler changes anything.
"""
