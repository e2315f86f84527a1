# Sourced by the setup scripts, from the repository root: sets PYTHON (3.11 when there is one) and
# UV, a hash-pinned uv (test/e2e/litellm/requirements-tools.txt) in .venv/tools unless uv is on PATH.
# uv installs a venv in ~30 s where pip takes minutes.
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3

UV="$(command -v uv || true)"
if [ -z "$UV" ]; then
  tools=".venv/tools"
  if [ ! -x "$tools/bin/uv" ]; then
    "$PYTHON" -m venv "$tools"
    "$tools/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r test/e2e/litellm/requirements-tools.txt
  fi
  UV="$tools/bin/uv"
fi
