"""Classical stylometry baselines on scikit-learn, with one interface: fit(texts, y) and
predict_proba(texts) -> [n, n_labels].

- CharNgrams: TF-IDF of word-bounded character 2-5-grams (`char_wb`), logistic regression.
- WordNgrams: TF-IDF of word uni- and bi-grams, logistic regression.
- BurrowsDelta: Burrows (2002), "'Delta': a Measure of Stylistic Difference and a Guide to
  Likely Authorship", Literary and Linguistic Computing 17(3), 267-287. Over the n most
  frequent words of the training passages, each passage's relative frequencies f_i are
  z-scored with the training mean and standard deviation, z_i = (f_i - mu_i) / sigma_i; an
  author's centroid is the mean z of their training passages; the distance is
      Delta(p, a) = (1/n) * sum_i |z_i(p) - z_i(a)|
  and the nearest centroid wins. Probabilities: softmax(-Delta / tau), tau fitted on
  validation passages by the same code as the BERT temperature (wider bounds).

    python -c "from whowrote.baselines import BASELINES; print(list(BASELINES))"
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from .metrics import fit_temperature, softmax

TAU_BOUNDS = (1e-3, 100.0)  # Delta distances are not logits: tau may need to go far below T_MIN


class _TfidfLogReg:
    vectorizer_args: dict = {}

    def __init__(self, C: float = 10.0, seed: int = 0):
        self.model = make_pipeline(
            TfidfVectorizer(sublinear_tf=True, min_df=2, lowercase=True, **self.vectorizer_args),
            # balanced: the books differ in size by 15x, the test is scored per passage
            LogisticRegression(C=C, max_iter=2000, class_weight="balanced", random_state=seed),
        )

    def fit(self, texts: list[str], y: np.ndarray, val_texts=None, val_y=None):
        self.model.fit(texts, y)
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.model.predict_proba(texts)


class CharNgrams(_TfidfLogReg):
    name = "char 2-5-gram TF-IDF + LR"
    vectorizer_args = {"analyzer": "char_wb", "ngram_range": (2, 5), "max_features": 200_000}


class WordNgrams(_TfidfLogReg):
    name = "word 1-2-gram TF-IDF + LR"
    vectorizer_args = {"analyzer": "word", "ngram_range": (1, 2), "token_pattern": r"(?u)\b\w+\b|[^\w\s]"}


class BurrowsDelta:
    name = "Burrows' Delta (MFW)"

    def __init__(self, n_words: int = 150, seed: int = 0):
        self.n_words = n_words
        self.tau = 1.0

    def _freqs(self, texts: list[str]) -> np.ndarray:
        counts = self.vectorizer.transform(texts).toarray().astype(float)
        totals = np.array([max(1, len(t.split())) for t in texts], dtype=float)[:, None]
        return counts / totals

    def fit(self, texts: list[str], y: np.ndarray, val_texts=None, val_y=None):
        counter = CountVectorizer(lowercase=True, token_pattern=r"(?u)\b\w+\b")
        totals = np.asarray(counter.fit_transform(texts).sum(axis=0)).ravel()
        vocab = np.array(counter.get_feature_names_out())
        mfw = vocab[np.argsort(-totals, kind="stable")[: self.n_words]]
        self.vectorizer = CountVectorizer(lowercase=True, token_pattern=r"(?u)\b\w+\b", vocabulary=list(mfw))
        f = self._freqs(texts)
        self.mu, self.sigma = f.mean(axis=0), f.std(axis=0)
        self.sigma[self.sigma == 0] = 1.0
        z = (f - self.mu) / self.sigma
        self.classes = np.unique(y)
        self.centroids = np.stack([z[y == c].mean(axis=0) for c in self.classes])
        if val_texts is not None and len(val_texts):
            self.tau = fit_temperature(-self.delta(val_texts), np.asarray(val_y), bounds=TAU_BOUNDS)
        return self

    def delta(self, texts: list[str]) -> np.ndarray:
        """Delta of every passage to every author centroid, [n, n_labels]."""
        z = (self._freqs(texts) - self.mu) / self.sigma
        return np.abs(z[:, None, :] - self.centroids[None, :, :]).mean(axis=2)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return softmax(-self.delta(texts), self.tau)


BASELINES = {"char": CharNgrams, "word": WordNgrams, "delta": BurrowsDelta}
