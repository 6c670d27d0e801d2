#!/bin/sh
# Installs stripe-mock, the Stripe API simulator the payments/stripe tests run against, unless
# a copy is already on PATH or in $(go env GOPATH)/bin. Safe to run any number of times.
set -eu

version=v0.203.0
gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin="$(go env GOPATH | cut -d: -f1)/bin"

if command -v stripe-mock >/dev/null 2>&1; then
	echo "stripe-mock: $(command -v stripe-mock)"
	exit 0
fi
if [ -x "$gobin/stripe-mock" ]; then
	echo "stripe-mock: $gobin/stripe-mock"
	exit 0
fi

echo "installing github.com/stripe/stripe-mock@$version into $gobin"
# Outside any module, so the project's go.mod is neither read nor changed.
cd "${TMPDIR:-/tmp}"
GOFLAGS= go install "github.com/stripe/stripe-mock@$version"
echo "stripe-mock: $gobin/stripe-mock"
