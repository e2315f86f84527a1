#!/usr/bin/env bash
# Re-makes test/fixtures/sources/<lib>/<version>/: runs app.py instrumented with each library
# (from .venv/sources-<lib>, see scripts/setup-sources.sh) against the mock upstream, recording
# the OTLP it exports, what the mock served, and a manifest. Everything stays on 127.0.0.1.
# Usage: scripts/capture-sources.sh [LIB[,LIB...]]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${1:-}" ]; then export CAPTURE_SOURCES="$1"; fi
IFS=',' read -r -a libs <<< "${CAPTURE_SOURCES:-}"
scripts/setup-sources.sh "${libs[@]}"
exec npx vitest run --config test/e2e/capture/vitest.config.ts test/e2e/capture/sources.capture.ts
