# One slim image: migrations, then the server on $PORT (Railway sets PORT).
#
# Built FROM debian:bookworm-slim with Debian's own python3, so Railway (which pulls the real
# image) and CI (which has no image registry and makes a local image of the same name with
# debootstrap, see .ci/container-test) build the very same recipe.
#
# A base that carries its own certificate authority sets SSL_CERT_FILE; pip and uv then use it.
ARG BASE_IMAGE=debian:bookworm-slim

# ---- build: the locked dependencies in /app/.venv (only they: a code change reuses this stage) ------
FROM ${BASE_IMAGE} AS build
ENV DEBIAN_FRONTEND=noninteractive PYTHONDONTWRITEBYTECODE=1 \
    UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON=/usr/bin/python3 UV_PYTHON_DOWNLOADS=never
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir --disable-pip-version-check ${SSL_CERT_FILE:+--cert "$SSL_CERT_FILE"} "uv==0.13.9"
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN /opt/uv/bin/uv sync --frozen --no-dev --no-install-project --no-cache

# ---- runtime: Debian's python3 and the venv, no pip, no uv, no compilers ----------------------------
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PATH="/app/.venv/bin:$PATH" PYTHONPATH=/app NICEGUI_STORAGE_PATH=/app/.nicegui PORT=8080
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && printf '#!/app/.venv/bin/python\nfrom s7.cli import main\n\nmain()\n' > /usr/local/bin/s7 \
    && chmod 755 /usr/local/bin/s7 \
    && useradd --create-home --uid 10001 sector7 \
    && mkdir -p /app/.nicegui /app/.s7 && chown sector7:sector7 /app/.nicegui /app/.s7
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
# The code goes last and runs from /app (PYTHONPATH): `s7` is the same entry point as pyproject's.
COPY pyproject.toml main.py alembic.ini ./
COPY migrations ./migrations
COPY catalog ./catalog
COPY s7 ./s7
USER sector7

EXPOSE 8080
# Docker's own probe (Railway ignores it and probes /readyz per railway.json).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"8080\")}/readyz', timeout=4)"

# `s7 serve` runs the migrations (under an advisory lock, so replicas may start together) and then the server.
CMD ["s7", "serve"]
