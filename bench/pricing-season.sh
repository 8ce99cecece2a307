#!/bin/bash
# The dynamic pricing season (bench/pricing-season.c): five policies over the
# same synthetic buyers, fixed seeds. Fails if a policy sells above capacity
# (exit 1) or a target is missed (exit 2). docs/PERFORMANCE.md records a run.
# Usage: bench/pricing-season.sh [--seed N]
set -eu
cd "$(dirname "$0")/.."
make --no-print-directory build/bench/pricing-season >/dev/null
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
time timeout 300 build/bench/pricing-season "$@"
