# slamon worker image: `docker build -t slamon .` (add --build-arg WITH_ROCKSDB=true
# for RocksDB table state through rocksdict; then set SLAMON_TABLE_STORE=rocksdb://).
# Runs `slamon run` as an unprivileged user; worker state lives on the volume
# /var/lib/slamon/state; /metrics, /healthz and /readyz on SLAMON_METRICS_PORT (9108).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/slamon
COPY pyproject.toml README.md ./
COPY monitor ./monitor
RUN /opt/slamon/bin/pip install --no-cache-dir .
ARG WITH_ROCKSDB=false
RUN if [ "$WITH_ROCKSDB" = "true" ]; then \
      /opt/slamon/bin/pip install --no-cache-dir "rocksdict==0.3.29"; \
    fi

FROM python:3.11-slim AS runtime
LABEL org.opencontainers.image.title="slamon" \
      org.opencontainers.image.description="Streaming SLA breach monitor" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 slamon \
    && useradd --system --uid 10001 --gid slamon --home-dir /var/lib/slamon \
       --shell /usr/sbin/nologin slamon \
    && mkdir -p /var/lib/slamon/state \
    && chown -R slamon:slamon /var/lib/slamon
COPY --from=build /opt/slamon /opt/slamon
COPY rules /etc/slamon/rules
ENV PATH=/opt/slamon/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SLAMON_RULES_DIR=/etc/slamon/rules \
    SLAMON_STATE_DIR=/var/lib/slamon/state \
    SLAMON_METRICS_PORT=9108 \
    SLAMON_LOG_FORMAT=json
USER 10001:10001
WORKDIR /var/lib/slamon
VOLUME ["/var/lib/slamon/state"]
EXPOSE 9108
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SLAMON_METRICS_PORT', '9108'), timeout=2)"]
ENTRYPOINT ["slamon"]
CMD ["run"]
