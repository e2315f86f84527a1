#!/usr/bin/env bash
# Builds the OpenTelemetry Collector that `npm run bench -- --vs-otelcol` compares against
# (otlp receiver, memory_limiter and batch processors, file exporter), v0.165.0, with its builder
# (ocb) from the Go module proxy. The proxy refuses otlpencodingextension v0.165.0 (a test-only
# dependency of the file exporter), so ocb's own module download fails and is let pass: `go get` of
# the modules it listed then resolves what the build needs, and `go build -mod=mod` adds the go.sum
# entries of what it compiles. Output: $TOKENLEDGER_OTELCOL_DIR/otelcol-bench (default
# ~/.cache/tokenledger/otelcol-0.165.0/), outside the repository; prints its path. Does nothing
# when the binary exists.
set -euo pipefail
VERSION=0.165.0
DIR="${TOKENLEDGER_OTELCOL_DIR:-$HOME/.cache/tokenledger/otelcol-$VERSION}"
BIN="$DIR/otelcol-bench"
if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi
command -v go >/dev/null || { echo "setup-otelcol: Go is not installed (https://go.dev/dl/)" >&2; exit 3; }
mkdir -p "$DIR"
rm -rf "$DIR/src" # a failed earlier attempt
GOBIN="$DIR/bin" go install "go.opentelemetry.io/collector/cmd/builder@v$VERSION" >&2
cat > "$DIR/builder.yaml" <<YAML
dist:
  name: otelcol-bench
  description: OpenTelemetry Collector for tokenledger's bench (otlp, memory_limiter, batch, file)
  output_path: $DIR/src
receivers:
  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver v$VERSION
processors:
  - gomod: go.opentelemetry.io/collector/processor/batchprocessor v$VERSION
  - gomod: go.opentelemetry.io/collector/processor/memorylimiterprocessor v$VERSION
exporters:
  - gomod: github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter v$VERSION
YAML
"$DIR/bin/builder" --config "$DIR/builder.yaml" --skip-compilation >&2 || echo "setup-otelcol: ocb could not fetch every module (expected: otlpencodingextension); resolving with go get" >&2
cd "$DIR/src"
# `go get` the modules ocb listed (not `go mod tidy`, which follows the file exporter's tests).
go get $(awk '/^require \(/{r=1;next} r&&/^\)/{exit} r{print $1"@"$2}' go.mod) >&2
GOFLAGS=-mod=mod go build -trimpath -ldflags='-s -w' -o "$BIN" . >&2
echo "$BIN"
