"""Measures what the hook adds to a request: its async_pre_call_hook timed against a live tokenledger.

    python -m tokenledger_budget.bench --requests 5000 --identities 50

Settings come from the environment as for the proxy (TOKENLEDGER_BUDGET_URL, ...). Prints one JSON
line: percentiles in microseconds for requests whose label set was asked about before ("warm":
answered from the cache, refreshed in the background every ttl) and for first sightings ("cold":
one request to tokenledger).
"""
import argparse
import asyncio
import json
import time
from typing import List

from fastapi import HTTPException
from litellm.proxy._types import UserAPIKeyAuth

from .hook import TokenledgerBudgetHook


def _percentile(samples: List[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def _summary(samples: List[float]) -> dict:
    us = [s * 1e6 for s in samples]
    return {"n": len(us), "p50_us": round(_percentile(us, 0.5), 1), "p99_us": round(_percentile(us, 0.99), 1), "max_us": round(max(us), 1)}


async def _timed(hook: TokenledgerBudgetHook, auth: UserAPIKeyAuth) -> float:
    t0 = time.perf_counter()
    try:
        await hook.async_pre_call_hook(user_api_key_dict=auth, cache=None, data={"model": "m", "messages": []}, call_type="completion")
    except HTTPException:
        pass  # a refusal costs the same to decide
    return time.perf_counter() - t0


async def main(requests: int, identities: int, pause_s: float) -> dict:
    hook = TokenledgerBudgetHook()
    users = [UserAPIKeyAuth(api_key=f"sk-bench-{i}", key_alias=f"bench-key-{i}", team_alias=f"bench-team-{i % 10}", user_id=f"bench-user-{i}") for i in range(identities)]
    cold = [await _timed(hook, u) for u in users]
    warm = []
    for i in range(requests):
        warm.append(await _timed(hook, users[i % identities]))
        if pause_s:
            await asyncio.sleep(pause_s)
    await hook.state.close()
    return {"cold": _summary(cold), "warm": _summary(warm), "ttl_s": hook.settings.ttl_s}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--identities", type=int, default=50)
    parser.add_argument("--pause", type=float, default=0.0005, help="seconds between requests, so that ttl-driven refreshes happen during the run")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.requests, args.identities, args.pause))))
