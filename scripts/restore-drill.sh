#!/usr/bin/env bash
# Restore drill (docs/operations.md): back up a database with pg_dump, restore the backup
# into a fresh database, run the migrations check and verify_audit on the restored copy,
# and compare row counts. Exits non-zero if any step fails or the audit chain is broken.
#
#   scripts/restore-drill.sh [SOURCE_DATABASE_URL]
#
# SOURCE_DATABASE_URL defaults to $DATABASE_URL. The restored copy is a new database on the
# same server named <source>_drill_<timestamp>; it is dropped at the end unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
source_url="${1:-${DATABASE_URL:?give the source database URL or set DATABASE_URL}}"
python="${PYTHON:-.venv/bin/python}"
base="${source_url%/*}"
source_db="${source_url##*/}"
drill_db="${source_db}_drill_$(date +%Y%m%d%H%M%S)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "1. Backup of ${source_db} (pg_dump, custom format)"
started=$(date +%s)
pg_dump --format=custom --no-owner --file="$work/backup.dump" "$source_url"
echo "   $(du -h "$work/backup.dump" | cut -f1) in $(( $(date +%s) - started )) s"

echo "2. Restore into a fresh database ${drill_db}"
started=$(date +%s)
psql "$base/postgres" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE \"${drill_db}\""
pg_restore --no-owner --exit-on-error --dbname="$base/$drill_db" "$work/backup.dump"
echo "   restored in $(( $(date +%s) - started )) s"

counts() {
  psql "$1" -At -v ON_ERROR_STOP=1 -c "SELECT
    (SELECT count(*) FROM registry_child) || ' children, ' ||
    (SELECT count(*) FROM audit_auditevent) || ' audit events, ' ||
    (SELECT count(*) FROM accounts_user) || ' users'"
}
echo "3. Row counts"
source_counts="$(counts "$source_url")"
drill_counts="$(counts "$base/$drill_db")"
echo "   source:   $source_counts"
echo "   restored: $drill_counts"

echo "4. Schema up to date and audit chain intact on the restored copy"
DATABASE_URL="$base/$drill_db" "$python" manage.py migrate --check --noinput
DATABASE_URL="$base/$drill_db" "$python" manage.py verify_audit

if [ "${KEEP:-0}" != "1" ]; then
  psql "$base/postgres" -qc "DROP DATABASE \"${drill_db}\""
  echo "5. Dropped ${drill_db}"
fi
if [ "$source_counts" != "$drill_counts" ]; then
  echo "Restore drill FAILED: row counts differ" >&2
  exit 1
fi
echo "Restore drill passed."
