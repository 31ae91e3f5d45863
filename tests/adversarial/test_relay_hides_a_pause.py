"""A lying relay hides a pause (THREAT_MODEL §23.2): Alex steps back the pacing plan,
and the relay keeps that step back from Blake, who then accepts Alex's earlier offer to
move forward. What holds: Alex's own view never moves forward (the acceptance had not
seen the step back, so the step back wins), Blake is warned that an event is being
withheld while it is, and once it arrives both see the step back. The relay can delay
what Blake sees; it cannot turn the pause into a yes.
"""

from __future__ import annotations

from pathlib import Path

from client.space import Space
from schemas.intimacy import (
    PacingForwardAccepted,
    PacingForwardProposed,
    PacingPlanAccepted,
    PacingPlanProposed,
    PacingStage,
    PacingSteppedBack,
)
from tests.adversarial.proxy import AdversarialProxy, Tamper
from tests.adversarial.story import codes, head_seq, partners, sync
from tests.adversarial.tampers import Drop, by

STAGES = [
    PacingStage(title="Non-sexual closeness"),
    PacingStage(title="Sensate focus, no genitals"),
    PacingStage(title="Sensate focus"),
]


def stage(space: Space) -> int | None:
    return space.views().intimacy.pacing.stage


async def test_a_withheld_step_back_never_becomes_a_move_forward(
    tmp_path: Path, proxy: AdversarialProxy, opened: list[Space]
) -> None:
    alex, blake = await partners(tmp_path, proxy.url, opened)
    plan = await alex.append(PacingPlanProposed(stages=STAGES))
    await sync(alex, blake)
    await blake.append(PacingPlanAccepted(version=plan.event_id))
    await sync(blake, alex)
    first = await alex.append(PacingForwardProposed(version=plan.event_id, from_stage=0))
    await sync(alex, blake)
    await blake.append(PacingForwardAccepted(offer=first.event_id))
    await sync(blake, alex)
    offer = await alex.append(PacingForwardProposed(version=plan.event_id, from_stage=1))
    await sync(alex, blake)
    assert stage(alex) == stage(blake) == 1

    proxy.tamper = Drop(by(alex.device_id, seqs={head_seq(alex) + 1}), victim=blake.device_id)
    await alex.append(PacingSteppedBack(to_stage=0))
    await sync(alex, blake)
    await blake.append(PacingForwardAccepted(offer=offer.event_id))
    await sync(blake, alex)

    assert stage(alex) == 0, "Alex paused: no acceptance written without seeing it moves on"
    assert ("withheld_events", "warning") in codes(blake)
    assert stage(blake) == 2, "what the relay can do: delay the pause on Blake's side"

    proxy.tamper = Tamper()
    await blake.reseed()
    await sync(alex)

    assert stage(blake) == stage(alex) == 0
    assert codes(blake) == []
    assert codes(alex) == []
