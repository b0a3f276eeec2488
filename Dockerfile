# syntax=docker/dockerfile:1
# Build stage: compile wheels for the project and its dependencies.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY app ./app
COPY models ./models
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Runtime stage: only the wheels, the migrations and an unprivileged user.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PLANCHER_DATABASE_URL=sqlite:////data/plancher.db
# WeasyPrint renders invoice PDFs with Pango and HarfBuzz; DejaVu is the font it embeds.
RUN apt-get update && apt-get install -y --no-install-recommends \
    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /srv/plancher plancher \
    && mkdir -p /data /srv/plancher && chown plancher /data
WORKDIR /srv/plancher
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY alembic.ini ./
COPY migrations ./migrations
ENV PLANCHER_PROJECT_ROOT=/srv/plancher
USER plancher
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
# The same image runs the API (default) or a worker: `docker run … plancher worker`.
# Docker sends SIGTERM to PID 1 (plancher itself: exec form), which drains and exits.
CMD ["plancher", "serve", "--host", "0.0.0.0", "--port", "8000"]
