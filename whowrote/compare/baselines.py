"""Classical stylometry baselines on scikit-learn, with one interface: fit(texts, y),
scores(texts) -> log-scores [n, n_labels] (what `compare` calibrates, as it does BERT's
logits), predict_proba(texts) = softmax(scores).

- CharNgrams: TF-IDF of word-bounded character 2-5-grams (`char_wb`), logistic regression.
- WordNgrams: TF-IDF of word uni- and bi-grams, logistic regression.
- BurrowsDelta: Burrows (2002), "'Delta': a Measure of Stylistic Difference and a Guide to
  Likely Authorship", Literary and Linguistic Computing 17(3), 267-287. Over the n most
  frequent words of the training passages, each passage's relative frequencies f_i are
  z-scored with the training mean and standard deviation, z_i = (f_i - mu_i) / sigma_i; an
  author's centroid is the mean z of their training passages; the distance is
      Delta(p, a) = (1/n) * sum_i |z_i(p) - z_i(a)|
  and the nearest centroid wins; scores = -Delta. Every label weighs the same in the word
  list, mu and sigma (each passage weighted 1 / its label's count), as the logistic
  regressions weigh classes "balanced" and BERT draws balanced batches: with Poe's many
  passages unweighted, mu sits on Poe and short passages all fall to him.

    python -c "from whowrote.compare.baselines import BASELINES; print(list(BASELINES))"
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

from ..model.metrics import softmax
from ..model.ngrams import CharNgrams, TfidfLogReg


class WordNgrams(TfidfLogReg):
    name = "word 1-2-gram TF-IDF + LR"
    vectorizer_args = {"analyzer": "word", "ngram_range": (1, 2), "token_pattern": r"(?u)\b\w+\b|[^\w\s]"}


class BurrowsDelta:
    name = "Burrows' Delta (MFW)"

    def __init__(self, n_words: int = 150, seed: int = 0):
        self.n_words = n_words

    def _freqs(self, texts: list[str]) -> np.ndarray:
        counts = self.vectorizer.transform(texts).toarray().astype(float)
        totals = np.array([max(1, len(t.split())) for t in texts], dtype=float)[:, None]
        return counts / totals

    def fit(self, texts: list[str], y: np.ndarray):
        y = np.asarray(y)
        self.classes = np.unique(y)
        weight = 1.0 / np.array([np.sum(y == c) for c in y], dtype=float)  # every label weighs the same
        weight /= weight.sum()
        counter = CountVectorizer(lowercase=True, token_pattern=r"(?u)\b\w+\b")
        counts = counter.fit_transform(texts)
        totals = np.asarray(counts.multiply(weight[:, None]).sum(axis=0)).ravel()
        vocab = np.array(counter.get_feature_names_out())
        mfw = vocab[np.argsort(-totals, kind="stable")[: self.n_words]]
        self.vectorizer = CountVectorizer(lowercase=True, token_pattern=r"(?u)\b\w+\b", vocabulary=list(mfw))
        f = self._freqs(texts)
        self.mu = weight @ f
        self.sigma = np.sqrt(weight @ (f - self.mu) ** 2)
        self.sigma[self.sigma == 0] = 1.0
        z = (f - self.mu) / self.sigma
        self.centroids = np.stack([z[y == c].mean(axis=0) for c in self.classes])
        return self

    def delta(self, texts: list[str]) -> np.ndarray:
        """Delta of every passage to every author centroid, [n, n_labels]."""
        z = (self._freqs(texts) - self.mu) / self.sigma
        return np.abs(z[:, None, :] - self.centroids[None, :, :]).mean(axis=2)

    def scores(self, texts: list[str]) -> np.ndarray:
        return -self.delta(texts)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return softmax(self.scores(texts))


BASELINES = {"char": CharNgrams, "word": WordNgrams, "delta": BurrowsDelta}
