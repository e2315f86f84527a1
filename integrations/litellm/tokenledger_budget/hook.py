"""The LiteLLM proxy hook: refuses a request whose tokenledger budget is exhausted (HTTP 429)."""
import logging
from typing import Any, Dict, List, Optional

from fastapi import HTTPException
from litellm.integrations.custom_logger import CustomLogger

from .labels import labels_of
from .settings import Settings
from .state import BudgetState, Unavailable

log = logging.getLogger("tokenledger_budget")


def refusal_message(exhausted: List[Dict[str, Any]]) -> str:
    """Names every exhausted budget, its scope, what it spent and when it resets."""
    parts = [
        f'budget "{b["budget"]}" for {b["scope_label"]}={b["scope_value"]} has spent ${b["spent_usd"]:.2f} of ${b["limit_usd"]:.2f} '
        f'this {b["period"]} (resets {b["period_end"]})'
        for b in exhausted
    ]
    return "tokenledger budget exhausted: " + "; ".join(parts) + ". Requests it covers are refused until it resets or its limit is raised."


class TokenledgerBudgetHook(CustomLogger):
    """A CustomLogger whose async_pre_call_hook asks tokenledger's budget state before each call."""

    def __init__(self, settings: Optional[Settings] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings or Settings.from_env()
        self.state = BudgetState(self.settings)

    async def async_pre_call_hook(self, user_api_key_dict: Any, cache: Any, data: dict, call_type: Any) -> Optional[dict]:
        labels = labels_of(user_api_key_dict, data)
        try:
            exhausted = await self.state.exhausted(labels)
        except Unavailable as err:
            if self.settings.failure_policy == "open":
                return None
            raise HTTPException(
                status_code=503,
                detail=f"tokenledger budget state unavailable ({err}); failure_policy=closed refuses requests until it answers",
            ) from None
        if exhausted:
            log.info("request refused: exhausted budgets %s for %s", [b["budget"] for b in exhausted], dict(labels))
            raise HTTPException(status_code=429, detail=refusal_message(exhausted))
        return None


proxy_handler_instance = TokenledgerBudgetHook()
