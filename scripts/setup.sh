#!/usr/bin/env bash
# Create .venv (if needed) with torch and whowrote installed; safe to run again.
# torch first, pinned, so the package's torch>=2.4 range is already met and pip never
# pulls a multi-GB CUDA build on a CPU machine. Another build: TORCH_SPEC="torch==X".
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/pip install --disable-pip-version-check -q "${TORCH_SPEC:-torch==2.13.0}"
fi
.venv/bin/pip install --disable-pip-version-check -q -c constraints.txt -e ".[test,lora,ray]"
