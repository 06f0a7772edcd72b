#!/usr/bin/env bash
# Install the Debian packages that tests and benchmarks need, when missing.
#   scripts/system-deps.sh test    redis-server, postgresql, chromium, node/npm
#   scripts/system-deps.sh bench   the above plus postfix (smtp-sink) and wrk
set -euo pipefail

want=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_cmd redis-server || want+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || want+=(postgresql)
[ -x /usr/bin/chromium ] || want+=(chromium)
have_cmd npm || want+=(nodejs npm)
if [ "${1:-test}" = bench ]; then
  have_cmd smtp-sink || [ -x /usr/sbin/smtp-sink ] || want+=(postfix)
  have_cmd wrk || want+=(wrk)
fi
[ ${#want[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${want[*]} (run as root, or install them yourself)" >&2
  exit 1
fi
# postfix asks how to configure itself; we only want its smtp-sink tool, no daemon.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
# Debian starts installed servers where it can; the tests start their own.
for service in redis-server postgresql postfix; do
  service "$service" stop >/dev/null 2>&1 || true
done
