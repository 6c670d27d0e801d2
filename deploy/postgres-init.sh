#!/bin/bash
# Runs once, when the postgres service starts on an empty volume (docker-entrypoint-initdb.d):
# Tollgate's database with a migrate role and an app role (deploy/postgres-roles.sql). An existing
# volume keeps what it has; run this by hand against it to add the roles.
set -euo pipefail
: "${TOLLGATE_MIGRATE_DB_PASSWORD:?}" "${TOLLGATE_APP_DB_PASSWORD:?}"
psql --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
	--set database=tollgate \
	--set migrate_role=tollgate_migrate --set migrate_password="$TOLLGATE_MIGRATE_DB_PASSWORD" \
	--set app_role=tollgate_app --set app_password="$TOLLGATE_APP_DB_PASSWORD" \
	--file /tollgate/postgres-roles.sql
