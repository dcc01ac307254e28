# FRAMES image. One image, many roles: the command picks the role
#   docker run frames run          bot + scheduler + panel in one process (default)
#   docker run frames bot          gateway shards only
#   docker run frames panel        web panel only
#   docker run frames scheduler    PM polling only
#   docker run frames db upgrade   Alembic migrations
# Targets: `frames` (default, last stage) and `mlflow` (the same venv plus the
# synchronous PostgreSQL driver MLflow's tracking server needs).
#
#   docker build -t frames .
#   docker build --target mlflow -t frames-mlflow .
#
# Needs BuildKit (the default builder since Docker 23) for the pip cache mounts.

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------
# builder: compile nothing at runtime; everything lands in /opt/venv
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv

WORKDIR /src

# torch comes from the PyTorch CPU index: the PyPI build of the same version
# pulls several GB of CUDA wheels we never use.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

# Third-party dependencies first, pinned by constraints.txt. This layer is
# rebuilt only when pyproject.toml or constraints.txt change, not on every
# source edit.
COPY pyproject.toml constraints.txt ./
RUN --mount=type=cache,target=/root/.cache/pip \
    python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --index-url "${TORCH_INDEX_URL}" --no-deps -c constraints.txt torch \
    && pip install --extra-index-url "${TORCH_INDEX_URL}" -c constraints.txt -r /tmp/requirements.txt

# Then the project itself, non-editable; dependencies are already in place.
# (pyproject.toml is named again so the README* wildcard may match nothing.)
COPY pyproject.toml README* ./
COPY bot ./bot
COPY cogs ./cogs
COPY core ./core
COPY ml ./ml
COPY web_panel ./web_panel
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --no-deps -c constraints.txt . \
    && pip check \
    && python -c "import torch, sys; sys.exit(0 if torch.version.cuda is None else 'torch is a CUDA build')"

# ---------------------------------------------------------------------------
# runtime: the venv, the migrations, a non-root user; no compilers
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# libgomp: OpenMP runtime used by XGBoost and scikit-learn.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 frames \
    && useradd --system --uid 10001 --gid frames --create-home --home-dir /home/frames \
        --shell /usr/sbin/nologin frames \
    && mkdir -p /data \
    && chown frames:frames /data

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    FRAMES_ALEMBIC_DIR=/app/alembic \
    FRAMES_DATA_DIR=/data \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    MPLCONFIGDIR=/tmp/matplotlib

COPY --from=builder /opt/venv /opt/venv
COPY alembic /app/alembic

WORKDIR /app
USER frames

# No HEALTHCHECK here: only the panel serves /healthz, so health checks are
# declared per service in docker-compose.yml.
ENTRYPOINT ["frames"]
CMD ["run"]

# ---------------------------------------------------------------------------
# mlflow: tracking server on PostgreSQL. MLflow's SQL store is synchronous
# SQLAlchemy, whose default driver for postgresql:// (SQLAlchemy 2.1) is psycopg 3.
# ---------------------------------------------------------------------------
FROM runtime AS mlflow

USER root
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install "psycopg[binary]==3.3.9" \
    && mkdir -p /mlartifacts \
    && chown frames:frames /mlartifacts
USER frames

ENTRYPOINT ["mlflow"]
CMD ["server", "--host", "0.0.0.0", "--port", "5000", "--artifacts-destination", "/mlartifacts"]

# ---------------------------------------------------------------------------
# frames: the default target (last stage) is the application image
# ---------------------------------------------------------------------------
FROM runtime AS frames
