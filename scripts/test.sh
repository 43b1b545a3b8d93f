#!/usr/bin/env bash
# Set up, then run the whole test suite (unit tests on tiny models, integration tests on
# ../shared/corpora with the bundled model; those skip cleanly where the books are absent).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export WHOWROTE_OFFLINE=1 HF_HUB_OFFLINE=1  # tests never reach a model hub or Gutenberg
set +e
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
[ "$rc" -eq 5 ] && { echo "no tests were collected"; exit 1; }
exit "$rc"
