# syntax=docker/dockerfile:1
# The Reports API mock as a service container (CI `services:`, docker-compose, a sandbox).
#   podman build -t reports-mock .          (or: docker build -t reports-mock .)
#   podman run --rm -p 127.0.0.1:8080:8080 -e MOCKSERVER_TIME_SCALE=100 reports-mock
# Configuration is only through MOCKSERVER_* environment variables (see README, "Running it
# as a service"). `make container-test` (scripts/container_test.py) builds this file with
# podman and drives the running image; tests/mockserver/test_serve_command.py runs its CMD and
# HEALTHCHECK with these ENV values on the test machine itself.
#
# BASE_IMAGE is any Debian-like image with Python 3.11 or none at all: python:3.11-slim by
# default, or a bare Debian bookworm (`debootstrap --variant=minbase` + `podman import`, what
# `make container-test` builds where no registry is reachable), which gets bookworm's python3
# (3.11) from apt. The project is installed into a virtualenv, /opt/venv, on either base.
# Behind a TLS-intercepting proxy, give pip your CA bundle for the build only (not kept in the
# image): `--secret id=ca-certificates,src=/etc/ssl/certs/ca-certificates.crt`.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS python
RUN python3 -m venv /opt/venv 2>/dev/null \
    || { apt-get update \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv \
         && apt-get clean && rm -rf /var/lib/apt/lists/* \
         && python3 -m venv --clear /opt/venv; }
ENV PATH=/opt/venv/bin:$PATH

FROM python AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY mockserver ./mockserver
COPY schemas ./schemas
COPY contract_tests ./contract_tests
COPY clients_under_test ./clients_under_test
RUN --mount=type=secret,id=ca-certificates \
    if [ -f /run/secrets/ca-certificates ]; then export PIP_CERT=/run/secrets/ca-certificates; fi \
    && pip wheel --no-cache-dir --disable-pip-version-check --no-deps --wheel-dir /wheels .

FROM python
# The dependencies first, in a layer keyed by pyproject.toml alone: a change to the code builds
# and installs only the project's own wheel again, without downloading the rest.
COPY pyproject.toml /tmp/pyproject.toml
RUN --mount=type=secret,id=ca-certificates \
    if [ -f /run/secrets/ca-certificates ]; then export PIP_CERT=/run/secrets/ca-certificates; fi \
    && python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies']))" >/tmp/requirements.txt \
    && pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements.txt \
    && rm /tmp/pyproject.toml /tmp/requirements.txt
# COPY, not RUN --mount=type=bind,from=build: podman's builder (buildah 1.28 in bookworm; see
# containers/buildah#4522) reuses such a RUN layer from its cache after the stage it mounts
# changed, and installed the previous build's wheel. The wheel is the project's alone (~1 MB).
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --disable-pip-version-check --no-index /wheels/*.whl \
    && rm -rf /wheels \
    && pip check \
    && useradd --system --uid 10001 --create-home --home-dir /data mock
USER 10001
WORKDIR /data
ENV MOCKSERVER_HOST=0.0.0.0 \
    MOCKSERVER_PORT=8080 \
    MOCKSERVER_WORKERS=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['MOCKSERVER_PORT'], timeout=2)"]
CMD ["mockserver", "serve"]
