#!/usr/bin/env bash
# On a lent GPU machine (after benchmarks/prepare_device.sh here, carrying .gpu): the `paper`
# settings with MiniLM standing in for bert-base-uncased (no hub there), then judge speed.
# COMPARE=1 also runs the README's comparison table. Results go to $OUT (or ./device-out).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-device-out}"; mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 WHOWROTE_CACHE=/tmp/wc HF_HUB_OFFLINE=1 WHOWROTE_OFFLINE=1 TOKENIZERS_PARALLELISM=false
M=.gpu/minilm; D=.gpu/corpora
{
python3 -c "import torch, transformers; print('versions', torch.__version__, transformers.__version__, torch.cuda.get_device_name(0))"
echo "== paper preset, MiniLM in bert-base-uncased's place"
python3 -m whowrote train --preset paper --model $M --data-dir $D --output-dir /tmp/runs --name paper --quiet
cp /tmp/runs/paper/report.json "$OUT/paper_report.json"
cp /tmp/runs/paper/plots/training_k3_shrink.png "$OUT/paper_training.png"
python3 -c "
import json, statistics; rows = [json.loads(l) for l in open('/tmp/runs/paper/metrics.jsonl')]
t = [r for r in rows if r['kind'] == 'train']
print('paper: median s/step', statistics.median(r['seconds'] for r in t[2:]), 'first/last loss', t[0]['loss'], t[-1]['loss'])"
echo "== judge speed"
python3 benchmarks/judge_speed.py /tmp/runs/paper --n 512 --data-dir $D
if [ "${COMPARE:-0}" = 1 ]; then
  echo "== compare"
  python3 -m whowrote compare --preset authors --model $M --data-dir $D --protocol both --lengths 16 32 64 128 256 \
    --folds 5 --seeds 1 --bert-steps 150 --ensemble --out "$OUT/compare" --quiet
fi
} 2>&1 | tee "$OUT/log.txt"
