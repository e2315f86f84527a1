"""LiteLLM `general_settings.custom_auth` hook for the e2e and the captures: virtual keys, teams,
users and orgs without LiteLLM's database. Each test API key maps to one identity, read from
custom_auth_keys.json beside this file (written by test/e2e/harness/custom-auth.ts); any other key
is refused, as a real deployment would."""
import json
import os

from fastapi import Request
from litellm.proxy._types import UserAPIKeyAuth

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "custom_auth_keys.json"), encoding="utf-8") as f:
    KEYS = json.load(f)


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    identity = KEYS.get(api_key)
    if identity is None:
        raise Exception("custom_auth: unknown API key")
    return UserAPIKeyAuth(api_key=api_key, **identity)
