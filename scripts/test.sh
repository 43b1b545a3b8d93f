#!/usr/bin/env bash
# Set up, lint, build the docs site (strict), then run the whole test suite: unit tests on tiny models, the HTTP API, the
# web page in headless Chromium, two-process training, and integration tests on
# ../shared/corpora with the bundled model (those skip, saying why, where the books are absent).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The browser test drives Debian's Chromium (never a browser download): install it where we can.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
    || echo "whowrote: could not install chromium; the browser test will be skipped and say so"
fi
export WHOWROTE_OFFLINE=1 HF_HUB_OFFLINE=1  # tests never reach a model hub or Gutenberg
.venv/bin/ruff check whowrote tests benchmarks
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet  # the docs site: a broken link fails here
set +e
.venv/bin/python -m pytest -q -p no:cacheprovider -rs "$@"
rc=$?
set -e
[ "$rc" -eq 5 ] && { echo "no tests were collected"; exit 1; }
exit "$rc"
