#!/usr/bin/env bash
# test.sh: the project's test command. It runs go vet and the race tests of
# every package with a throwaway PostgreSQL (scripts/with-postgres.sh), so
# that the queue's tests run against a real database; extra arguments go
# to go test (e.g. scripts/test.sh -run Queue ./queue/).
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=("$@")
if [ ${#pkgs[@]} -eq 0 ]; then
  pkgs=(./...)
fi
exec scripts/with-postgres.sh bash -c 'go vet ./... && go test -race "$@"' test "${pkgs[@]}"
