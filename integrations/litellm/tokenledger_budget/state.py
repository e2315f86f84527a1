"""tokenledger's budget state as the hook sees it: answers of GET /api/v1/budgets/check, cached.

A fresh answer (younger than ttl_s) is used as it is. An older one, up to max_stale_s, is still
used while one background request refreshes it, so that a request never waits on tokenledger
for a label set asked about recently. Only a label set seen for the first time (or not for
max_stale_s) waits for tokenledger, at most timeout_s; concurrent requests for it share one
request. After a failure tokenledger counts as down for retry_after_s: requests then get the
failure policy at once instead of each waiting for a timeout.
"""
import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

import httpx

from .labels import Labels
from .settings import Settings

log = logging.getLogger("tokenledger_budget")

# Label sets remembered; the oldest answer is forgotten first. Far more than a deployment's teams × keys.
MAX_ENTRIES = 50_000


class Unavailable(Exception):
    """tokenledger could not be asked (unreachable, timed out, or an unexpected answer)."""


@dataclass
class _Entry:
    exhausted: List[Dict[str, Any]]
    fetched_at: float


class BudgetState:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock
        self._entries: Dict[Labels, _Entry] = {}
        self._inflight: Dict[Labels, "asyncio.Future[List[Dict[str, Any]]]"] = {}
        self._down_until = 0.0
        self._last_error = ""
        self._client: Optional[httpx.AsyncClient] = None
        self._headers = {"accept": "application/json"}
        if settings.token:
            self._headers["authorization"] = f"Bearer {settings.token}"

    async def exhausted(self, labels: Labels) -> List[Dict[str, Any]]:
        """The exhausted budgets a call with these labels would count against; raises Unavailable."""
        now = self._clock()
        entry = self._entries.get(labels)
        if entry is not None:
            age = now - entry.fetched_at
            if age < self._settings.ttl_s:
                return entry.exhausted
            if age < self._settings.max_stale_s:
                if labels not in self._inflight and now >= self._down_until:
                    self._start(labels).add_done_callback(_consume_failure)
                return entry.exhausted
        if now < self._down_until:
            raise Unavailable(self._last_error)
        return await asyncio.shield(self._inflight.get(labels) or self._start(labels))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _start(self, labels: Labels) -> "asyncio.Future[List[Dict[str, Any]]]":
        task = asyncio.ensure_future(self._ask(labels))
        self._inflight[labels] = task
        task.add_done_callback(lambda _: self._inflight.pop(labels, None))
        return task

    async def _ask(self, labels: Labels) -> List[Dict[str, Any]]:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._settings.timeout_s)
        url = f"{self._settings.url}/api/v1/budgets/check"
        try:
            res = await self._client.get(url, params=list(labels), headers=self._headers)
        except httpx.HTTPError as err:
            raise self._failed(f"GET {url}: {type(err).__name__}: {err}") from err
        if res.status_code != 200:
            raise self._failed(f"GET {url}: HTTP {res.status_code}: {res.text[:200]}")
        try:
            exhausted = res.json()["exhausted"]
        except (ValueError, KeyError, TypeError) as err:
            raise self._failed(f"GET {url}: unexpected answer: {res.text[:200]}") from err
        if self._down_until:
            log.warning("tokenledger budget state is reachable again at %s", self._settings.url)
            self._down_until = 0.0
        self._entries.pop(labels, None)
        self._entries[labels] = _Entry(exhausted, self._clock())
        if len(self._entries) > MAX_ENTRIES:
            del self._entries[next(iter(self._entries))]
        return exhausted

    def _failed(self, reason: str) -> Unavailable:
        if not self._down_until:
            log.warning("tokenledger budget state unavailable (failure_policy=%s): %s", self._settings.failure_policy, reason)
        self._last_error = reason
        self._down_until = self._clock() + self._settings.retry_after_s
        return Unavailable(reason)


def _consume_failure(task: "asyncio.Future[Any]") -> None:
    # A background refresh that failed was logged by _failed; the stale answer stays in use meanwhile.
    if not task.cancelled():
        task.exception()
