# syntax=docker/dockerfile:1
# previewd's container image: one static x86_64 musl binary on distroless, run as a non-root user.
#
#   docker build -t previewd:0.1.0 --build-arg VERSION=0.1.0 .
#
# The builder stage runs scripts/build-static.sh, the script scripts/test.sh runs before
# tests/e2e/container_image.rs checks the binary it prints and starts it with the arguments and
# environment `helm template` gives this image's container. The final stage adds nothing but
# that binary and the default templates.

ARG RUST_VERSION=1.95.0
ARG GO_VERSION=1.26

FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
# The script installs musl-tools and the musl target when they are missing.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    bin="$(scripts/build-static.sh)" && install -D -m 0755 "$bin" /out/previewd

# helm, for charts a repository defines its previews with (docs/preview-helm.md): the version
# pinned in cluster/helm, the one the tests render with, built static.
FROM docker.io/library/golang:${GO_VERSION}-bookworm AS helm
WORKDIR /src
COPY cluster/helm/ ./
RUN --mount=type=cache,target=/root/go/pkg/mod \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/helm helm.sh/helm/v4/cmd/helm

# kustomize, for overlays a repository defines its previews with (docs/preview-kustomize.md):
# the version pinned in cluster/kustomize, built static.
FROM docker.io/library/golang:${GO_VERSION}-bookworm AS kustomize
WORKDIR /src
COPY cluster/kustomize/ ./
RUN --mount=type=cache,target=/root/go/pkg/mod \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/kustomize sigs.k8s.io/kustomize/kustomize/v5

# Distroless static: CA certificates (for the GitHub API), /etc/passwd with `nonroot`
# (65532), no shell and no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="previewd" \
      org.opencontainers.image.description="A live preview environment on Kubernetes for every GitHub pull request" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/previewd /usr/local/bin/previewd
COPY --from=helm /out/helm /usr/local/bin/helm
COPY --from=kustomize /out/kustomize /usr/local/bin/kustomize
# The default templates, for `docker run`; the Helm chart mounts its own over them.
COPY templates/ /etc/previewd/templates/
ENV PREVIEWD_TEMPLATES_DIR=/etc/previewd/templates
ENV PREVIEWD_HELM=/usr/local/bin/helm
ENV PREVIEWD_KUSTOMIZE=/usr/local/bin/kustomize
# The chart's securityContext runs as 65532:65532 with a read-only root filesystem: previewd
# writes only to its scratch volume (PREVIEWD_SCRATCH_DIR, an emptyDir in the chart), where each
# render of a repository's chart gets a directory that is removed when it ends.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/previewd"]
CMD ["serve"]
