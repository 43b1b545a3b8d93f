#!/usr/bin/env bash
# Set up, then reproduce the study on this machine: train the `cpu` preset (Looking-Glass
# vs Poe, bundled MiniLM), evaluate on held-out blocks, write plots and the model card.
# Books come from $WHOWROTE_DATA, else ../shared/corpora, else Project Gutenberg.
# Extra arguments go to `whowrote train` (e.g. --preset paper on a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
DATA="${WHOWROTE_DATA:-../shared/corpora}"
ARGS=()
[ -d "$DATA" ] && ARGS+=(--data-dir "$DATA")
.venv/bin/whowrote train "${ARGS[@]}" "$@"
