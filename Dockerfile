# One slim image: migrations, then the server on $PORT (Railway sets PORT).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy \
    PATH="/app/.venv/bin:$PATH" NICEGUI_STORAGE_PATH=/app/.nicegui

WORKDIR /app
RUN pip install --no-cache-dir "uv==0.13.9"
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-install-project --no-dev
COPY . .
RUN uv sync --frozen --no-dev \
    && useradd --create-home --uid 10001 sector7 \
    && mkdir -p /app/.nicegui /app/.s7 && chown -R sector7:sector7 /app/.nicegui /app/.s7
USER sector7

ENV PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"8080\")}/healthz', timeout=4)"

# `s7 serve` runs the migrations (under an advisory lock, so replicas may start together) and then the server.
CMD ["s7", "serve"]
