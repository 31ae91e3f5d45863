"""Benchmark: the local app (``trellis app``) for a home holding 10,000 events.

Alex and Blake are paired through a real relay; Alex's home is filled with 10,000
events of every everyday kind (journal, check-ins, gratitude, disclosures, agreements)
and pushed. Alex's app then runs in this process (the same Litestar app ``trellis app``
serves, reached over ASGI so the figure is the app's own time, not a socket's), is
unlocked, and every main page is fetched repeatedly: ``app_page_p95_ms`` is the 95th
percentile over all of them (target <= 100 ms). Then Blake's app is opened beside it
and ``app_live_ms`` is how long an entry Alex saves takes to reach Blake's open page's
live stream (median of a few; target under 1 second).
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from pathlib import Path

import httpx

from bench._relay import running_relay
from client.app.security import Access
from client.app.server import create_app
from client.app.state import AppState
from client.space import Space
from schemas.payloads import JournalEntry
from schemas.practices import AgreementProposed, CheckIn, DisclosureMade, GratitudeNoted
from tests.integration.pairing import PASSPHRASE, pair

EVENTS = 10_000
ROUNDS = 10
"""Fetches of each page (after one warm-up)."""
LIVE_SAMPLES = 5
PAGES = (
    "/today",
    "/journal",
    "/signals",
    "/agreements",
    "/plan",
    "/windows",
    "/disclosures",
    "/checkins",
    "/sobriety",
    "/gratitude",
    "/timeline",
    "/export",
    "/pairing",
    "/settings",
)
PORT = 48200
ORIGIN = f"http://127.0.0.1:{PORT}"


def _payload(i: int) -> object:
    kind = i % 10
    if kind < 5:
        return JournalEntry(text=f"Entry {i}: a quiet evening, a walk, talking it through.")
    if kind < 7:
        return CheckIn(feelings=f"steady ({i})", needs="sleep", mood=3)
    if kind < 9:
        return GratitudeNoted(text=f"Thank you for dinner ({i})")
    if i % 100 != 99:
        return DisclosureMade(kind="meeting", summary=f"Went to a meeting ({i})")
    return AgreementProposed(
        title=f"Agreement {i}", clauses=["We check in on Sundays"], review_on="2099-01-01"
    )


async def _fill(space: Space, count: int) -> None:
    for i in range(count):
        await space.append(_payload(i))  # type: ignore[arg-type]
    await space.sync()


async def _unlocked(home: Path) -> tuple[AppState, httpx.AsyncClient]:
    state = AppState(home=home, access=Access(port=PORT))
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(state)), base_url=ORIGIN
    )
    token = state.access.start_url().split("token=", 1)[1]
    await client.get(f"/?token={token}")
    page = (await client.get("/unlock")).text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    await client.post(
        "/unlock", data={"csrf": csrf, "passphrase": PASSPHRASE}, headers={"Origin": ORIGIN}
    )
    assert state.space is not None, "the app did not unlock"
    return state, client


async def _pages(client: httpx.AsyncClient) -> dict[str, list[float]]:
    """Each page's timings (ms)."""
    out: dict[str, list[float]] = {}
    for path in PAGES:
        timings = out.setdefault(path, [])
        answer = await client.get(path)  # warm-up (templates compiled, views folded)
        assert answer.status_code == 200, (path, answer.status_code)
        for _ in range(ROUNDS):
            started = time.perf_counter()
            answer = await client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200
    return out


async def _live(alex: AppState, blake: AppState) -> list[float]:
    """From Alex's save to Blake's open page being told (its live stream)."""
    samples: list[float] = []
    stream = blake.live.stream(lambda: blake.space is not None)
    try:
        for i in range(LIVE_SAMPLES):
            started = time.perf_counter()
            await alex.require().append(JournalEntry(text=f"live {i}"))
            while True:
                kind = await asyncio.wait_for(anext(stream), 10)
                if kind == "change":
                    break
            samples.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.2)
    finally:
        await stream.aclose()  # type: ignore[attr-defined]  # an async generator
    return samples


async def _run(workdir: Path, count: int) -> dict[str, float]:
    with running_relay(workdir / "relay.db") as relay:
        alex, blake = await pair(workdir, relay.url)
        await _fill(alex, count)
        await alex.close()
        await blake.sync()
        await blake.close()
        alex_app, alex_client = await _unlocked(workdir / "alex")
        blake_app, blake_client = await _unlocked(workdir / "blake")
        try:
            await asyncio.sleep(1.0)  # both live sessions connected and caught up
            by_page = await _pages(alex_client)
            timings = sorted(t for page in by_page.values() for t in page)
            live = await _live(alex_app, blake_app)
        finally:
            for state, client in ((alex_app, alex_client), (blake_app, blake_client)):
                await state.stop()
                await client.aclose()
    return {
        "events": float(count),
        "app_page_p50_ms": statistics.median(timings),
        "app_page_p95_ms": timings[int(0.95 * (len(timings) - 1))],
        "app_page_max_ms": timings[-1],
        "app_live_ms": statistics.median(live),
        "app_live_max_ms": max(live),
        **{
            f"page{path.replace('/', '_')}_p50_ms": statistics.median(t)
            for path, t in by_page.items()
        },
    }


def run(workdir: Path, count: int = EVENTS) -> dict[str, float]:
    """One run in a fresh folder under ``workdir``."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    folder = workdir / f"app-{time.monotonic_ns()}"
    folder.mkdir(parents=True)
    return asyncio.run(_run(folder, count))


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(run(Path(tmp), int(sys.argv[1]) if len(sys.argv) > 1 else EVENTS))
