#!/usr/bin/env bash
# Re-resolves test/e2e/sources/requirements/<lib>.txt (exact versions + sha256 hashes) from <lib>.in,
# with dependencies as published up to the date named in the .in file ("published up to YYYY-MM-DD"),
# else up to 2026-12-01; and the npm lockfiles of test/e2e/sources/npm/<dir>/. Needs `uv` (setup-litellm.sh installs it).
# Usage: scripts/lock-sources.sh [LIB...]   (default: every requirements/*.in and npm/* dir)
set -euo pipefail
cd "$(dirname "$0")/.."
UV="$(command -v uv || echo "$PWD/.venv/tools/bin/uv")"
reqs=test/e2e/sources/requirements
libs=("$@")
if [ ${#libs[@]} -eq 0 ]; then
  for f in "$reqs"/*.in; do libs+=("$(basename "$f" .in)"); done
  for d in test/e2e/sources/npm/*/; do libs+=("npm-$(basename "$d")"); done
fi
for lib in "${libs[@]}"; do
  case "$lib" in
    npm-*)
      dir="test/e2e/sources/npm/${lib#npm-}"
      (cd "$dir" && rm -f package-lock.json && npm install --package-lock-only --ignore-scripts --no-audit --no-fund --loglevel=error)
      echo "locked $dir" ;;
    *)
      in="$reqs/$lib.in"
      date="$(sed -n 's/.*published up to \([0-9-]*\).*/\1/p' "$in" | head -1)"
      (cd "$reqs" && "$UV" pip compile --generate-hashes --python-version 3.11 --quiet --exclude-newer "${date:-2026-12-01}" \
        --custom-compile-command "scripts/lock-sources.sh" "$lib.in" -o "$lib.txt")
      echo "locked $lib (dependencies up to ${date:-2026-12-01})" ;;
  esac
done
