#!/usr/bin/env bash
# Builds the image and smoke-tests it on a machine with no container registry: Debian's podman and runc, a base
# assembled from the host's own Debian libraries, the binary published on the host. The publish holds no symbols or
# XML docs; the container runs read-only with no --user, so the image's own USER (65532) is what it runs as, and must
# answer /healthz and an AdmissionReview over TLS. Prints "image size: N MiB" on success.
# Fails loudly (exit 1, with every reason found) when a check fails or podman cannot run, never skips.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tag=${IMAGE_TAG:-localhost/configinjector/configinjector:smoke}
base=localhost/configinjector-base:debian12
work=$(mktemp -d)
container=configinjector-smoke-$$
trap 'podman rm -f "$container" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
# A failed check is reported and the others still run; the script fails at the end with all of them.
problems=0
problem() { echo "image-smoke: $*" >&2; problems=$((problems + 1)); }

if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
  echo "image-smoke: podman and runc are needed (apt-get install podman runc); not skipping" >&2
  exit 1
fi
printf '[containers]\ndefault_ulimits = []\n' > "$work/containers.conf"
export CONTAINERS_CONF="$work/containers.conf"
podman() { command podman --runtime runc "$@"; }

echo "image-smoke: publishing on the host"
# Its own bin/obj (--artifacts-path): a test run may be building the same projects at the same time.
rm -rf artifacts/publish
dotnet publish src/ConfigInjector -c Release -r linux-x64 --self-contained -p:InvariantGlobalization=true \
  --artifacts-path "$work/build" -o artifacts/publish -v quiet -nologo >/dev/null

# A publish for a runtime is Native AOT (src/ConfigInjector/ConfigInjector.csproj): one native binary, no runtime.
if [ -e artifacts/publish/configinjector.dll ] || ! file artifacts/publish/configinjector | grep -q ELF; then
  echo "image-smoke: artifacts/publish is not a native AOT publish" >&2; exit 1
fi
echo "image-smoke: native AOT binary $(( $(stat -c %s artifacts/publish/configinjector) / 1024 / 1024 )) MiB"
# `configinjector version` of the binary itself: the version and commit the image's labels and SBOM carry.
version=$(artifacts/publish/configinjector version | awk '$1 == "version" {print $2}')
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
built=$(artifacts/publish/configinjector version | awk '$1 == "commit" {c = $2} $1 == "compilation" {$1 = ""; a = substr($0, 2)} END {print c " " a}')
if [ "$built" = "$revision Native AOT" ]; then
  echo "image-smoke: configinjector version $version, commit $revision, Native AOT"
else
  problem "configinjector version says '$built', expected '$revision Native AOT'"
fi
# The CycloneDX SBOM of what is compiled into the binary, next to it in the image (the restore above made the assets file).
dotnet tool restore -v quiet >/dev/null
dotnet tool run dotnet-CycloneDX src/ConfigInjector/ConfigInjector.csproj -dpr -ed -tfm net10.0 -F Json -sn configinjector -sv "$version" \
  -o artifacts/publish -fn configinjector.cdx.json >/dev/null
# The image gets the binary alone: symbols (configinjector.dbg, *.pdb) and XML docs stay in the build output.
extras=$(find artifacts/publish -type f \( -name '*.dbg' -o -name '*.pdb' -o -name '*.xml' \) -printf ' %f')
if [ -n "$extras" ]; then
  problem "symbols or XML docs in the publish (they would ship in the image):$extras"
else
  echo "image-smoke: no symbols or XML docs in the publish"
fi

echo "image-smoke: assembling the base from the host's libraries"
rootfs="$work/rootfs"
mkdir -p "$rootfs/etc/ssl/certs" "$rootfs/tmp" "$rootfs/app"
chmod 1777 "$rootfs/tmp"
libs=$( { for f in artifacts/publish/configinjector artifacts/publish/*.so; do ldd "$f" 2>/dev/null || true; done
          ldconfig -p | awk '/libssl\.so\.3 |libcrypto\.so\.3 / && /x86-64/ {print "=> " $NF}'; } \
        | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i}' | sort -u)
for lib in $libs; do
  [ -e "$lib" ] || continue
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
mkdir -p "$rootfs/lib64" && cp -L /lib64/ld-linux-x86-64.so.2 "$rootfs/lib64/"
cp -L /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/" 2>/dev/null || true
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$rootfs/etc/group"
tar -C "$rootfs" -cf "$work/base.tar" .
podman import -q "$work/base.tar" "$base" >/dev/null

echo "image-smoke: building $tag"
podman build -q --build-arg PUBLISH_STAGE=host-publish --build-arg RUNTIME_BASE="$base" \
  --build-arg VERSION="$version" --build-arg REVISION="$revision" -t "$tag" . >/dev/null

labels=$(podman image inspect "$tag" --format '{{range $k, $v := .Config.Labels}}{{$k}}={{$v}}{{"\n"}}{{end}}')
for label in "org.opencontainers.image.version=$version" "org.opencontainers.image.revision=$revision" \
    org.opencontainers.image.source= org.opencontainers.image.licenses=; do
  echo "$labels" | grep -q "^$label" || problem "the image has no label $label…"
done
echo "image-smoke: OCI labels: $(echo "$labels" | grep '^org.opencontainers' | tr '\n' ' ')"

image_user=$(podman image inspect "$tag" --format '{{.Config.User}}')
if [ "$image_user" = "65532:65532" ]; then
  echo "image-smoke: the image's user is 65532:65532"
else
  problem "the image's user is '$image_user', not 65532:65532 (the Dockerfile's USER)"
fi

echo "image-smoke: running it read-only with the image's own user"
artifacts/publish/configinjector certs generate --service localhost --namespace smoke --out "$work/tls" >/dev/null 2>&1
chmod 0644 "$work/tls/tls.key"   # readable by the container's user; the folder is private to this run
port=$(( 20000 + RANDOM % 20000 ))
podman run -d --name "$container" --read-only --network host --tmpfs /tmp \
  --cap-drop ALL --security-opt no-new-privileges \
  -v "$work/tls:/tls:ro" -v "$root/examples:/work/examples:ro" -w /work "$tag" \
  serve --urls "https://127.0.0.1:$port" --tls-cert /tls/tls.crt --tls-key /tls/tls.key --log-format json >/dev/null

ready=""
for _ in $(seq 1 60); do
  if curl -fsS --cacert "$work/tls/ca.crt" "https://localhost:$port/healthz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "image-smoke: /healthz never answered; container log:" >&2
  podman logs "$container" >&2 || true
  exit 1
fi
podman cp "$container:/app/configinjector.cdx.json" "$work/sbom.json"
python3 - "$work/sbom.json" "$version" <<'SBOM' || problem "the image's SBOM is not a CycloneDX BOM of configinjector $version with its packages"
import json, sys
bom = json.load(open(sys.argv[1]))
assert bom["bomFormat"] == "CycloneDX", bom.get("bomFormat")
assert bom["metadata"]["component"]["name"] == "configinjector" and bom["metadata"]["component"]["version"] == sys.argv[2], bom["metadata"]
names = {c["name"] for c in bom["components"]}
assert {"KubernetesClient.Aot", "YamlDotNet", "prometheus-net"} <= names, names
print(f"image-smoke: SBOM /app/configinjector.cdx.json: CycloneDX {bom['specVersion']}, {len(names)} components")
SBOM
user=$(podman top "$container" user | tail -1 | tr -d ' ')
if [ "$user" = "65532" ] || [ "$user" = "nonroot" ]; then
  echo "image-smoke: the container runs as 65532 ($user)"
else
  problem "the container runs as $user, not 65532"
fi
review=$(curl -fsS --cacert "$work/tls/ca.crt" "https://localhost:$port/mutate-pods" -H 'Content-Type: application/json' -d @examples/admission-review.json)
echo "$review" | python3 -c '
import json, sys, base64
r = json.load(sys.stdin)["response"]
assert r["allowed"] is True, r
patch = json.loads(base64.b64decode(r["patch"]))
assert any(op["path"].endswith("configinjector.io~1injected") for op in patch), patch
print("image-smoke: admission answered with", len(patch), "patch operations")'
if podman logs "$container" 2>&1 | grep -q "dev-only"; then
  echo "image-smoke: a secret value reached the container log" >&2; exit 1
fi
size=$(podman image inspect "$tag" --format '{{.Size}}')
echo "image size: $(( size / 1024 / 1024 )) MiB"
if [ "$problems" -gt 0 ]; then
  echo "image-smoke: $problems check(s) failed" >&2
  exit 1
fi
