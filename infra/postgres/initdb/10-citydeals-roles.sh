#!/usr/bin/env bash
# For the official postgres image's /docker-entrypoint-initdb.d: runs once, when the data directory is empty.
# Later password changes need a re-run of init.sql (it is idempotent), e.g. with psql as below.
#
# No `set -u` and no `exit`: the entrypoint sources (rather than executes) scripts that lost their exec bit,
# and both would leak into it.
set -Eeo pipefail

psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --quiet --output /dev/null \
  --username "${POSTGRES_USER:-postgres}" \
  --dbname "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" \
  -v registration_role="${REGISTRATION_DB_ROLE:-registration_svc}" \
  -v registration_password="${REGISTRATION_DB_PASSWORD:?REGISTRATION_DB_PASSWORD must be set}" \
  -v deal_tracking_role="${DEAL_TRACKING_DB_ROLE:-deal_tracking_svc}" \
  -v deal_tracking_password="${DEAL_TRACKING_DB_PASSWORD:?DEAL_TRACKING_DB_PASSWORD must be set}" \
  -v notification_role="${NOTIFICATION_DB_ROLE:-notification_svc}" \
  -v notification_password="${NOTIFICATION_DB_PASSWORD:?NOTIFICATION_DB_PASSWORD must be set}" \
  -v console_role="${CONSOLE_DB_ROLE:-console_svc}" \
  -v console_password="${CONSOLE_DB_PASSWORD:?CONSOLE_DB_PASSWORD must be set}" \
  -f "${CITYDEALS_INIT_SQL:-/infra/postgres/init.sql}"
