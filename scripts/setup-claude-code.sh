#!/usr/bin/env bash
# Installs the pinned Claude Code CLI versions the end-to-end tests run, each into
# .tools/claude-code/<version>/ with `npm ci` from a committed lockfile
# (test/e2e/claude-code/install/<version>/), so every tarball is checked against its sha512.
#
# Why not a devDependency: each version is a ~250-400 MB native binary, 2.1.330 declares
# engines.node >= 22 (the binary never uses Node, but npm would warn for every developer), and
# the matrix needs two versions side by side. Install scripts are not run: the tests call the
# platform package's binary directly instead of letting install.cjs hard-link it.
#
# Usage: scripts/setup-claude-code.sh [VERSION...]   (default: every folder under install/)
# Idempotent: a version whose lockfile and binary are already in place is skipped.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pins="$root/test/e2e/claude-code/install"
tools="$root/.tools/claude-code"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-x64 ;;
  Linux-aarch64) platform=linux-arm64 ;;
  Darwin-arm64) platform=darwin-arm64 ;;
  Darwin-x86_64) platform=darwin-x64 ;;
  *) echo "setup-claude-code: unsupported platform $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac
# musl systems (Alpine) get the -musl build.
if [ "${platform%%-*}" = linux ] && ldd --version 2>&1 | grep -qi musl; then platform="$platform-musl"; fi

if [ $# -gt 0 ]; then versions=("$@"); else mapfile -t versions < <(ls "$pins"); fi

for v in "${versions[@]}"; do
  [ -f "$pins/$v/package-lock.json" ] || { echo "setup-claude-code: no pinned lockfile for $v in $pins" >&2; exit 1; }
  dest="$tools/$v"
  bin="$dest/node_modules/@anthropic-ai/claude-code-$platform/claude"
  if [ -x "$bin" ] && cmp -s "$pins/$v/package-lock.json" "$dest/package-lock.json"; then
    echo "claude-code $v already installed: $bin"
    continue
  fi
  start=$SECONDS
  rm -rf "$dest"
  mkdir -p "$dest"
  cp "$pins/$v/package.json" "$pins/$v/package-lock.json" "$dest/"
  # --engine-strict=false: 2.1.330+ declares node >= 22 although its native binary does not use Node.
  (cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --engine-strict=false --loglevel=error)
  [ -x "$bin" ] || { echo "setup-claude-code: $bin missing after npm ci (optional dependency for $platform not installed?)" >&2; exit 1; }
  got="$(HOME="$dest/.version-check-home" DISABLE_AUTOUPDATER=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 "$bin" --version)"
  rm -rf "$dest/.version-check-home"
  case "$got" in
    "$v "*) echo "claude-code $v installed in $((SECONDS - start)) s: $bin" ;;
    *) echo "setup-claude-code: $bin --version printed '$got', expected $v" >&2; exit 1 ;;
  esac
done
