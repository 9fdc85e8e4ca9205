#!/bin/sh
# `make loadtest`: seed a trust on PostgreSQL, serve it with gunicorn (4 workers) on
# loopback, drive the mixed workload in scripts/locustfile.py from a second process for
# a bounded time; then serve the plain reference (bench/plain.py) the same way and drive
# the same mix where it has the page, and print the two throughputs side by side; then
# stop the servers and drop the benchmark database.
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
PLAIN_PORT=$((PORT + 1))
PLAIN_PIDFILE=instance/loadtest-plain.pid

$FLASK bench seed --database postgresql --cases "$CASES"
url=$($FLASK bench url --database postgresql)

DATABASE_URL="$url" SESSION_COOKIE_SECURE=false LOG_LEVEL=WARNING \
	$BIN/gunicorn --workers 4 --bind "127.0.0.1:$PORT" --pid "$PIDFILE" --daemon 'app:create_app()'
stop() {
	for pidfile in "$PIDFILE" "$PLAIN_PIDFILE"; do
		if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
	done
	sleep 1
	$FLASK bench drop --database postgresql
}
trap stop EXIT

wait_for() {
	tries=0
	until $BIN/python -c "import urllib.request; urllib.request.urlopen('$1', timeout=1)" 2>/dev/null; do
		tries=$((tries + 1))
		if [ "$tries" -gt 100 ]; then echo "gunicorn did not start at $1" >&2; exit 1; fi
		sleep 0.2
	done
}
wait_for "http://127.0.0.1:$PORT/sign-in"

$BIN/locust -f scripts/locustfile.py --headless --users "$USERS" --spawn-rate 10 \
	--run-time "${SECONDS_TO_RUN}s" --host "http://127.0.0.1:$PORT" --only-summary CaseWorker
kill "$(cat "$PIDFILE")"

DATABASE_URL="$url" LOG_LEVEL=WARNING \
	$BIN/gunicorn --workers 4 --bind "127.0.0.1:$PLAIN_PORT" --pid "$PLAIN_PIDFILE" --daemon \
	'bench.plain:create_from_environment()'
wait_for "http://127.0.0.1:$PLAIN_PORT/cases/"
LOADTEST_RESULTS=loadtest-plain.json $BIN/locust -f scripts/locustfile.py --headless \
	--users "$USERS" --spawn-rate 10 --run-time "${SECONDS_TO_RUN}s" \
	--host "http://127.0.0.1:$PLAIN_PORT" --only-summary PlainReader

$BIN/python - <<'END'
import json
product = json.load(open("bench/results/loadtest.json"))
plain = json.load(open("bench/results/loadtest-plain.json"))
share = product["requests_per_second"] / max(plain["requests_per_second"], 1e-9)
print(
    f"Throughput: product {product['requests_per_second']} a second (p95 {product['p95_ms']} ms), "
    f"plain reference {plain['requests_per_second']} (p95 {plain['p95_ms']} ms): "
    f"{share:.2f} of the reference (issue 21's budget: at least 0.33)."
)
END
