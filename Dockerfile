# syntax=docker/dockerfile:1
#
# The manager image: a static binary on distroless, running as a non-root user.
#
#   make docker-build IMG=ghcr.io/whatsapp-commerce-operator/manager:v0.1.0
#   docker buildx build --platform linux/amd64,linux/arm64 -t <image> --push .
#
# The build command is the one CI runs for the release binary:
#   CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o manager .
# keep the two in step.

# The builder runs on the build machine's platform and cross-compiles for the
# target platform, so multi-arch builds need no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH

WORKDIR /workspace

# Download the modules first, in a layer of their own that only go.mod and go.sum
# invalidate; the cache mounts keep modules and build results between builds.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go mod download

# The sources (.dockerignore keeps out tests, manifests and build output).
COPY . .

RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w" -o manager .

# distroless/static: no shell, no package manager, CA certificates for the WhatsApp
# API, and the nonroot user (65532).
FROM gcr.io/distroless/static:nonroot
LABEL org.opencontainers.image.source="https://github.com/whatsapp-commerce-operator/whatsapp-commerce-operator" \
      org.opencontainers.image.description="Turns WhatsApp Business orders and product inquiries into Kubernetes resources" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /
COPY --from=builder /workspace/manager /manager
# Numeric, so that the kubelet can verify runAsNonRoot.
USER 65532:65532

ENTRYPOINT ["/manager"]
