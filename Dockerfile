# syntax=docker/dockerfile:1
# The portal's one image. docker-compose.yml runs it as the web app (gunicorn), the Celery
# worker and beat, the one-shot migrate step, and the sandbox.

# --- build: a virtual environment with the locked dependencies -----------------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/venv/bin:$PATH
RUN python -m venv /venv
WORKDIR /src
# The runtime dependencies alone first, so that this layer is rebuilt only when pyproject.toml
# or the lock change, not on every change of the code (the dev extras stay out of the image).
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/runtime.txt \
 && pip install -c requirements.lock -r /tmp/runtime.txt
COPY . .
RUN pip install -c requirements.lock .

# --- runtime -----------------------------------------------------------------------------------
FROM python:3.11-slim
# PYTHONPATH=/app: the code runs from /app, where settings find templates/ and static/ beside
# the packages (the copy pip installed into the venv holds the packages only).
# STATICFILES_MANIFEST=1: static files are collected below, with hashed names for WhiteNoise.
ENV PATH=/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=iliveit_portal.settings \
    STATICFILES_MANIFEST=1 \
    PORTAL_VAR_DIR=/app/var \
    MEDIA_ROOT=/app/media \
    GUNICORN_WORKER_TMP_DIR=/dev/shm
RUN groupadd --system --gid 10001 portal \
 && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home portal
COPY --from=build /venv /venv
WORKDIR /app
# The code stays owned by root: the app user can read it, not change it.
COPY . .
# Collected at build time, so every container of this image serves the same files. The settings
# refuse to load without a secret key and hosts; these placeholders exist only for this step.
RUN SECRET_KEY=collectstatic-at-build-time-only-not-a-real-key-0123456789abcdef \
    ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
    python manage.py collectstatic --no-input --verbosity 0 \
 && rm -f /tmp/collectstatic.sqlite3 \
 && mkdir -p /app/var /app/media \
 && chown portal:portal /app/var /app/media
USER portal:portal
EXPOSE 8000
CMD ["gunicorn", "--config", "gunicorn.conf.py", "iliveit_portal.wsgi"]
