"""The hook's settings, read from the environment once at import (LiteLLM loads callbacks at start)."""
import os
from dataclasses import dataclass
from typing import Mapping, Optional

POLICIES = ("open", "closed")


@dataclass(frozen=True)
class Settings:
    # Base URL of tokenledger's admin server, e.g. http://tokenledger:9464.
    url: str
    # Bearer token of the admin server (service.telemetry.admin.auth), or None when it has none.
    token: Optional[str] = None
    # How long an answer is used before it is asked again (refreshed in the background meanwhile).
    ttl_s: float = 2.0
    # An answer older than this is not used at all: the next request waits for a fresh one.
    max_stale_s: float = 30.0
    # Timeout of one request to tokenledger.
    timeout_s: float = 0.25
    # When tokenledger cannot be asked: "open" lets requests through, "closed" refuses them (503).
    failure_policy: str = "open"
    # After a failed request, how long tokenledger counts as down (the policy applies without waiting).
    retry_after_s: float = 1.0

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"tokenledger_budget: TOKENLEDGER_BUDGET_URL must be an http(s) URL, got {self.url!r}")
        if self.failure_policy not in POLICIES:
            raise ValueError(f"tokenledger_budget: TOKENLEDGER_BUDGET_FAILURE_POLICY must be one of {POLICIES}, got {self.failure_policy!r}")
        for name in ("ttl_s", "max_stale_s", "timeout_s", "retry_after_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"tokenledger_budget: {name} must be > 0, got {getattr(self, name)!r}")
        if self.max_stale_s < self.ttl_s:
            raise ValueError(f"tokenledger_budget: max_stale_s ({self.max_stale_s}) must be at least ttl_s ({self.ttl_s})")

    @staticmethod
    def from_env(env: Mapping[str, str] = os.environ) -> "Settings":
        def seconds(name: str, default: float) -> float:
            raw = env.get(name)
            if raw is None or raw == "":
                return default
            try:
                return float(raw)
            except ValueError:
                raise ValueError(f"tokenledger_budget: {name} must be a number of seconds, got {raw!r}") from None

        return Settings(
            url=env.get("TOKENLEDGER_BUDGET_URL", "http://127.0.0.1:9464").rstrip("/"),
            token=env.get("TOKENLEDGER_BUDGET_TOKEN") or None,
            ttl_s=seconds("TOKENLEDGER_BUDGET_TTL", Settings.ttl_s),
            max_stale_s=seconds("TOKENLEDGER_BUDGET_MAX_STALE", Settings.max_stale_s),
            timeout_s=seconds("TOKENLEDGER_BUDGET_TIMEOUT", Settings.timeout_s),
            failure_policy=env.get("TOKENLEDGER_BUDGET_FAILURE_POLICY", Settings.failure_policy),
            retry_after_s=seconds("TOKENLEDGER_BUDGET_RETRY_AFTER", Settings.retry_after_s),
        )
