"""Budget enforcement for the LiteLLM proxy from tokenledger's budget state.

Register it in LiteLLM's config.yaml through a one-line module beside the config (LiteLLM up to
1.8x imports `callbacks` entries only from files there):

    # tokenledger_callbacks.py
    from tokenledger_budget import proxy_handler_instance

    # config.yaml
    litellm_settings:
      callbacks: [tokenledger_callbacks.proxy_handler_instance]

Settings come from the environment (see integrations/litellm/README.md).
"""
from .hook import TokenledgerBudgetHook, proxy_handler_instance
from .settings import Settings

__all__ = ["TokenledgerBudgetHook", "Settings", "proxy_handler_instance"]
