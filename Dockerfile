# One slim image: migrations, then the server on $PORT (Railway sets PORT).
#
# Built FROM debian:bookworm-slim with Debian's own python3, so Railway (which pulls the real
# image) and CI (which has no image registry and makes a local image of the same name with
# debootstrap, see .ci/container-test) build the very same recipe.
#
# A base that carries its own certificate authority sets SSL_CERT_FILE; pip and uv then use it.
ARG BASE_IMAGE=debian:bookworm-slim

# ---- build: resolve the locked dependencies into /app/.venv ----------------------------------------
FROM ${BASE_IMAGE} AS build
ENV DEBIAN_FRONTEND=noninteractive PYTHONDONTWRITEBYTECODE=1 \
    UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON=/usr/bin/python3 UV_PYTHON_DOWNLOADS=never
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir --disable-pip-version-check ${SSL_CERT_FILE:+--cert "$SSL_CERT_FILE"} "uv==0.13.9"
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN /opt/uv/bin/uv sync --frozen --no-dev --no-install-project --no-cache
COPY main.py alembic.ini ./
COPY s7 ./s7
COPY migrations ./migrations
COPY catalog ./catalog
RUN /opt/uv/bin/uv sync --frozen --no-dev --no-cache \
    && rm -rf /app/*.egg-info /app/build

# ---- runtime: Debian's python3 and the venv, no pip, no uv, no compilers ----------------------------
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PATH="/app/.venv/bin:$PATH" NICEGUI_STORAGE_PATH=/app/.nicegui PORT=8080
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && useradd --create-home --uid 10001 sector7
WORKDIR /app
COPY --from=build /app /app
RUN mkdir -p /app/.nicegui /app/.s7 && chown sector7:sector7 /app/.nicegui /app/.s7
USER sector7

EXPOSE 8080
# Docker's own probe (Railway ignores it and probes /readyz per railway.json).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"8080\")}/readyz', timeout=4)"

# `s7 serve` runs the migrations (under an advisory lock, so replicas may start together) and then the server.
CMD ["s7", "serve"]
