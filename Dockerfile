# votestore: one image for the validator, the gateway and the verifier (`votestore ...`).
# Build: docker build -t votestore:0.2.0 .
# Pin the base by digest too where your registry mirror allows (python:3.11.13-slim-bookworm@sha256:...).
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# --- build: install the package and its dependencies into a virtualenv ---------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/votestore
RUN python -m venv "$VIRTUAL_ENV"
ENV PATH="$VIRTUAL_ENV/bin:$PATH"
WORKDIR /src
# The exact locked set first (hashes required), then the package itself without resolving
# anything: every site that builds one commit runs the same code.
COPY requirements/runtime.lock ./requirements/
RUN pip install --no-compile --require-hashes --no-deps -r requirements/runtime.lock
# Only what the package is built from (.dockerignore keeps everything else out of the context).
COPY pyproject.toml README.md ./
COPY proto ./proto
COPY votestore ./votestore
COPY election ./election
COPY node ./node
COPY gateway ./gateway
COPY tools ./tools
COPY ops ./ops
# grpcio, plyvel, PyNaCl and rbcl come as manylinux wheels with their C libraries inside, so
# no compiler is needed (libdecaf is loaded at run time, from the runtime stage's package). Bytecode is compiled here: the root filesystem is read-only at run time.
RUN pip install --no-compile --no-deps --no-build-isolation . \
    && python -m compileall -q "$VIRTUAL_ENV"

# --- runtime: the virtualenv, libdecaf and a non-root user, nothing else ---------------------
FROM ${PYTHON_IMAGE} AS runtime
# The source commit (docker build --build-arg VCS_REF=$(git rev-parse --short=12 HEAD)): shown by
# `votestore --version`, GetStatus, first log lines and votestore_build_info.
ARG VCS_REF=unknown
LABEL org.opencontainers.image.title="votestore" \
      org.opencontainers.image.version="0.2.0" \
      org.opencontainers.image.revision="${VCS_REF}" \
      org.opencontainers.image.source="votestore"
ENV VOTESTORE_COMMIT=${VCS_REF}
ENV VIRTUAL_ENV=/opt/votestore \
    PATH="/opt/votestore/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# libdecaf0: the ristretto255 library votestore/crypto/decaf.py loads (tables, fast additions).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libdecaf0 \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 votestore \
    && useradd --system --uid 10001 --gid votestore --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin votestore \
    && install -d -o votestore -g votestore -m 0700 /var/lib/votestore
COPY --from=build /opt/votestore /opt/votestore
USER 10001:10001
WORKDIR /var/lib/votestore
# 7000 validator gRPC, 9100 validator metrics, 7100 gateway gRPC, 9101 gateway metrics,
# 9108 verifier metrics (deploy/k8s).
EXPOSE 7000 7100 9100 9101 9108
ENTRYPOINT ["votestore"]
CMD ["--help"]
