#!/bin/sh
# scripts/test.sh — the whole test suite from a fresh machine: install the
# build and test dependencies, then `make test` (unit tests, then the
# network-namespace tests, plain and under ASan/UBSan).  Needs root.
# The last line printed is "N passed, N failed".
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
exec make test
