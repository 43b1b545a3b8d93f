"""What each id of a WordPiece vocabulary is: a piece of letters that starts a word, a "##"
piece that continues the word before it, or neither (digits, punctuation, special tokens).

One table per tokenizer, read by everything that works on words in token ids: the
augmenters that mistype words (`Typos`) or slip words in before them (`WordSprinkle`), and
the judge's count of English words (`judge/english.py`), so they agree on what a word is.

    python -c "from whowrote.data.pieces import word_pieces; from whowrote.model.bert import load_tokenizer as t; \\
      w = word_pieces(t('bundled')); print(w.starts_word.sum(), w.continues.sum())"
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


class WordPieces:
    def __init__(self, tokenizer):
        self.pieces: list[str] = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
        special = set(tokenizer.all_special_ids)
        # a word of letters begins here ("queen", "qu"); special tokens never do, whatever they spell
        self.starts_word = np.array([i not in special and p.isalpha() for i, p in enumerate(self.pieces)])
        # any "##" piece: what comes before it does not end there
        self.continues = np.array([p.startswith("##") for p in self.pieces])
        # a piece of a word's letters, or the mask a name became: what prose is mostly made of
        mask = getattr(tokenizer, "mask_token", None)
        self.letters = np.array([p.removeprefix("##").isalpha() or p == mask for p in self.pieces])
        self.length = np.array([len(p) for p in self.pieces])

    def __len__(self) -> int:
        return len(self.pieces)

    def ends_here(self, ids: np.ndarray) -> np.ndarray:
        """For each position of `ids`, whether no "##" piece follows it (the word ends there)."""
        return ~np.append(self.continues[ids[1:]], False)


@lru_cache(maxsize=4)
def word_pieces(tokenizer) -> WordPieces:
    """The table of `tokenizer`'s vocabulary, built once (a BERT vocabulary: ~0.1 s)."""
    return WordPieces(tokenizer)
