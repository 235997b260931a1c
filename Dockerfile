# ConfigInjector's image: `configinjector serve` on a minimal base, as a numeric non-root user, no shell, working on
# a read-only root filesystem (only /tmp, an emptyDir in the chart, is written to).
#
# Where registries are reachable:   podman build -t configinjector/configinjector:0.2.0 .
# Where they are not (this project's build machines), .ci/image-smoke.sh publishes the binary on the host, assembles
# a base from the host's Debian libraries and builds with:
#   --build-arg PUBLISH_STAGE=host-publish --build-arg RUNTIME_BASE=localhost/configinjector-base:debian12
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_BASE=mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled
ARG PUBLISH_STAGE=sdk-publish
# The image's OCI labels: VERSION is the chart's appVersion, REVISION the commit (git rev-parse HEAD), SOURCE where
# the source lives; .ci/image-smoke.sh passes the commit it builds.
ARG VERSION=0.2.0
ARG REVISION=unknown
ARG SOURCE=https://configinjector.io
ARG LICENSES=NOASSERTION

FROM ${SDK_IMAGE} AS sdk-publish
# Native AOT links with clang and needs zlib's headers.
RUN apt-get update && apt-get install -y --no-install-recommends clang zlib1g-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ARG REVISION
ARG VERSION
# The build context has no .git: the commit comes in as SourceRevisionId. The CycloneDX SBOM lists the NuGet packages
# compiled into the binary (the tool is pinned in .config/dotnet-tools.json).
RUN dotnet publish src/ConfigInjector -c Release -r linux-x64 --self-contained -p:InvariantGlobalization=true -p:SourceRevisionId=${REVISION} -o /app \
 && dotnet tool restore \
 && dotnet tool run dotnet-CycloneDX src/ConfigInjector/ConfigInjector.csproj -dpr -ed -tfm net10.0 -F Json -sn configinjector -sv ${VERSION} \
      -o /app -fn configinjector.cdx.json

# The binary published on the build host (artifacts/publish), for builds that cannot pull the SDK image.
FROM scratch AS host-publish
COPY artifacts/publish/ /app/

FROM ${PUBLISH_STAGE} AS publish

FROM ${RUNTIME_BASE}
ARG VERSION
ARG REVISION
ARG SOURCE
ARG LICENSES
LABEL org.opencontainers.image.title="configinjector" \
      org.opencontainers.image.description="Kubernetes mutating admission webhook: secrets from vaults into pods, under SecretPolicies" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="${LICENSES}"
COPY --from=publish /app/ /app/
ENV DOTNET_EnableDiagnostics=0
USER 65532:65532
WORKDIR /app
EXPOSE 8443
ENTRYPOINT ["/app/configinjector"]
CMD ["serve", "--urls", "https://[::]:8443"]
