#!/usr/bin/env bash
# Installs the MCP Inspector pinned in tools/inspector (package-lock.json) for the Go test that
# drives Tollgate's MCP endpoint with the Inspector's CLI. Without Node.js it does nothing and
# that test skips itself. Safe to run repeatedly: it reinstalls only when the lock file changed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  echo "npm not found: skipping the MCP Inspector (its test will be skipped)" >&2
  exit 0
fi

dir=tools/inspector
stamp="$dir/node_modules/.tollgate-lock"
if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
  exit 0
fi
echo "installing the MCP Inspector (npm ci in $dir)…"
# The package's only install script is a no-op when it is a dependency.
npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund --loglevel=error
cp "$dir/package-lock.json" "$stamp"
