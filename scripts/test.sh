#!/usr/bin/env bash
# Start PostgreSQL and Redis on loopback, run pytest against them, stop them.
set -euo pipefail
cd "$(dirname "$0")/.."
services_dir=$(mktemp -d /tmp/nurture-test-services.XXXXXX)
trap 'scripts/services.sh stop "$services_dir"' EXIT
# Captured first: a failing start must stop the run (eval of a failed $(...) would not).
service_env=$(scripts/services.sh start "$services_dir")
eval "$service_env"
export NURTURE_TEST_PG_URL NURTURE_TEST_REDIS_URL
.venv/bin/python -m pytest "$@"
