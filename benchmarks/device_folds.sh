#!/usr/bin/env bash
# On a lent GPU machine (after benchmarks/prepare_device.sh here; carry .gpu/minilm, .gpu/site,
# .gpu/corpora.txz): the `authors` preset cross-validated over its five author folds, trained
# side by side on the one GPU, each fold scored on the authors it never saw and probed
# (whowrote validate); fold 0 also with seeds 1 and 2 (seeds agree) and without the scrambled
# and stuffed negatives (VARIANT_OFF, the A/B); and fold 0 with 3, 6, 12 and 24 of its 38
# training authors (COUNTS: the background-count curve). Every run's report.json and validity.json come
# back in $OUT/folds.tgz; read them with `python benchmarks/author_folds.py DIR`.
#   FOLDS="0 1 2 3 4" ARGS="--scramble 0.25 --stuff 0.25" bash benchmarks/device_folds.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-device-out}"; mkdir -p "$OUT"
mkdir -p /tmp/corpora && tar xJf .gpu/corpora.txz -C /tmp
export PYTHONPATH=$PWD:$PWD/.gpu/site PYTHONUNBUFFERED=1 WHOWROTE_CACHE=/tmp/wc HF_HUB_OFFLINE=1 WHOWROTE_OFFLINE=1 \
  TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS=2
M=.gpu/minilm; D=/tmp/corpora; R=/tmp/runs
FOLDS="${FOLDS:-0 1 2 3 4}"; ARGS="${ARGS:-}"; OFF="${VARIANT_OFF:---scramble 0 --stuff 0}"
train() {  # name, then flags; no validity probes (run after, so fold 0 can count its seeds).
  # KEEP=N trains "neither" on N of the fold's training authors, evenly spread over the years.
  python3 - "$@" <<'PY'
import dataclasses, os, sys
import numpy as np
from whowrote.commands.train import config_from_args
from whowrote.cli import build_parser
from whowrote.text.background import BACKGROUND_BOOKS
from whowrote.text.books import ebook_id
from whowrote.pipeline import train
name, flags = sys.argv[1], sys.argv[2:]
config = config_from_args(build_parser().parse_args(["train", *flags]))
if os.environ.get("KEEP"):
    bg = sorted(config.sources["neither"], key=lambda b: BACKGROUND_BOOKS[ebook_id(b)][1])
    keep = [bg[i] for i in np.unique(np.linspace(0, len(bg) - 1, int(os.environ["KEEP"])).round().astype(int))]
    config = dataclasses.replace(config, sources={**config.sources, "neither": keep})
train(config, name=name, progress=False, validity=False)
PY
}
{
python3 -c "import torch, transformers; print('versions', torch.__version__, transformers.__version__, torch.cuda.get_device_name(0))"
start=$(date +%s)
common="--model $M --data-dir $D"
for f in $FOLDS; do train "fold$f" $common --output-dir $R --author-fold "$f" $ARGS > "$OUT/fold$f.log" 2>&1 & done
for k in 1 2; do train "seed$k" $common --output-dir $R/seeds0 --seed "$k" $ARGS > "$OUT/seed$k.log" 2>&1 & done
train "off0" $common --output-dir $R $ARGS $OFF > "$OUT/off0.log" 2>&1 &
for n in ${COUNTS:-3 6 12 24}; do KEEP=$n train "count$n" $common --output-dir $R/counts $ARGS > "$OUT/count$n.log" 2>&1 & done
wait
echo "trained and evaluated: $(( $(date +%s) - start )) s"
mkdir -p $R/fold0/seeds && mv $R/seeds0/seed* $R/fold0/seeds/  # where `validate --seeds 3` looks for them
(cd $R && tar czf "$OUT/trained.tgz" */report.json */config.json */metrics.jsonl fold0/seeds/*/report.json counts/*/report.json 2>/dev/null)
for r in $R/fold* $R/off0; do
  seeds=1; [ "$(basename "$r")" = fold0 ] && seeds=3
  python3 -m whowrote validate "$r" --seeds "$seeds" --quiet > "$OUT/validate-$(basename "$r").log" 2>&1 &
done
wait
echo "validated: $(( $(date +%s) - start )) s"
(cd $R && tar czf "$OUT/folds.tgz" --exclude='model' --exclude='checkpoint*' --exclude='*.safetensors' --exclude='*.pt' \
  --exclude='*.bin' --exclude='*.svg' */report.json */validity.json */config.json */metrics.jsonl */plots/*.png */model_card.md \
  fold0/seeds/*/report.json counts/*/report.json counts/*/config.json 2>/dev/null)
tail -n 3 "$OUT"/*.log
} 2>&1 | tee "$OUT/log.txt"
