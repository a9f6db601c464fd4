# syntax=docker/dockerfile:1
# driftwatch container image: Python venv + git + ssh client + kubectl (for Kustomize).
# Helm rendering needs no binary (helm-python-sdk ships libhelm_c in its wheel, for
# manylinux_2_28 x86_64 and aarch64: build for linux/amd64 or linux/arm64).
#
#   docker build -t registry.example.com/platform/driftwatch:0.1.0 .
#
# Push it where your cluster can pull from and set the chart's image.repository
# (docs/image.md).
#
# Bumping kubectl: set KUBECTL_VERSION and both checksums from
# https://dl.k8s.io/release/<version>/bin/linux/<arch>/kubectl.sha256

ARG PYTHON_VERSION=3.12
ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------- build: wheel -> venv
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/driftwatch \
 && /opt/driftwatch/bin/pip install --upgrade pip
# README.md* : pyproject names it as the readme; the build only warns if it is absent.
COPY pyproject.toml README.md* ./
COPY driftwatch ./driftwatch
RUN /opt/driftwatch/bin/pip wheel --no-deps --wheel-dir /wheels . \
 && /opt/driftwatch/bin/pip install /wheels/driftwatch-*.whl \
 && /opt/driftwatch/bin/driftwatch --version

# ---------------------------------------------------------------- kubectl, verified
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS kubectl
ARG TARGETARCH=amd64
ARG KUBECTL_VERSION=v1.36.1
ARG KUBECTL_SHA256_AMD64=629d3f410e09bf49b64ae7079f7f0bda1191efed311f7d37fdbab0ad5b0ec2b7
ARG KUBECTL_SHA256_ARM64=59f7ee8e477fae658447607dc3c8790ac17a1b016c01c622c12070e969e2d4e7
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
RUN set -eu; \
    case "${TARGETARCH}" in \
      amd64) sha256="${KUBECTL_SHA256_AMD64}" ;; \
      arm64) sha256="${KUBECTL_SHA256_ARM64}" ;; \
      *) echo "unsupported architecture: ${TARGETARCH}" >&2; exit 1 ;; \
    esac; \
    curl -fsSL --retry 3 -o /usr/local/bin/kubectl \
      "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl"; \
    echo "${sha256}  /usr/local/bin/kubectl" | sha256sum -c -; \
    chmod 0755 /usr/local/bin/kubectl

# ---------------------------------------------------------------- runtime
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE}
ARG KUBECTL_VERSION=v1.36.1
LABEL org.opencontainers.image.title="driftwatch" \
      org.opencontainers.image.description="Reports where Kubernetes clusters differ from what Git declares. Read-only." \
      org.opencontainers.image.source="https://github.com/driftwatch/driftwatch" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git openssh-client \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 driftwatch \
 && useradd --system --uid 65532 --gid 65532 --home-dir /home/driftwatch --create-home \
      --shell /usr/sbin/nologin driftwatch \
 && mkdir -p /etc/driftwatch /var/lib/driftwatch /var/cache/driftwatch \
 && chown 65532:65532 /var/lib/driftwatch /var/cache/driftwatch
COPY --from=kubectl /usr/local/bin/kubectl /usr/local/bin/kubectl
COPY --from=build /opt/driftwatch /opt/driftwatch
ENV PATH=/opt/driftwatch/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    KUBECTL_VERSION=${KUBECTL_VERSION}
USER 65532:65532
WORKDIR /home/driftwatch
EXPOSE 8080
ENTRYPOINT ["driftwatch"]
CMD ["serve", "--config", "/etc/driftwatch/config.yaml", "--listen", "0.0.0.0:8080", "--state-dir", "/var/lib/driftwatch", "--cache-dir", "/var/cache/driftwatch"]
