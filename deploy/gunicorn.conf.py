"""gunicorn's settings for the tracker: `gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'`.

Read by gunicorn from the checkout (systemd/tracker.service runs it). Every value can be
changed by the environment gunicorn is started with, as noted.
"""

import os

# Behind nginx on the same host (nginx/tracker.conf): loopback only.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: each request holds one database connection for its length. Two per CPU
# core and one more is gunicorn's own advice; sessions and throttling live in the
# database, so workers (and hosts) share them.
workers = int(os.environ.get("GUNICORN_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
# A case page or an export that takes longer than this is a fault to look into.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# Recycle workers now and then (a leak in a library then never grows without bound).
max_requests = 2000
max_requests_jitter = 200
# Load the app before forking, so a configuration error stops the service at start.
preload_app = True

# The app trusts X-Forwarded-For/-Proto/-Host from TRUSTED_PROXY_COUNT proxies itself
# (werkzeug's ProxyFix); gunicorn's own handling is left to the same single proxy.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Logs to standard error and out, for the journal. The access line holds the path
# without its query string (%(U)s, never %(r)s), the status, the size, the time taken
# and the request id the app answered with; no client address (personal data, and
# the app's own log has the request id to join on).
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = "%(t)s %(m)s %(U)s %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s"

# LOG_FORMAT=json (the app's own setting, in the same environment): gunicorn's lines are
# JSON objects too, like the app's, on standard output. An access line then holds the
# route's rule and the user id the app left for it, and the request id it answered with.
if os.environ.get("LOG_FORMAT", "text").strip().lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "tracker.logs.GunicornJsonFormatter"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
        # gunicorn's defaults name handlers of its own for the root logger: replaced too.
        "root": {"handlers": ["stdout"], "level": "INFO"},
        "loggers": {
            "gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        },
    }
