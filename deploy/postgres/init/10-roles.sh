#!/bin/sh
# First start of the PostgreSQL container only (/docker-entrypoint-initdb.d): create the
# register's two roles (docs/audit.md, "Database roles").
#   signposting_owner  runs migrations and owns every table (compose's migrate service)
#   signposting_app    the web server, worker and beat; owns nothing, may only SELECT and
#                      INSERT on the audit trail's append-only tables
# The superuser (POSTGRES_USER) is for this script and administrators only. Passwords reach
# psql as variables (:'name' quotes them), never spliced into SQL by the shell.
set -eu

: "${POSTGRES_OWNER_PASSWORD:?set POSTGRES_OWNER_PASSWORD}"
: "${POSTGRES_APP_PASSWORD:?set POSTGRES_APP_PASSWORD}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner_password="$POSTGRES_OWNER_PASSWORD" -v app_password="$POSTGRES_APP_PASSWORD" \
    -v database="$POSTGRES_DB" <<'SQL'
CREATE ROLE signposting_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE signposting_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD :'app_password';
ALTER DATABASE :"database" OWNER TO signposting_owner;
ALTER SCHEMA public OWNER TO signposting_owner;
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"database" TO signposting_app;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO signposting_app;
-- Tables and sequences the owner creates are usable by the application. The migrate
-- service then runs `manage.py database_roles_grant`, which takes UPDATE, DELETE and
-- TRUNCATE off the append-only audit tables (audit/roles.py).
ALTER DEFAULT PRIVILEGES FOR ROLE signposting_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO signposting_app;
ALTER DEFAULT PRIVILEGES FOR ROLE signposting_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO signposting_app;
SQL
