#!/usr/bin/env bash
# Soak: SOAK_SECONDS (600 by default) of mixed load at 256 connections against Tuilerie, with errors,
# RSS growth and open descriptors reported and appended to docs/benchmarks.md (bench/soak.py).
set -euo pipefail
exec python3 "$(dirname "$0")/soak.py" "$@"
