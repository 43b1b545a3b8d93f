"""Open set: say "neither" when a text is by none of the trained authors.

Method `background` (outlier exposure, Hendrycks et al. 2019): the classifier has one more
label, trained on many other authors of the period, and a text is flagged "neither" when
its calibrated P(background) reaches a threshold tau. tau is fitted on passages never
trained on: the authors' held-out works ("calibration" half) must see at most
`max_flagged` of their passages flagged, each author separately, and tau is the lowest
value that keeps that promise (so as many other authors as possible are flagged). The
share of *held-out authors* flagged is then measured on authors that neither training nor
the threshold ever saw.

Rule `author` (the default; class-conditional, as Mondrian conformal prediction fits one
quantile per class): each author gets its own tau, fitted on its own calibration passages
alone, and a text is judged against the tau of the author it would otherwise be given. Rule
`global`: one tau for every text, the strictest author's. The authors' texts do not look
equally like other authors': on run authors-20261128-023831 Poe's comic tales reach
P(background) 0.87 where Carroll's letters stay under 0.75, so one tau set by Poe let
through every unseen author whose text leans to Carroll. Measured on its three seeds
(`whowrote evaluate`, held-out test half): unseen authors flagged 0.540/0.491/0.484
(global) -> 0.576/0.569/0.633 (author), the authors' own passages flagged at most 0.042
either way.

Shorter and longer texts get their own thresholds (`by_length`, fitted by
`evaluation/lengths.py`): a text's threshold is interpolated in log-length between those of
the fitted lengths around it.

Whatever the method, the judge reports `probs` over the author labels only (renormalised:
P(author | text, by one of them)), `p_neither` = P(background), and the decision.

    python -c "from whowrote.model.openset import fit_threshold; import numpy as np; \
print(fit_threshold(np.array([.01, .2, .5]), np.array([0, 0, 1]), [0, 1], 0.34))"
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NEITHER = "neither"  # the judge's answer for a text by none of the authors
BACKGROUND_SPARED = 0.05  # a threshold never leaves more than this share of the background's calibration passages unflagged


@dataclass
class OpenSet:
    """What the judge needs to decide: stored in model/whowrote.json as "open_set"."""

    method: str = "none"  # none | background
    background: str = ""  # the background label's name
    threshold: float = 1.0  # flag when P(background) >= threshold (one window)
    # [[tokens, threshold], ...] ascending, for other lengths: a text's threshold is
    # interpolated between the entries around its length (for_length); [] (older model
    # folders): `threshold` for every text
    by_length: list[list[float]] = field(default_factory=list)
    # rule "author": author label -> {"threshold", "by_length"} as above, fitted on that author's
    # passages alone and used for texts the judge would give that author; {} (rule "global",
    # older model folders): `threshold` and `by_length` for every text
    per_author: dict[str, dict] = field(default_factory=dict)
    # author -> a text given to that author whose log S falls by less than this when its words are
    # shuffled is "neither" (model/wordorder.py); an author not here (older model folders: all) is not checked
    order_thresholds: dict[str, float] = field(default_factory=dict)
    # author -> its distinctive words, and the gain over which a text given to it whose log S falls
    # by more than this with those words deleted is "neither" (model/keywords.py); {}: not checked
    keywords: dict[str, list[str]] = field(default_factory=dict)
    keyword_thresholds: dict[str, float] = field(default_factory=dict)
    # author -> a text given to it whose mean window log-odds of being a word chain (model/coherence.py)
    # is over this is "neither"; {}: not checked
    coherence_thresholds: dict[str, float] = field(default_factory=dict)
    # author -> a text given to it whose windows repeat more than this share of their word runs
    # (model/repetition.py) is "neither"; {}: not checked
    repetition_thresholds: dict[str, float] = field(default_factory=dict)
    # flag ("word-order", "keywords", "repetitive") -> author -> the likelihood ratio by which that check's flag
    # weighs the odds of S (`check_odds`); {} (older model folders): a flag leaves S as it was
    check_odds: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"method": str(self.method), "background": str(self.background), "threshold": float(self.threshold),
                "order_thresholds": {a: float(t) for a, t in self.order_thresholds.items()},
                "keywords": {a: list(w) for a, w in self.keywords.items()},
                "keyword_thresholds": {a: float(t) for a, t in self.keyword_thresholds.items()},
                "coherence_thresholds": {a: float(t) for a, t in self.coherence_thresholds.items()},
                "repetition_thresholds": {a: float(t) for a, t in self.repetition_thresholds.items()},
                "check_odds": {f: {a: float(r) for a, r in by.items()} for f, by in self.check_odds.items()},
                "by_length": [[int(n), float(t)] for n, t in self.by_length],
                "per_author": {a: {"threshold": float(d["threshold"]),
                                   "by_length": [[int(n), float(t)] for n, t in d.get("by_length", [])]}
                               for a, d in self.per_author.items()}}

    @classmethod
    def from_dict(cls, d: dict | None) -> "OpenSet":
        """The open set stored as `to_dict` writes it, each field read as that writes it, so a
        hand-edited whowrote.json with a field of the wrong type fails on load (ValueError), not
        at the first text that reads the field."""
        if not d:
            return cls()
        try:
            return cls(**cls(**d).to_dict())
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise ValueError(f"open_set: {type(exc).__name__}: {exc}") from None

    @classmethod
    def fitted(cls, background: str, labels: list[str], taus: dict, tables: dict | None = None) -> "OpenSet":
        """The "background" open set from `fit_thresholds`' answer `taus` and, for other
        lengths, `fit_lengths`' tables keyed alike (None: global, author id: its own)."""
        tables = tables or {}
        return cls("background", background, taus[None], tables.get(None, []),
                   {labels[a]: {"threshold": t, "by_length": tables.get(a, [])} for a, t in taus.items() if a is not None})

    def threshold_for(self, tokens: int | None, author: str | None = None) -> float:
        """The threshold for a text of `tokens` tokens (None: one window) that the judge
        would otherwise give to `author`."""
        own = self.per_author.get(author) if author is not None else None
        if own is not None:
            return for_length(own.get("by_length", []), tokens, own["threshold"])
        return for_length(self.by_length, tokens, self.threshold)


def fit_flag_threshold(own: np.ndarray, tricks: np.ndarray, max_flagged: float) -> float:
    """The threshold of a check that flags a value over it: at most `max_flagged` of an author's
    own calibration windows (their values `own`) over it, and no lower than it takes to flag
    all but that share of the windows made the trick the check is for (`tricks`): the trick is
    caught for as few of the author's own as can be."""
    threshold = float(np.quantile(own, 1 - max_flagged, method="higher"))
    if not len(tricks):
        return threshold
    return max(threshold, float(np.nextafter(np.quantile(tricks, max_flagged, method="lower"), -np.inf)))


def check_odds(own_flagged: int, own: int, tricks_flagged: int, tricks: int) -> float:
    """P(flag | the author's own prose) / P(flag | the trick the check is for), each share by
    Laplace's rule of succession, so that no count of calibration windows makes it 0 or 1.
    A flagged text's odds of being the author are multiplied by it (`Score.s`)."""
    return ((own_flagged + 1) / (own + 2)) / ((tricks_flagged + 1) / (tricks + 2))


def describe(open_set: dict, tokens: int | None = None) -> str:
    """'P(neither) >= 0.8753' or, with a threshold per author, 'P(neither) >= 0.7540 for texts
    given to alice, 0.8753 for edgar', from a stored open set (model/whowrote.json, report.json)."""
    o = OpenSet.from_dict({k: v for k, v in open_set.items() if k in OpenSet.__dataclass_fields__})
    if not o.per_author:
        return f"P({o.background}) >= {o.threshold_for(tokens):.4f}"
    return f"P({o.background}) >= " + ", ".join(
        f"{o.threshold_for(tokens, a):.4f} for {'texts given to ' * (i == 0)}{a}" for i, a in enumerate(o.per_author))


def for_length(table: list[list[float]], tokens: int | None, default: float) -> float:
    """The value of [[tokens, value], ...] (ascending) for a text of `tokens` tokens: linear
    in log(tokens) between the two entries around it (so a text a few words shorter than a
    fitted length is judged almost as one of that length, not by the next shorter one's
    settings), the last entry's value beyond it; `default` below the first entry (older
    folders, whose tables start above one window) and for None (one window)."""
    if tokens is None or not table or tokens < table[0][0]:
        return default
    x = np.log2(max(tokens, 1))
    points = [(np.log2(max(n, 1)), v) for n, v in table]
    for (x0, v0), (x1, v1) in zip(points, points[1:]):
        if x < x1:
            return float(v0 + (v1 - v0) * (x - x0) / (x1 - x0)) if x1 > x0 else float(v0)
    return float(points[-1][1])


def split_probs(probs: np.ndarray, labels: list[str], background: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(author probabilities renormalised [n, A], P(background) [n], author labels) from
    probabilities over every label [n, L]."""
    if not background:
        return probs, np.zeros(len(probs)), list(labels)
    b = labels.index(background)
    keep = [i for i in range(len(labels)) if i != b]
    authors = probs[:, keep]
    return authors / np.clip(authors.sum(axis=1, keepdims=True), 1e-300, None), probs[:, b], [labels[i] for i in keep]


def decide(probs: np.ndarray, labels: list[str], open_set: OpenSet, tokens: int | None = None) -> list[str]:
    """The judge's label for each row of probabilities over every label, for texts of
    `tokens` tokens (None: one window each)."""
    return decide_split(*split_probs(probs, labels, open_set.background), open_set, tokens)


def decide_split(authors: np.ndarray, p_neither: np.ndarray, names: list[str], open_set: OpenSet,
                 tokens: int | None = None) -> list[str]:
    """The same from split_probs' pieces (which rolling attribution smooths apart)."""
    out = [names[i] for i in authors.argmax(axis=1)]
    if open_set.method == "background":
        out = [NEITHER if p >= open_set.threshold_for(tokens, lab) else lab for lab, p in zip(out, p_neither)]
    return out


def fit_threshold(p_neither: np.ndarray, author_ids: np.ndarray, authors: list[int], max_flagged: float) -> float:
    """The lowest tau at which every author has at most `max_flagged` of its calibration
    passages (p_neither, with their label ids) at or above tau."""
    tau = 0.0
    for a in authors:
        p = np.sort(p_neither[author_ids == a])[::-1]
        if not len(p):
            continue
        allowed = int(np.floor(max_flagged * len(p)))  # passages that may be flagged
        # just above the (allowed+1)-th highest P: that passage and all below stay unflagged
        tau = max(tau, float(np.nextafter(p[allowed], 1.0)) if allowed < len(p) else 0.0)
    return min(tau, 1.0)


def fit_thresholds(p_neither: np.ndarray, label_ids: np.ndarray, authors: list[int], max_flagged: float,
                   rule: str, background: int | None = None) -> dict[int | None, float]:
    """{None: the global tau, author id: its own tau (rule "author" only)}: `fit_threshold`
    on every author's passages together, and on each author's alone. No tau is lower than the
    BACKGROUND_SPARED quantile of the background's calibration passages (label id `background`):
    where an author and the background do not overlap, the lowest tau would sit in
    the author's own tail and flag its clearest texts for nothing (a tiny model's 1e-15
    against 0.99); the floor puts it in the gap, and costs at most that share of the background."""
    floor = 0.0
    if background is not None and np.any(label_ids == background):
        floor = float(np.quantile(p_neither[label_ids == background], BACKGROUND_SPARED))
    out: dict[int | None, float] = {None: max(floor, fit_threshold(p_neither, label_ids, authors, max_flagged))}
    if rule == "author":
        out.update({a: max(floor, fit_threshold(p_neither, label_ids, [a], max_flagged)) for a in authors})
    return out


def rates(decisions: list[str], true_labels: list[str], groups: list[str]) -> dict[str, dict]:
    """Per group (a work or an author): passages, share labelled its own label, share
    flagged, each share with its 95% interval (`metrics.share_interval`)."""
    from .metrics import share_interval

    out: dict[str, dict] = {}
    for g in dict.fromkeys(groups):
        idx = [i for i, x in enumerate(groups) if x == g]
        d = [decisions[i] for i in idx]
        own, flagged = sum(x == true_labels[idx[0]] for x in d), sum(x == NEITHER for x in d)
        out[g] = {"label": true_labels[idx[0]], "passages": len(idx),
                  "own_label": own / len(idx), "own_label_ci": share_interval(own, len(idx)),
                  "neither": flagged / len(idx), "neither_ci": share_interval(flagged, len(idx))}
    return out
