#!/usr/bin/env bash
# Runs the register on this machine: migrations, demo data, the web server, a Celery
# worker and Celery beat on the file-system broker. Ctrl-C stops all of them.
set -euo pipefail
cd "$(dirname "$0")/.."

export DJANGO_SETTINGS_MODULE=signposting.settings.local
PORT="${PORT:-8000}"
BIN=.venv/bin

# The file-system broker and the shared file cache need their folders before anything starts.
VAR="${VAR_DIR:-var}"
mkdir -p "$VAR/broker/out" "$VAR/broker/processed" "$VAR/broker/control" "$VAR/cache"

"$BIN/python" manage.py migrate --noinput
"$BIN/python" manage.py seed_demo --children "${DEMO_CHILDREN:-200}"
# The dashboard's figures now, not at beat's first run five minutes from now.
"$BIN/python" manage.py dashboard_refresh

pids=()
stop_all() {
  trap - EXIT INT TERM
  echo "Stopping the web server, worker and beat..."
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop_all EXIT INT TERM

"$BIN/celery" -A signposting worker --loglevel=INFO --concurrency=2 --hostname="worker@%h" &
pids+=($!)
"$BIN/celery" -A signposting beat --loglevel=INFO &
pids+=($!)
"$BIN/python" manage.py runserver "127.0.0.1:${PORT}" &
pids+=($!)

sleep 3
cat <<MESSAGE

  The register is running at http://127.0.0.1:${PORT}/
  Sign in with any demo login above (password: signposting-demo-2026), then give the
  six-digit code that this prints (every demo login shares one published demo key):
      .venv/bin/python manage.py demo_code practitioner@demo.test
  A Celery worker and Celery beat are running on the file-system broker (var/broker).
  Press Ctrl-C to stop everything.

MESSAGE
# If any of the three stops, stop the others too.
wait -n
