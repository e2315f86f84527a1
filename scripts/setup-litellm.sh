#!/usr/bin/env bash
# Creates one virtualenv per LiteLLM version under .venv/litellm-<version>/ from the
# hash-pinned requirements in test/e2e/litellm/ (pip verifies every hash).
# Usage: scripts/setup-litellm.sh [VERSION...]   (default: the versions the e2e runs in CI)
set -euo pipefail
cd "$(dirname "$0")/.."

VERSIONS=("$@")
if [ ${#VERSIONS[@]} -eq 0 ]; then
  # shellcheck disable=SC2207
  VERSIONS=($(node -e 'import("./test/e2e/litellm/versions.mjs").then(m => console.log(m.CI_VERSIONS.join(" ")))'))
fi
# shellcheck source=scripts/lib/python-uv.sh
. scripts/lib/python-uv.sh

for v in "${VERSIONS[@]}"; do
  req="test/e2e/litellm/requirements-$v.txt"
  venv=".venv/litellm-$v"
  [ -f "$req" ] || { echo "setup-litellm: no $req" >&2; exit 1; }
  stamp="$venv/.requirements.sha256"
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ -x "$venv/bin/litellm" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    echo "setup-litellm: $venv is up to date"
    continue
  fi
  start=$(date +%s)
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$UV" pip install --quiet --require-hashes --no-deps -r "$req" --python "$venv/bin/python"
  echo "$want" > "$stamp"
  echo "setup-litellm: installed LiteLLM $v in $venv in $(( $(date +%s) - start ))s"
done
