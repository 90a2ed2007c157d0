"""What the bot's handlers need at run time (database, intake settings, optional enterprise suggestions)."""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import CallbackContext

from intake.auto_triage import Analyser, TipTriage
from intake.service import IntakeConfig

log = logging.getLogger(__name__)

# (tip text, what the citizen typed as enterprise name) -> register names to offer as "did you mean".
Suggester = Callable[[str, str], list[str]]
SERVICES_KEY = "hotline"
MAX_SUGGESTIONS = 3


@dataclass
class BotServices:
    sessions: sessionmaker[Session]
    intake: IntakeConfig
    triage: TipTriage | None = None
    suggester: Suggester | None = None
    public_url: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return self.intake.tz

    async def suggest(self, text: str, typed: str) -> list[str]:
        """Register names close to what was typed; none when triage is absent or fails (it is optional)."""
        if self.suggester is None or not typed:
            return []
        try:
            names = await asyncio.to_thread(self.suggester, text, typed)
        except Exception:  # suggestions are a convenience: never let them break a report
            log.exception("enterprise suggestions failed")
            return []
        return [n for n in dict.fromkeys(names) if n][:MAX_SUGGESTIONS]


def services(context: CallbackContext[Any, Any, Any, Any]) -> BotServices:
    found: BotServices = context.application.bot_data[SERVICES_KEY]
    return found


def suggester_from_analyser(analyser: Analyser) -> Suggester:
    """Use the triage engine's enterprise matcher: its candidates for the text plus the typed name."""

    def suggest(text: str, typed: str) -> list[str]:
        from triage.analysis.result import Hints  # heavy; only when triage is present

        result = analyser(f"{typed} {text}", Hints(enterprise_name=typed, channel="telegram"))
        names = [c.name for c in getattr(result, "enterprise_candidates", ())]
        if getattr(result, "enterprise", None) is not None:
            names.insert(0, result.enterprise.name)
        return names

    return suggest
