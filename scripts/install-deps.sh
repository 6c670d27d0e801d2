#!/usr/bin/env bash
# Installs what `make test` and `make dev` need and a fresh Debian machine lacks: PostgreSQL's
# server binaries, curl, stripe-mock and Chromium. Safe to run repeatedly; it only acts on what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); fi
fi

apt_updated=0
apt_install() {
  if [ "$(id -u)" -ne 0 ] && [ ${#sudo_cmd[@]} -eq 0 ]; then
    echo "missing: $* — install it with: sudo apt-get install -y $*" >&2
    return 1
  fi
  if [ "$apt_updated" -eq 0 ]; then
    echo "apt-get update…"
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  echo "installing $* (Debian package)…"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  apt_install postgresql postgresql-contrib
fi

# the tests replay the tutorials' curl lines through the user's own curl
if ! command -v curl >/dev/null 2>&1; then
  apt_install curl
fi

if [ "${TOLLGATE_SKIP_BROWSER:-}" = "" ] && ! command -v chromium >/dev/null 2>&1; then
  apt_install chromium
fi

# the invoice tests read the rendered PDFs' text with pdftotext
if ! command -v pdftotext >/dev/null 2>&1; then
  apt_install poppler-utils
fi

scripts/install-stripe-mock.sh
scripts/install-inspector.sh
