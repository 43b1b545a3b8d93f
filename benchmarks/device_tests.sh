#!/usr/bin/env bash
# On a lent GPU machine: the unit and API tests (tiny models built from a config) with CUDA
# present, so training, judging, explanations and rolling attribution run on the GPU. Carry .gpu/site and .gpu/testwheels (benchmarks/prepare_device.sh, then
# `pip download` of the test-only packages the GPU image lacks: see the note in this file).
# The real-book and browser tests are left to CI: no books, no Chromium there; the server
# tests too: the image lacks fastapi, whose wheel needs opentelemetry besides.
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux2014_x86_64 -d .gpu/testwheels fastapi starlette uvicorn pydantic \
#     pydantic_core annotated-types typing-inspection captum   (versions: constraints.txt / pip list)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-device-out}"; mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/testsite .gpu/testwheels/*.whl || exit 1
export PYTHONPATH=$PWD:$PWD/.gpu/site:/tmp/testsite PYTHONUNBUFFERED=1 WHOWROTE_CACHE=/tmp/wc HF_HUB_OFFLINE=1 \
  WHOWROTE_OFFLINE=1 TOKENIZERS_PARALLELISM=false
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))" | tee "$OUT/pytest.txt"
timeout "${LIMIT:-420}" python3 -m pytest -q -p no:cacheprovider --durations=8 tests \
  --ignore=tests/test_browser.py --ignore=tests/test_real_books.py --ignore=tests/test_serve.py 2>&1 | tee -a "$OUT/pytest.txt"
