#!/usr/bin/env bash
# On a lent GPU machine (after benchmarks/prepare_device.sh here, carrying .gpu): the README's
# main command (the default `authors` preset: training, unseen-work evaluation and the validity
# probes) on the GPU, with the bundled MiniLM; then judge speed on its model.
# PAPER=1 also trains the `paper` settings (MiniLM in bert-base-uncased's place: no hub there);
# COMPARE=1 also runs the README's comparison table. Results go to $OUT (or ./device-out).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-device-out}"; mkdir -p "$OUT"
export PYTHONPATH=$PWD:$PWD/.gpu/site PYTHONUNBUFFERED=1 WHOWROTE_CACHE=/tmp/wc HF_HUB_OFFLINE=1 WHOWROTE_OFFLINE=1 TOKENIZERS_PARALLELISM=false
M=.gpu/minilm; D=.gpu/corpora
steps() {  # median seconds per training step, first and last training loss
  python3 -c "
import json, statistics; rows = [json.loads(l) for l in open('/tmp/runs/$1/metrics.jsonl')]
t = [r for r in rows if r['kind'] == 'train']
print('$1: median s/step', statistics.median(r['seconds'] for r in t[2:]), 'first/last loss', t[0]['loss'], t[-1]['loss'])"
}
{
python3 -c "import torch, transformers; print('versions', torch.__version__, transformers.__version__, torch.cuda.get_device_name(0))"
echo "== the main command: default preset"
start=$(date +%s)
python3 -m whowrote train --model $M --data-dir $D --output-dir /tmp/runs --name authors --quiet
echo "main command, whole process: $(( $(date +%s) - start )) s"
cp /tmp/runs/authors/report.json "$OUT/authors_report.json"; cp /tmp/runs/authors/validity.json "$OUT/authors_validity.json"
steps authors
echo "== judge speed"
python3 benchmarks/judge_speed.py /tmp/runs/authors --n 512 --data-dir $D
if [ "${PAPER:-0}" = 1 ]; then
  echo "== paper preset, MiniLM in bert-base-uncased's place"
  python3 -m whowrote train --preset paper --model $M --data-dir $D --output-dir /tmp/runs --name paper --quiet
  cp /tmp/runs/paper/report.json "$OUT/paper_report.json"
  steps paper
fi
if [ "${COMPARE:-0}" = 1 ]; then
  echo "== compare"
  python3 -m whowrote compare --preset authors --model $M --data-dir $D --protocol both --lengths 16 32 64 128 256 \
    --folds 5 --seeds 1 --bert-steps 150 --ensemble --out "$OUT/compare" --quiet
fi
} 2>&1 | tee "$OUT/log.txt"
