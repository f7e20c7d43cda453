# syntax=docker/dockerfile:1
#
# The production image of the signposting register. One image runs every process: the web
# server (the default command), the Celery worker and the Celery beat scheduler (the
# command is overridden for those; see docker-compose.yml). Configuration comes only from
# the environment at run time (signposting/settings/base.py); nothing secret is baked in.

# --- Stage 1: govuk-frontend from the npm registry ----------------------------------------
FROM node:20-bookworm-slim AS frontend
WORKDIR /build
COPY package.json package-lock.json ./
# npm ci installs exactly what package-lock.json pins. govuk-frontend has no install
# scripts, so none are run.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- Stage 2: the Python runtime dependencies, in a virtualenv ----------------------------
FROM python:3.11-slim-bookworm AS python-deps
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY pyproject.toml /tmp/pyproject.toml
# Installs [project].dependencies only: the [dev] extras (pytest, Playwright, mypy...) never
# enter the image. The list is read from pyproject.toml instead of running `pip install .`
# so that this layer is rebuilt only when the dependencies change, not on every code
# change; the code itself runs from /app (PYTHONPATH) and is not installed as a package.
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && /opt/venv/bin/pip install --requirement /tmp/requirements.txt

# --- Stage 3: the runtime image ----------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=signposting.settings.production

# A fixed, unprivileged user. The code and the collected static files stay owned by root,
# so the running processes cannot change them.
RUN groupadd --system --gid 10001 signposting \
    && useradd --system --uid 10001 --gid signposting --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin signposting

WORKDIR /app
COPY --from=python-deps /opt/venv /opt/venv
# Only the built distribution of govuk-frontend is needed: settings.STATICFILES_DIRS points
# at node_modules/govuk-frontend/dist/govuk.
COPY --from=frontend /build/node_modules/govuk-frontend/dist /app/node_modules/govuk-frontend/dist
COPY . /app

# Collect and fingerprint the static files into /app/staticfiles (STATIC_ROOT) at build
# time; whitenoise serves them with the manifest at run time. The production settings
# refuse to load without a SECRET_KEY of at least 50 characters: this dummy key exists only
# so that collectstatic can run. It is set for this one command (not with ENV), so it is
# not kept in the image's configuration, and it never signs anything: every container is
# given its real SECRET_KEY from the environment at run time.
RUN SECRET_KEY="build-time-dummy-key-only-for-collectstatic-never-used-at-run-time-0000" \
    python manage.py collectstatic --noinput --verbosity 1

# Uploaded files (bulk uploads, GRO feed files) and the feed inbox live under /data, a
# volume shared by the web server, which stores uploads, and the worker, which reads them.
RUN mkdir -p /data/media /data/feeds/inbox && chown -R signposting:signposting /data
ENV VAR_DIR=/data

USER signposting:signposting
EXPOSE 8000

# --forwarded-allow-ips='*' (written --forwarded-allow-ips=* below: the exec form runs no
# shell, so quotes would reach gunicorn literally) makes gunicorn trust X-Forwarded-Proto,
# and so report the https scheme, from any peer address: the load balancer's address is
# not known in advance and is never gunicorn's default of 127.0.0.1. That is safe only
# because the container's port is reachable from the TLS-terminating load balancer (or
# compose's private network) alone, never directly from the internet; narrow it to the
# balancer's addresses where they are known. Django itself reads the same header through
# SECURE_PROXY_SSL_HEADER. Gunicorn does not take REMOTE_ADDR from X-Forwarded-For: it
# stays the address of the connecting peer (the balancer).
# No --access-logfile: an access log records every URL with its query string, and the logs
# must never carry personal data. Searches are POSTed today; leaving the access log off
# means no later view can leak search terms into the logs by accident.
# The --limit-request-* options bound the request line and headers; gunicorn has no body
# limit, so bodies are bounded from Content-Length by signposting.middleware (and should be
# at the load balancer too: docs/architecture.md, "Request size").
CMD ["gunicorn", "signposting.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--forwarded-allow-ips=*", \
     "--limit-request-line=4094", "--limit-request-fields=50", "--limit-request-field_size=8190"]
