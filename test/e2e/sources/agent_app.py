"""An agent built on the Python Claude Agent SDK, which runs the Claude Code CLI it bundles.

Run by test/e2e/sources/agent-sdk.test.ts in .venv/sources-claude-agent-sdk:
  python agent_app.py <prompt>
The environment is a Claude Code run's (ANTHROPIC_BASE_URL at the mock, OTel export to
tokenledger, every other destination through a refusing proxy): the SDK passes it to the CLI.
Prints the run's result message as one JSON line.
"""
import json
import os
import sys

import anyio
from claude_agent_sdk import ClaudeAgentOptions, ResultMessage, query


async def main():
    options = ClaudeAgentOptions(model=os.environ["APP_MODEL"], max_turns=1, cwd=os.environ["APP_CWD"])
    async for message in query(prompt=sys.argv[1], options=options):
        if isinstance(message, ResultMessage):
            print(json.dumps({"session_id": message.session_id, "total_cost_usd": message.total_cost_usd, "is_error": message.is_error}), flush=True)


anyio.run(main)
