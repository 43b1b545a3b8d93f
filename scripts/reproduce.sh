#!/usr/bin/env bash
# Set up, then run the main job on this machine: train the default `authors` preset (Carroll,
# Poe or neither; bundled MiniLM), score it on works and authors it never saw, run the
# validity probes, write plots and the model card.
# Books come from $WHOWROTE_DATA, else ../shared/corpora, else Project Gutenberg.
# Extra arguments go to `whowrote train` (e.g. --preset paper on a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
DATA="${WHOWROTE_DATA:-../shared/corpora}"
ARGS=()
[ -d "$DATA" ] && ARGS+=(--data-dir "$DATA")
.venv/bin/whowrote train "${ARGS[@]}" "$@"
