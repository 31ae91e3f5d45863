"""The timeline names each line's writer, the reader too ("Alex wrote in the journal"),
but a consent to an export is a declaration: under one's own name it reads as if someone
else declared it, so its writer reads "You consented ..." and the partner reads the
name. Real relay, both apps' timelines, and the CLI's ``trellis timeline`` line."""

from __future__ import annotations

import time
from pathlib import Path

from schemas.practices import ExportConsented
from tests.app.screens_helpers import arrives, two_partners
from tests.integration.relay_process import RelayProcess


async def test_ones_own_export_consent_reads_you_consented(
    tmp_path: Path, relay: RelayProcess
) -> None:
    async with two_partners(tmp_path, relay.url) as (alex, blake):
        await alex.space.append(
            ExportConsented(
                recipient="Dr. Rivera",
                purpose="couples session",
                expires_at=int(time.time() * 1000) + 86_400_000,
            )
        )
        await arrives(lambda: len(blake.space.events()) == len(alex.space.events()))
        mine = await alex.get("/timeline")
        theirs = await blake.get("/timeline")
        assert "You consented to an export for Dr. Rivera" in mine
        assert "Alex consented to an export for Dr. Rivera" not in mine
        assert "Alex consented to an export for Dr. Rivera" in theirs
        assert "You consented" not in theirs
        # Other lines keep naming their writer, the reader included.
        assert "Alex started this shared space" in mine
