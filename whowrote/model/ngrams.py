"""TF-IDF n-gram logistic regressions on scikit-learn: the char n-gram model that the judge's
partner is fitted from (`partner.py`) and the `compare` baselines (`compare/baselines.py`).
One interface: fit(texts, y), scores(texts) -> log-probabilities [n, n_labels],
predict_proba(texts).

    python -c "from whowrote.model.ngrams import CharNgrams; print(CharNgrams().fit(['a cat', 'a dog'] * 4, [0, 1] * 4).scores(['cat']))"
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from .metrics import softmax


class TfidfLogReg:
    vectorizer_args: dict = {}

    def __init__(self, C: float = 10.0, seed: int = 0):
        self.model = make_pipeline(
            TfidfVectorizer(sublinear_tf=True, min_df=2, lowercase=True, **self.vectorizer_args),
            # balanced: the books differ in size by 15x, the test is scored per passage
            LogisticRegression(C=C, max_iter=2000, class_weight="balanced", random_state=seed),
        )

    def fit(self, texts: list[str], y: np.ndarray):
        self.model.fit(texts, y)
        return self

    def scores(self, texts: list[str]) -> np.ndarray:
        return self.model.predict_log_proba(texts)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return softmax(self.scores(texts))


class CharNgrams(TfidfLogReg):
    name = "char 2-5-gram TF-IDF + LR"
    vectorizer_args = {"analyzer": "char_wb", "ngram_range": (2, 5), "max_features": 200_000}
