#!/usr/bin/env bash
# Soak (not in CI): configinjector serve, published as the image publishes it (Native AOT), takes
# SOAK_RATE admissions/s (default 1000) for SOAK_SECONDS (default 600); every 10 s it prints p50/p99 (from the
# scheduled send time) and the server's RSS. It fails if any admission failed or the server logged an error.
#   bash bench/soak.sh            SOAK_SECONDS=60 bash bench/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SOAK_SECONDS:-600}
rate=${SOAK_RATE:-1000}
port=${SOAK_PORT:-9743}
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

dotnet publish src/ConfigInjector -c Release -r linux-x64 --self-contained -o "$work/app" -v quiet -nologo >/dev/null
dotnet build -c Release bench/ConfigInjector.Bench -v quiet -nologo >/dev/null
cp -r examples "$work/"
(cd "$work" && exec ./app/configinjector serve --urls "https://127.0.0.1:$port" >"$work/server.log" 2>&1) &
server=$!
for _ in $(seq 1 100); do
  grep -q "warmed up" "$work/server.log" 2>/dev/null && break
  sleep 0.1
done
sleep 1
pid=$(pgrep -f "app/configinjector serve --urls https://127.0.0.1:$port" | head -1)
echo "soak: ${rate} admissions/s for ${seconds} s against pid $pid"
bench/ConfigInjector.Bench/bin/Release/net10.0/ConfigInjector.Bench --load "$port" "$work/webhook-certs/dev/ca.crt" "$seconds" "$rate" "$pid"
if grep -E "^(fail|crit|error):" "$work/server.log"; then
  echo "soak: the server logged errors" >&2
  exit 1
fi
echo "soak: $(grep -c '"decision":"allowed"' "$work/server.log") admissions audited as allowed, no error logged"
