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

FROM ${SDK_IMAGE} AS sdk-publish
# Native AOT links with clang and needs zlib's headers.
RUN apt-get update && apt-get install -y --no-install-recommends clang zlib1g-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN dotnet publish src/ConfigInjector -c Release -r linux-x64 --self-contained -p:InvariantGlobalization=true -o /app

# The binary published on the build host (artifacts/publish), for builds that cannot pull the SDK image.
FROM scratch AS host-publish
COPY artifacts/publish/ /app/

FROM ${PUBLISH_STAGE} AS publish

FROM ${RUNTIME_BASE}
COPY --from=publish /app/ /app/
ENV DOTNET_EnableDiagnostics=0
USER 65532:65532
WORKDIR /app
EXPOSE 8443
ENTRYPOINT ["/app/configinjector"]
CMD ["serve", "--urls", "https://[::]:8443"]
