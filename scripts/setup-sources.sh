#!/usr/bin/env bash
# Installs the instrumented client apps the "sources" e2e drives (test/e2e/sources/): one
# virtualenv per instrumentation library under .venv/sources-<lib>/ from the hash-pinned
# requirements in test/e2e/sources/requirements/ (uv verifies every hash), and the npm ones
# under .tools/sources/<lib>/ with `npm ci` from their committed lockfiles.
# Usage: scripts/setup-sources.sh [LIB...]   (default: every requirements/*.txt and npm/* folder)
# Idempotent: a library whose lockfile is unchanged since its install is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
reqs="test/e2e/sources/requirements"
npms="test/e2e/sources/npm"
# shellcheck source=scripts/lib/python-uv.sh
. scripts/lib/python-uv.sh

libs=("$@")
if [ ${#libs[@]} -eq 0 ]; then
  for f in "$reqs"/*.txt; do libs+=("$(basename "$f" .txt)"); done
  if [ -d "$npms" ]; then for d in "$npms"/*/; do libs+=("npm-$(basename "$d")"); done; fi
fi

install_py() {
  local lib="$1" req="$reqs/$1.txt" venv=".venv/sources-$1"
  [ -f "$req" ] || { echo "setup-sources: no $req" >&2; return 1; }
  local want; want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$want" ]; then
    echo "setup-sources: $venv is up to date"; return 0
  fi
  local start=$SECONDS
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$UV" pip install --quiet --require-hashes --no-deps -r "$req" --python "$venv/bin/python"
  echo "$want" > "$venv/.requirements.sha256"
  echo "setup-sources: installed $lib in $venv in $((SECONDS - start))s"
}

install_npm() {
  local lib="$1" pin="$npms/$1" dest=".tools/sources/$1"
  [ -f "$pin/package-lock.json" ] || { echo "setup-sources: no $pin/package-lock.json" >&2; return 1; }
  if [ -d "$dest/node_modules" ] && cmp -s "$pin/package-lock.json" "$dest/package-lock.json"; then
    echo "setup-sources: $dest is up to date"; return 0
  fi
  local start=$SECONDS
  rm -rf "$dest"
  mkdir -p "$dest"
  cp "$pin/package.json" "$pin/package-lock.json" "$dest/"
  (cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --engine-strict=false --loglevel=error)
  echo "setup-sources: installed npm $lib in $dest in $((SECONDS - start))s"
}

pids=()
for lib in "${libs[@]}"; do
  case "$lib" in
    npm-*) install_npm "${lib#npm-}" & ;;
    *) install_py "$lib" & ;;
  esac
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
