# syntax=docker/dockerfile:1
# The Reports API mock as a service container (CI `services:`, docker-compose, a sandbox).
#   docker build -t reports-mock .
#   docker run --rm -p 8080:8080 -e MOCKSERVER_TIME_SCALE=100 reports-mock
# Configuration is only through MOCKSERVER_* environment variables (see README, "Running it
# as a service"). tests/mockserver/test_serve_command.py runs this file's CMD and HEALTHCHECK
# with these ENV values, since the test machines have no Docker engine.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY mockserver ./mockserver
COPY schemas ./schemas
COPY contract_tests ./contract_tests
COPY clients_under_test ./clients_under_test
RUN pip wheel --no-cache-dir --disable-pip-version-check --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --disable-pip-version-check /wheels/*.whl \
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
