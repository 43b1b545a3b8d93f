"""The judge's second reader: a character n-gram model beside BERT, mixed window by window.

Why. Character n-grams are the classic stylometric evidence (spelling habits, affixes,
punctuation), and they fail differently from a fine-tuned encoder: a mistyped word splits
into odd word pieces for BERT but spoils only a few n-grams. Measured on the README run
`authors-bg16` and its two other seeds (`whowrote evaluate` and `validate`, BERT alone ->
with the partner; the held-out works' test half, each author's own threshold): unseen
authors flagged at 128 tokens 0.631 / 0.662 / 0.604 -> 0.709 / 0.676 / 0.640, unseen-work
accuracy 0.715 / 0.737 / 0.699 -> 0.769 / 0.744 / 0.723, seeds agree 0.792 -> 0.867, 5%
typos change 7.2 / 5.7 / 5.3% -> 4.9 / 4.2 / 6.4% of labels, ECE 0.031-0.041; Poe's own
unseen passages flagged 0.067 / 0.033 / 0.033 -> 0.067 / 0.053 / 0.047. The char model
alone is the weaker reader (unseen accuracy over every label 0.78-0.80 against BERT's
0.82-0.86), a partner, not a replacement: its fitted weight is 0.40 on all three runs.

What it reads. Each window as the tokenizer decodes its token ids (lower-case, word pieces
joined, [MASK] for a masked name): exactly the text BERT is given, wherever a window is
scored (evaluate, judge, rolling, the server), with no second path from raw text to keep in
step. The model: TF-IDF of word-bounded character 2-5-grams and a class-balanced logistic
regression, `compare`'s `char` baseline (`compare/baselines.py`), fitted on up to
`partner_windows` disjoint training windows per label.

How they mix. Each reader gets its own temperature, then the weighted mean of their
log-probabilities (a weighted geometric mean of the two opinions) is the window's score z,
which the run's `temperature` then calibrates as it would BERT's logits:
    z = (1 - w) log_softmax(bert_logits / T_bert) + w log_softmax(char_logits / T_char)
T_bert, T_char and w (a 0.05 grid) minimise NLL on the calibration windows (the held-out
works' calibration half, else the in-book validation blocks), as `compare --ensemble` picks
its weight. `whowrote evaluate` fits all of it, so an older run gains a partner by
being evaluated again.

Rare words. `common_words` N > 0 (`--partner-common-words`, off by default) makes the char
model read each word of 3+ letters outside the N most frequent English words as "*"
(Stamatatos 2017's DV-MA), against the vocabulary cue it carries more than BERT. Tried on
the README run's three seeds (README, What was tried): N = 10,000 shrank the pull of
hand-picked topic words by a quarter but flagged fewer unseen authors and lowered the
seeds' agreement 0.867 -> 0.830; N = 20,000 was worse on both and on typos.

On disk, in the model folder: `partner.safetensors` (`idf` [F], `coef` [C, F], `intercept`
[C], float32; C = 1 for two labels) and `partner_vocabulary.json` (the F n-grams in column
order); the mixing settings in `whowrote.json`'s `partner` (docs/FORMAT.md).

    python -c "from whowrote.model.partner import CharPartner; print(CharPartner.load('runs/X/model'))"
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import WhowroteError
from ..files import atomic_write
from .metrics import fit_temperature, log_softmax, mix_weight

WEIGHTS_FILE, VOCABULARY_FILE = "partner.safetensors", "partner_vocabulary.json"


def window_texts(tokenizer, windows) -> list[str]:
    """The text the char model reads for each window of content token ids ([CLS]/[SEP] not
    included): the tokenizer's decoding, special tokens (the name mask) kept."""
    return tokenizer.batch_decode([list(map(int, w)) for w in windows], skip_special_tokens=False,
                                  clean_up_tokenization_spaces=False)


_LOWER_WORD = re.compile(r"[a-z]+")


def mask_rare_words(texts: list[str], common: int) -> list[str]:
    """Each lower-case word outside the `common` most frequent English words becomes "*"
    (Stamatatos 2017's DV-MA text distortion), so what the char model reads is how the
    author writes with everyday words, not which rare words he uses; 0: texts as they are."""
    if not common:
        return list(texts)
    from ..text.spelling import common_words

    keep = common_words(common)
    # words of one or two letters stay: "a", "i", and the pieces of "it's", "don't", "we'll"
    return [_LOWER_WORD.sub(lambda m: m.group() if len(m.group()) < 3 or m.group() in keep else "*", t) for t in texts]


@dataclass
class CharPartner:
    vocabulary: list[str]
    idf: np.ndarray  # [F]
    coef: np.ndarray  # [C, F]; C = 1 for two labels (the logistic form)
    intercept: np.ndarray  # [C]
    # how the two readers mix; fitted by `fit_mix` (1, 1, 0.5 until then)
    bert_temperature: float = 1.0
    temperature: float = 1.0
    weight: float = 0.5  # the char model's share of z
    common_words: int = 0  # reads only the N most frequent English words, rarer ones as "*" (0: every word)
    # the background label's column, whose score is BERT's alone: the char model reads no word
    # order, so it must not vote a bag of an author's words out of "neither" (None: mixed too)
    neither_column: int | None = None
    _vectorizer: object = field(default=None, repr=False, compare=False)

    @classmethod
    def fit(cls, texts: list[str], y: np.ndarray, seed: int = 0, common_words: int = 0) -> "CharPartner":
        from .ngrams import CharNgrams

        if len(np.unique(y)) < 2:
            raise WhowroteError("the char partner needs training windows of two labels or more")
        pipeline = CharNgrams(seed=seed).fit(mask_rare_words(texts, common_words), np.asarray(y)).model
        vectorizer, lr = pipeline[0], pipeline[-1]
        vocabulary = [None] * len(vectorizer.vocabulary_)
        for gram, column in vectorizer.vocabulary_.items():
            vocabulary[column] = gram
        return cls(vocabulary, vectorizer.idf_.astype(np.float32), lr.coef_.astype(np.float32),
                   lr.intercept_.astype(np.float32), common_words=common_words)

    @property
    def vectorizer(self):
        """A TF-IDF vectorizer with the stored vocabulary and idf (the fitted one's settings)."""
        if self._vectorizer is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            from .ngrams import CharNgrams

            settings = {k: v for k, v in CharNgrams.vectorizer_args.items() if k != "max_features"}
            v = TfidfVectorizer(sublinear_tf=True, lowercase=True, vocabulary=self.vocabulary, **settings)
            v.idf_ = self.idf.astype(np.float64)
            self._vectorizer = v
        return self._vectorizer

    def logits(self, texts: list[str]) -> np.ndarray:
        """The logistic regression's logits [n, labels] (log-probabilities up to a constant)."""
        d = (np.asarray(self.vectorizer.transform(mask_rare_words(texts, self.common_words)) @ self.coef.T.astype(np.float64))
             + self.intercept)
        return np.concatenate([np.zeros_like(d), d], axis=1) if d.shape[1] == 1 else d

    def window_logits(self, tokenizer, windows) -> np.ndarray:
        """`logits` of windows of content token ids, read as `window_texts` decodes them."""
        return self.logits(window_texts(tokenizer, windows))

    def mix(self, bert_logits: np.ndarray, char_logits: np.ndarray) -> np.ndarray:
        """z, the window scores the run's temperature calibrates."""
        bert = log_softmax(bert_logits, self.bert_temperature)
        z = (1 - self.weight) * bert + self.weight * log_softmax(char_logits, self.temperature)
        if self.neither_column is not None:
            z[:, self.neither_column] = bert[:, self.neither_column]
        return z

    def fit_mix(self, bert_logits: np.ndarray, char_logits: np.ndarray, y: np.ndarray) -> "CharPartner":
        """Each reader's temperature, then the weight, by NLL on calibration windows (of the
        mix as `mix` computes it, BERT's own "neither" column included)."""
        self.bert_temperature = fit_temperature(bert_logits, y)
        self.temperature = fit_temperature(char_logits, y)
        bert, char = log_softmax(bert_logits, self.bert_temperature), log_softmax(char_logits, self.temperature)
        if self.neither_column is not None:
            char = char.copy()
            char[:, self.neither_column] = bert[:, self.neither_column]
        self.weight = round(1 - mix_weight(bert, char, y), 2)
        return self

    def settings(self) -> dict:
        """What whowrote.json's `partner` holds."""
        return {"kind": "char-ngrams", "weights": WEIGHTS_FILE, "vocabulary": VOCABULARY_FILE,
                "bert_temperature": self.bert_temperature, "temperature": self.temperature, "weight": self.weight,
                "common_words": self.common_words, "neither_column": self.neither_column}

    def save(self, folder: str | Path) -> dict:
        """Write the two files into the model folder; returns `settings()` for whowrote.json."""
        from safetensors.numpy import save_file

        folder = Path(folder)
        atomic_write(folder / VOCABULARY_FILE, json.dumps(self.vocabulary, ensure_ascii=False))
        tmp = folder / (WEIGHTS_FILE + ".tmp")
        # C order: safetensors writes an array's buffer as it lies, and lbfgs leaves coef_ in Fortran order
        arrays = {"idf": self.idf, "coef": self.coef, "intercept": self.intercept}
        save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}, str(tmp),
                  metadata={"format": "whowrote.partner/1"})
        tmp.replace(folder / WEIGHTS_FILE)
        return self.settings()

    @classmethod
    def load(cls, folder: str | Path, settings: dict | None) -> "CharPartner | None":
        """The partner whowrote.json's `settings` describes, or None (absent: BERT alone)."""
        if not settings:
            return None
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        folder = Path(folder)
        if settings.get("kind") != "char-ngrams":
            raise WhowroteError(f"{folder}: unknown partner kind {settings.get('kind')!r}; a newer whowrote wrote it")
        try:
            arrays = load_file(str(folder / settings["weights"]))
            vocabulary = json.loads((folder / settings["vocabulary"]).read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, SafetensorError) as exc:
            raise WhowroteError(f"{folder}: the char partner's files are missing or damaged ({exc}); "
                                f"refit them with: whowrote evaluate RUN") from None
        return cls(vocabulary, arrays["idf"], arrays["coef"], arrays["intercept"], float(settings["bert_temperature"]),
                   float(settings["temperature"]), float(settings["weight"]), int(settings.get("common_words", 0)),
                   settings.get("neither_column"))
