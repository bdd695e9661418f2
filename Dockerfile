# syntax=docker/dockerfile:1
# TuneOps: `docker build -t tuneops .` then
#   docker run -d --env-file .env -p 3000:3000 -v tuneops-data:/data tuneops
# Socket Mode (SLACK_APP_TOKEN set) needs no inbound port for Slack; /healthz and /metrics stay on 3000.

FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY scripts/docker-install.sh scripts/
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY handlers/ handlers/
COPY storage/ storage/
RUN sh scripts/docker-install.sh /src /opt/venv

FROM python:3.11-slim
LABEL org.opencontainers.image.title="TuneOps" \
      org.opencontainers.image.description="Start, watch, pause, resume and cancel fine-tuning jobs from Slack"
RUN groupadd --system --gid 10001 tuneops \
    && useradd --system --uid 10001 --gid tuneops --home-dir /data --no-create-home --shell /usr/sbin/nologin tuneops \
    && mkdir /data \
    && chown tuneops:tuneops /data
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TUNEOPS_DB=/data/tuneops.db \
    PORT=3000
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000
# No curl in the slim image: the probe is a few lines of the standard library (bot/app/health.py).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["python", "-m", "bot.app.health"]
ENTRYPOINT ["tuneops"]
CMD ["run"]
