#!/usr/bin/env bash
# GPU benchmarks at the paper's Pythia-160m shapes: capture throughput, the SAE step at d 768 / m 12,288 / k 128,
# the per-layer vs Ĝ suite step, and a ~5-minute slice of the PYTHIA_160M preset, each with its ratios.
#   benchmarks/gpu.sh                 # on a CUDA machine (the hub is used when it answers, else same-shape stand-ins)
#   benchmarks/gpu.sh --cpu-smoke     # every section on the CPU with tiny sizes: checks the script, measures nothing
# Other flags go to benchmarks/gpu.py (--slice-seconds, --skip-slice, --json FILE, --model, --corpus, --reps).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python}
if [ -x .venv/bin/python ] && [ "$PY" = python ]; then PY=.venv/bin/python; fi
smoke=0
for a in "$@"; do [ "$a" = "--cpu-smoke" ] && smoke=1; done
if [ "$smoke" = 0 ]; then
  if ! command -v nvidia-smi >/dev/null 2>&1 || ! "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "benchmarks/gpu.sh: no CUDA GPU on this machine (nvidia-smi missing or torch.cuda.is_available() is False): nothing to measure." >&2
    echo "  On a CPU: 'make bench' for the CPU benchmarks, or 'benchmarks/gpu.sh --cpu-smoke' to check this script with tiny sizes." >&2
    exit 1
  fi
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
fi
exec "$PY" benchmarks/gpu.py "$@"
