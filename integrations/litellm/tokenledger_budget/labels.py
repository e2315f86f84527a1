"""The attribution labels tokenledger will give a request's call, known before it is made.

They mirror the claude-normalizer's default attribution (processors/claude-normalizer/config.ts,
DEFAULT_ATTRIBUTION), so that the budget asked about is the one the call will count against:
team = team alias, else team id, else the x-litellm-team header; user = user email, else user id;
key_alias = the key's alias; customer = the x-litellm-customer-id / x-litellm-end-user-id header,
else LiteLLM's end user (the request's `user`). An empty value means the call will have none.
"""
from typing import Any, Mapping, Optional, Tuple

Labels = Tuple[Tuple[str, str], ...]

# LiteLLM names requests made with the master key this way: no one in particular.
_NO_USER = "default_user_id"


def _first(*values: Optional[Any]) -> str:
    for v in values:
        if isinstance(v, str) and v not in ("", "None"):
            return v
    return ""


def _customer(value: str) -> str:
    # Claude Code's metadata.user_id (a JSON blob, or user_…_session_<uuid>) names a session, not a customer.
    if value.startswith("{") or (value.startswith("user_") and "_session_" in value):
        return ""
    return value


def request_headers(data: Mapping[str, Any]) -> Mapping[str, str]:
    server_request = data.get("proxy_server_request") or {}
    headers = server_request.get("headers") if isinstance(server_request, Mapping) else None
    if not isinstance(headers, Mapping):
        return {}
    return {str(k).lower(): v for k, v in headers.items() if isinstance(v, str)}


def labels_of(auth: Any, data: Mapping[str, Any]) -> Labels:
    """Sorted (name, value) pairs: the query of /api/v1/budgets/check and the cache key."""
    headers = request_headers(data)
    user_id = getattr(auth, "user_id", None)
    return (
        ("customer", _customer(_first(headers.get("x-litellm-customer-id"), headers.get("x-litellm-end-user-id"), getattr(auth, "end_user_id", None), data.get("user")))),
        ("key_alias", _first(getattr(auth, "key_alias", None))),
        ("team", _first(getattr(auth, "team_alias", None), getattr(auth, "team_id", None), headers.get("x-litellm-team"))),
        ("user", _first(getattr(auth, "user_email", None), None if user_id == _NO_USER else user_id)),
    )
