#!/usr/bin/env bash
# A longer fuzz run than the suite's: FUZZ_SECONDS per target (default 600), FUZZ_SEED to replay a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_SECONDS="${FUZZ_SECONDS:-600}"
dotnet test tests/ConfigInjector.Tests --filter "FullyQualifiedName~AdmissionFuzzTests" --logger "console;verbosity=normal"
