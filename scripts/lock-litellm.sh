#!/usr/bin/env bash
# Re-resolves test/e2e/litellm/requirements-<version>.txt (exact versions + sha256 hashes) from
# requirements-<version>.in, with dependencies as published up to the date given there, so an old
# LiteLLM gets the libraries it was released with. Needs `uv` (pip install uv).
# Usage: scripts/lock-litellm.sh [VERSION...]   (default: every requirements-<version>.in, and the tools)
set -euo pipefail
cd "$(dirname "$0")/../test/e2e/litellm"
UV="$(command -v uv || echo ../../../.venv/tools/bin/uv)"
ins=()
if [ $# -gt 0 ]; then for v in "$@"; do ins+=("requirements-$v.in"); done; else ins=(requirements-[0-9]*.in); fi
for in in "${ins[@]}"; do
  v="${in#requirements-}"; v="${v%.in}"
  date="$(sed -n 's/.*published up to \([0-9-]*\).*/\1/p' "$in")"
  "$UV" pip compile --generate-hashes --python-version 3.11 --quiet --exclude-newer "$date" \
    --custom-compile-command "scripts/lock-litellm.sh" "$in" -o "requirements-$v.txt"
  echo "locked LiteLLM $v (dependencies up to $date)"
done
if [ $# -eq 0 ]; then
  "$UV" pip compile --generate-hashes --python-version 3.11 --quiet --custom-compile-command "scripts/lock-litellm.sh" requirements-tools.in -o requirements-tools.txt
fi
