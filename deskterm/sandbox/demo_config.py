"""What the demo profile adds to the user's config so assisted triage has something to show:
routing rules (returns to Jana in the "retouren" queue, GDPR requests to the "dsgvo" queue),
the team's queues, the shop's name for drafts, and, when no LLM is configured, the fake OpenAI-compatible endpoint
(sandbox/llm.py) on 127.0.0.1 so ctrl+l in the composer works without any provider.
The user's own [assist] rules and [assist.llm] always win."""

from __future__ import annotations

from dataclasses import replace

from deskterm.config import Config
from deskterm.domain.assist_policy import LlmSettings, Route

DEMO_ROUTES = (
    Route("Retouren an Jana", intents=("return",), queue="retouren", assignee="Jana", tags=("retoure",)),
    Route("DSGVO an Admin", intents=("gdpr",), queue="dsgvo", priority=1, tags=("dsgvo",)),
    Route("Rechtliches eskalieren", min_urgency=2, tags=("eskalation",)),
)


def demo_config(config: Config) -> Config:
    assist = config.assist
    if not assist.routes:
        assist = replace(assist, routes=DEMO_ROUTES)
    if not assist.llm.enabled:
        from deskterm.sandbox.llm import LlmSandbox

        server = LlmSandbox(model="demo-llm").start()
        assist = replace(assist, llm=LlmSettings(enabled=True, base_url=f"{server.base_url}/v1", model="demo-llm"))
    team = config.team
    if not team.queues:
        team = replace(team, queues=("retouren", "dsgvo"), agents=team.agents or ("Jana", "Anna"))
    reply = config.reply if config.reply.shop_name else replace(config.reply, shop_name="Lindenhof Haushaltswaren")
    return replace(config, assist=assist, team=team, reply=reply)
