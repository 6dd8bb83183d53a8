# syntax=docker/dockerfile:1
# Build stage: compile wheels from the hashed lock; nothing from here but the venv reaches the image.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --require-hashes -r requirements.lock
COPY manage.py ./
COPY posture ./posture
COPY findings ./findings
COPY accounts ./accounts
COPY templates ./templates
COPY static ./static
RUN DEBUG=0 SECRET_KEY=collectstatic-only RAMPART_DATA_DIR=/src/.data \
    /opt/venv/bin/python manage.py collectstatic --noinput -v0
# Bytecode built once here: the code is read-only at run time, so without it every worker
# and every manage.py command would compile the project again (about 0.1 s each).
RUN /opt/venv/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash manage.py posture findings accounts

# Runtime stage: slim, non-root, read-only root filesystem friendly.
FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    RAMPART_DATA_DIR=/var/lib/rampart
RUN groupadd --system --gid 10001 rampart \
    && useradd --system --uid 10001 --gid rampart --home-dir /app --shell /usr/sbin/nologin rampart \
    && mkdir -p /var/lib/rampart && chown rampart:rampart /var/lib/rampart
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# Code is owned by root and read-only to the app user.
COPY --from=build --chown=root:root /src/manage.py /app/
COPY --from=build --chown=root:root /src/posture /app/posture
COPY --from=build --chown=root:root /src/findings /app/findings
COPY --from=build --chown=root:root /src/accounts /app/accounts
COPY --from=build --chown=root:root /src/templates /app/templates
COPY --from=build --chown=root:root /src/static /app/static
COPY --from=build --chown=root:root /src/.data/staticfiles /app/staticfiles
ENV STATIC_ROOT=/app/staticfiles
USER 10001:10001
EXPOSE 8000
VOLUME ["/var/lib/rampart"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
CMD ["gunicorn", "posture.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-", "--forwarded-allow-ips", "*"]
