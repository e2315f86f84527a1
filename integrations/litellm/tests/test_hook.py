"""The hook's cache, failure handling and refusals against a small local HTTP server that answers
like tokenledger's /api/v1/budgets/check. Run: python -m unittest discover -s tests (from integrations/litellm)."""
import asyncio
import json
import unittest
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

from fastapi import HTTPException

from tokenledger_budget import Settings, TokenledgerBudgetHook
from tokenledger_budget.labels import labels_of
from tokenledger_budget.state import BudgetState, Unavailable

EXHAUSTED = {"budget": "team-daily", "scope_label": "team", "scope_value": "alpha", "period": "day", "period_end": "2026-12-06T00:00:00.000Z", "limit_usd": 1.0, "spent_usd": 1.26}


class FakeTokenledger:
    """Answers GET /api/v1/budgets/check: `alpha` exhausted once `spent` says so; records every query."""

    def __init__(self) -> None:
        self.queries = []
        self.exhausted_teams = set()
        self.status = 200
        self.delay = 0.0
        self.server = None
        self.writers = set()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        # Like a process that exits: kept-alive connections close too.
        self.server.close()
        for w in list(self.writers):
            w.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                target = line.decode().split(" ")[1]
                headers = {}
                while (h := await reader.readline()) not in (b"\r\n", b""):
                    k, _, v = h.decode().partition(":")
                    headers[k.strip().lower()] = v.strip()
                query = dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))
                self.queries.append((query, headers.get("authorization")))
                await asyncio.sleep(self.delay)
                exhausted = [dict(EXHAUSTED, scope_value=query["team"])] if query.get("team") in self.exhausted_teams else []
                body = json.dumps({"allowed": not exhausted, "exhausted": exhausted, "ledger_read_at": None}).encode()
                writer.write(f"HTTP/1.1 {self.status} X\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n".encode() + body)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self.writers.discard(writer)
            writer.close()


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def auth(**fields):
    return SimpleNamespace(**{"team_alias": None, "team_id": None, "key_alias": None, "user_email": None, "user_id": None, "end_user_id": None, **fields})


class LabelsTest(unittest.TestCase):
    def test_mirror_the_normalizer_default_attribution(self):
        self.assertEqual(
            labels_of(auth(team_alias="alpha", team_id="t-1", key_alias="ci", user_email=None, user_id="svc-ci"), {"user": "acme"}),
            (("customer", "acme"), ("key_alias", "ci"), ("team", "alpha"), ("user", "svc-ci")),
        )
        headers = {"proxy_server_request": {"headers": {"X-LiteLLM-Customer-Id": "globex", "x-litellm-team": "from-header"}}}
        self.assertEqual(
            labels_of(auth(user_id="default_user_id", end_user_id="eu"), headers),
            (("customer", "globex"), ("key_alias", ""), ("team", "from-header"), ("user", "")),
        )
        # Claude Code's metadata.user_id names a session, not a customer.
        self.assertEqual(labels_of(auth(), {"user": '{"session_id": "s"}'})[0], ("customer", ""))
        self.assertEqual(labels_of(auth(), {"user": "user_abc_account__session_123"})[0], ("customer", ""))


class StateTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.tl = FakeTokenledger()
        self.url = await self.tl.start()
        self.clock = Clock()

    async def asyncTearDown(self):
        await self.tl.stop()

    def state(self, **over) -> BudgetState:
        settings = Settings(url=self.url, token="t0k", ttl_s=1, max_stale_s=5, timeout_s=0.5, retry_after_s=2, **over)
        return BudgetState(settings, clock=self.clock)

    async def test_fresh_answers_come_from_the_cache_stale_ones_are_refreshed_in_the_background(self):
        state = self.state()
        labels = (("team", "alpha"),)
        self.assertEqual(await state.exhausted(labels), [])
        self.assertEqual(self.tl.queries, [({"team": "alpha"}, "Bearer t0k")])
        self.tl.exhausted_teams.add("alpha")
        self.clock.t += 0.5
        self.assertEqual(await state.exhausted(labels), [])  # fresh: no request
        self.assertEqual(len(self.tl.queries), 1)
        self.clock.t += 1
        self.assertEqual(await state.exhausted(labels), [])  # stale: used once more while it refreshes
        await asyncio.sleep(0.2)
        self.assertEqual(len(self.tl.queries), 2)
        self.assertEqual([b["budget"] for b in await state.exhausted(labels)], ["team-daily"])
        await state.close()

    async def test_concurrent_first_requests_share_one_request(self):
        state = self.state()
        self.tl.delay = 0.1
        answers = await asyncio.gather(*(state.exhausted((("team", "beta"),)) for _ in range(20)))
        self.assertEqual(answers, [[]] * 20)
        self.assertEqual(len(self.tl.queries), 1)
        await state.close()

    async def test_unreachable_tokenledger_is_down_for_retry_after_and_old_answers_expire_at_max_stale(self):
        state = self.state()
        await state.exhausted((("team", "alpha"),))
        await self.tl.stop()
        self.clock.t += 2  # stale: the old answer is still used; its refresh fails
        self.assertEqual(await state.exhausted((("team", "alpha"),)), [])
        await asyncio.sleep(0.2)
        with self.assertRaises(Unavailable):  # an unknown label set: down, no request waits
            await state.exhausted((("team", "new"),))
        self.clock.t += 4  # older than max_stale, and past retry_after: asks, fails
        with self.assertRaisesRegex(Unavailable, r"GET http://127\.0\.0\.1:\d+/api/v1/budgets/check: ConnectError"):
            await state.exhausted((("team", "alpha"),))
        await state.close()

    async def test_an_error_answer_is_unavailable_with_its_status(self):
        state = self.state()
        self.tl.status = 401
        with self.assertRaisesRegex(Unavailable, "HTTP 401"):
            await state.exhausted((("team", "alpha"),))
        await state.close()


class HookTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.tl = FakeTokenledger()
        self.url = await self.tl.start()

    async def asyncTearDown(self):
        await self.tl.stop()

    async def call(self, hook, **fields):
        return await hook.async_pre_call_hook(user_api_key_dict=auth(**fields), cache=None, data={}, call_type="completion")

    async def test_refuses_an_exhausted_team_with_429_naming_the_budget_and_lets_others_through(self):
        self.tl.exhausted_teams.add("alpha")
        hook = TokenledgerBudgetHook(Settings(url=self.url))
        with self.assertRaises(HTTPException) as refused:
            await self.call(hook, team_alias="alpha")
        self.assertEqual(refused.exception.status_code, 429)
        self.assertIn('budget "team-daily" for team=alpha has spent $1.26 of $1.00 this day (resets 2026-12-06T00:00:00.000Z)', refused.exception.detail)
        self.assertIsNone(await self.call(hook, team_alias="beta"))
        await hook.state.close()

    async def test_failure_policies(self):
        await self.tl.stop()
        self.assertIsNone(await self.call(TokenledgerBudgetHook(Settings(url=self.url, failure_policy="open")), team_alias="alpha"))
        with self.assertRaises(HTTPException) as refused:
            await self.call(TokenledgerBudgetHook(Settings(url=self.url, failure_policy="closed")), team_alias="alpha")
        self.assertEqual(refused.exception.status_code, 503)
        self.assertRegex(refused.exception.detail, r"^tokenledger budget state unavailable \(GET .*\); failure_policy=closed")
        self.tl = FakeTokenledger()
        self.url = await self.tl.start()

    def test_settings_name_a_bad_variable(self):
        with self.assertRaisesRegex(ValueError, "TOKENLEDGER_BUDGET_FAILURE_POLICY must be one of"):
            Settings.from_env({"TOKENLEDGER_BUDGET_FAILURE_POLICY": "maybe"})
        with self.assertRaisesRegex(ValueError, "TOKENLEDGER_BUDGET_TTL must be a number of seconds"):
            Settings.from_env({"TOKENLEDGER_BUDGET_TTL": "2s"})


if __name__ == "__main__":
    unittest.main()
