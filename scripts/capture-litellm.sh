#!/usr/bin/env bash
# Re-makes test/fixtures/litellm/<version>/<setting>/: runs the e2e call plan through each real
# LiteLLM proxy (from .venv, see scripts/setup-litellm.sh) against the mock upstream, recording
# the OTLP it exports, what the mock served, and a manifest. Everything stays on 127.0.0.1.
# Usage: scripts/capture-litellm.sh [VERSION[,VERSION...]] [SETTING[,SETTING...]]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${1:-}" ]; then export CAPTURE_VERSIONS="$1"; fi
if [ -n "${2:-}" ]; then export CAPTURE_SETTINGS="$2"; fi
IFS=',' read -r -a versions <<< "${CAPTURE_VERSIONS:-$(node -e 'import("./test/e2e/litellm/versions.mjs").then(m => console.log(m.VERSIONS.join(",")))')}"
scripts/setup-litellm.sh "${versions[@]}"
exec npx vitest run --config test/e2e/capture/vitest.config.ts
