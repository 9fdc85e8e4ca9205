#!/bin/sh
# `make loadtest`: seed a trust on PostgreSQL, serve it with gunicorn (4 workers) on
# loopback, drive the mixed workload in scripts/locustfile.py from a second process for
# a bounded time, then stop the server and drop the benchmark database.
# Needs BENCH_DATABASE_URL (a PostgreSQL server) and the secrets in the environment.
set -eu
: "${BENCH_DATABASE_URL:?Set BENCH_DATABASE_URL to a PostgreSQL server, e.g. postgresql://postgres@127.0.0.1:5432/postgres}"
CASES=${LOADTEST_CASES:-100000}
USERS=${LOADTEST_USERS:-20}
SECONDS_TO_RUN=${LOADTEST_SECONDS:-60}
PORT=${LOADTEST_PORT:-8098}
BIN=.venv/bin
FLASK="$BIN/flask --app app"
PIDFILE=instance/loadtest-gunicorn.pid

$FLASK bench seed --database postgresql --cases "$CASES"
url=$($FLASK bench url --database postgresql)

DATABASE_URL="$url" SESSION_COOKIE_SECURE=false LOG_LEVEL=WARNING \
	$BIN/gunicorn --workers 4 --bind "127.0.0.1:$PORT" --pid "$PIDFILE" --daemon 'app:create_app()'
stop() {
	if [ -f "$PIDFILE" ]; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; fi
	sleep 1
	$FLASK bench drop --database postgresql
}
trap stop EXIT

tries=0
until $BIN/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/sign-in', timeout=1)" 2>/dev/null; do
	tries=$((tries + 1))
	if [ "$tries" -gt 100 ]; then echo "gunicorn did not start" >&2; exit 1; fi
	sleep 0.2
done

$BIN/locust -f scripts/locustfile.py --headless --users "$USERS" --spawn-rate 10 \
	--run-time "${SECONDS_TO_RUN}s" --host "http://127.0.0.1:$PORT" --only-summary
