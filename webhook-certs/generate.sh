#!/usr/bin/env bash
# Serving certificate for the webhook's Service, and the caBundle for its MutatingWebhookConfiguration.
#   webhook-certs/generate.sh SERVICE NAMESPACE [OUT_DIR] [--force]
# Writes ca.crt, ca.key, tls.crt, tls.key (keys owner-only) to OUT_DIR (default webhook-certs/<NAMESPACE>/, git-ignored)
# and prints the base64 caBundle on stdout. Load the pair into the cluster with, for example:
#   kubectl -n NAMESPACE create secret tls SERVICE-tls --cert OUT_DIR/tls.crt --key OUT_DIR/tls.key
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 SERVICE NAMESPACE [OUT_DIR] [--force]" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
service="$1"; namespace="$2"; shift 2
out="$here/$namespace"
if [ $# -gt 0 ] && [ "$1" != "--force" ]; then out="$1"; shift; fi
exec dotnet run --project "$here/../src/ConfigInjector" -- certs generate --service "$service" --namespace "$namespace" --out "$out" "$@"
