# syntax=docker/dockerfile:1
#
# The manager image: a static binary, CA certificates and a non-root user; no shell,
# no package manager.
#
#   make image                     buildah, no Docker daemon, offline (hack/image.sh)
#   make docker-build IMG=<image>  the same file with Docker
#   docker buildx build --platform linux/amd64,linux/arm64 -t <image> --push .
#
# This file is the only recipe: `make image` builds it too, with base images it
# makes itself from the build machine (BUILDER_IMAGE: its Go toolchain; BASE_IMAGE:
# CA certificates and the nonroot user, as in distroless/static:nonroot).
ARG BUILDER_IMAGE=golang:1.26
ARG BASE_IMAGE=gcr.io/distroless/static:nonroot

# The builder runs on the build machine's platform and cross-compiles for the
# target platform, so multi-arch builds need no emulation.
FROM --platform=$BUILDPLATFORM ${BUILDER_IMAGE} AS builder
ARG TARGETOS
ARG TARGETARCH
# Your module proxy, if not the default one (`make image` points it at the build
# machine's module cache).
ARG GOPROXY
ENV CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH}

WORKDIR /workspace

# Download the modules first, in a layer of their own that only go.mod and go.sum
# invalidate; the cache mounts keep modules and build results between builds.
# Every RUN is in exec form, so that the builder needs no shell.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    ["go", "mod", "download"]

# The sources (.dockerignore keeps out tests, manifests and build output).
COPY . .

RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    ["go", "build", "-trimpath", "-ldflags=-s -w", "-o", "manager", "."]

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.source="https://github.com/whatsapp-commerce-operator/whatsapp-commerce-operator" \
      org.opencontainers.image.description="Turns WhatsApp Business orders and product inquiries into Kubernetes resources" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /
COPY --from=builder /workspace/manager /manager
# Numeric, so that the kubelet can verify runAsNonRoot.
USER 65532:65532

ENTRYPOINT ["/manager"]
