"""An application instrumented with one real OpenTelemetry GenAI library, calling the real
Anthropic / OpenAI / boto3 SDKs against the e2e mock upstream on 127.0.0.1.

Run by test/e2e/sources/ (drive.ts) in the library's virtualenv (.venv/sources-<lib>):
  python app.py <lib> <plan.json>
Environment: MOCK_URL (the mock upstream, or a LiteLLM proxy in front of it, with APP_API_KEY
its key), OTEL_EXPORTER_OTLP_ENDPOINT (tokenledger or a
recording sink, OTLP/HTTP), OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES (the app's identity,
read by every library's Resource). Prints one JSON line per call: its id, outcome and error.
"""
import json
import os
import sys

LIB = sys.argv[1]
PLAN = json.load(open(sys.argv[2]))
MOCK = os.environ["MOCK_URL"]
API_KEY = os.environ.get("APP_API_KEY")
OTLP = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"]


def otel_sdk():
    """The plain OTel SDK setup an app writes for an instrumentor library: OTLP/HTTP protobuf."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create())
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{OTLP}/v1/traces")))
    trace.set_tracer_provider(provider)
    return provider.shutdown


def instrument():
    """Turns the library on as its documentation says; returns what flushes it at exit."""
    if LIB == "openllmetry":
        shutdown = otel_sdk()
        from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor
        from opentelemetry.instrumentation.bedrock import BedrockInstrumentor
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor

        AnthropicInstrumentor().instrument()
        OpenAIInstrumentor().instrument()
        BedrockInstrumentor().instrument()
        return shutdown
    if LIB == "openinference":
        shutdown = otel_sdk()
        from openinference.instrumentation.anthropic import AnthropicInstrumentor
        from openinference.instrumentation.openai import OpenAIInstrumentor

        AnthropicInstrumentor().instrument()
        OpenAIInstrumentor().instrument()
        return shutdown
    if LIB == "otel-genai":
        shutdown = otel_sdk()
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        OpenAIInstrumentor().instrument()
        return shutdown
    if LIB == "openlit":
        import openlit
        from opentelemetry import trace

        openlit.init(
            otlp_endpoint=OTLP,
            application_name=os.environ["OTEL_SERVICE_NAME"],
            environment=os.environ.get("APP_ENVIRONMENT", "default"),
            disable_metrics=True,
        )
        return lambda: trace.get_tracer_provider().shutdown()
    if LIB == "logfire":
        import logfire

        logfire.configure(
            send_to_logfire=False,
            service_name=os.environ["OTEL_SERVICE_NAME"],
            environment=os.environ.get("APP_ENVIRONMENT"),
            console=False,
            metrics=False,
        )
        logfire.instrument_anthropic()
        logfire.instrument_openai()
        return logfire.shutdown
    raise SystemExit(f"app.py: unknown library {LIB}")


def anthropic_call(c):
    import anthropic

    client = anthropic.Anthropic(base_url=MOCK, api_key=API_KEY or "sk-ant-e2e", max_retries=0)
    args = dict(model=c["model"], max_tokens=64, messages=[{"role": "user", "content": c["prompt"]}])
    if c.get("cache"):
        args["system"] = [{"type": "text", "text": "A long cached system prompt.", "cache_control": {"type": "ephemeral"}}]
    if c["stream"]:
        with client.messages.stream(**args) as s:
            for _ in s.text_stream:
                pass
            return s.get_final_message().id
    return client.messages.create(**args).id


def openai_call(c):
    import openai

    client = openai.OpenAI(base_url=f"{MOCK}/v1", api_key=API_KEY or "sk-e2e", max_retries=0)
    args = dict(model=c["model"], messages=[{"role": "user", "content": c["prompt"]}])
    if c["stream"]:
        rid = ""
        for chunk in client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **args):
            rid = chunk.id
        return rid
    return client.chat.completions.create(**args).id


def bedrock_call(c):
    import boto3

    client = boto3.client(
        "bedrock-runtime", region_name="us-east-1", endpoint_url=MOCK,
        aws_access_key_id="AKIDE2E", aws_secret_access_key="e2e", config=boto3.session.Config(retries={"total_max_attempts": 1}),
    )
    if c["api"] == "converse":
        args = dict(modelId=c["model"], messages=[{"role": "user", "content": [{"text": c["prompt"]}]}], inferenceConfig={"maxTokens": 64})
        if c["stream"]:
            for _ in client.converse_stream(**args)["stream"]:
                pass
            return ""
        return client.converse(**args)["ResponseMetadata"]["RequestId"]
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "messages": [{"role": "user", "content": c["prompt"]}]})
    if c["stream"]:
        for _ in client.invoke_model_with_response_stream(modelId=c["model"], body=body)["body"]:
            pass
        return ""
    return json.loads(client.invoke_model(modelId=c["model"], body=body)["body"].read())["id"]


CALLERS = {"anthropic": anthropic_call, "openai": openai_call, "bedrock": bedrock_call}


def call_context():
    """The end user and session of the calls, set the way each library documents (W3C baggage
    otherwise): whether they reach the spans is what the captures show."""
    user, session = os.environ["APP_USER"], os.environ["APP_SESSION"]
    if LIB == "openinference":
        from openinference.instrumentation import using_attributes

        return using_attributes(user_id=user, session_id=session)
    if LIB == "logfire":
        import logfire

        return logfire.set_baggage(**{"user.id": user, "session.id": session})
    from contextlib import contextmanager
    from opentelemetry import baggage, context

    @contextmanager
    def attached():
        token = context.attach(baggage.set_baggage("session.id", session, baggage.set_baggage("user.id", user)))
        try:
            yield
        finally:
            context.detach(token)

    return attached()


def main():
    shutdown = instrument()
    for c in PLAN:
        try:
            with call_context():
                rid = CALLERS[c["sdk"]](c)
            print(json.dumps({"id": c["id"], "ok": True, "response_id": rid or ""}), flush=True)
        except Exception as e:  # an injected upstream error: recorded, the plan goes on
            print(json.dumps({"id": c["id"], "ok": False, "error": type(e).__name__, "message": str(e)[:200]}), flush=True)
    shutdown()


main()
