"""What goes into the judge and what comes out: a Record (one input text, streamed as
chunks, with the fields to carry through) and a Score (its judgement, or the error that kept
it from being judged), whose `to_dict` is the JSON object of `whowrote judge --json`,
`POST /score` and the JSONL output (docs/FORMAT.md).

    python -c "from whowrote.judge.records import Score; print(Score('a', 'alice', {'alice': 1.0}).to_dict())"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable


@dataclass
class Score:
    """The judgement of one text (or the error that kept it from being judged)."""

    id: str | None
    label: str | None = None  # an author label, or "neither" (open set)
    probs: dict[str, float] = field(default_factory=dict)  # over the author labels, summing to 1
    p_neither: float | None = None  # P(background) where the model has a background label
    neither_threshold: float | None = None  # the threshold p_neither met or missed: this length's, the top author's
    windows: int = 0
    tokens: int = 0
    flags: list[str] = field(default_factory=list)
    window_details: list[dict] | None = None  # with Judge.score(..., details=True)
    extra: dict = field(default_factory=dict)  # input fields carried through (JSONL)
    error: str | None = None
    order_gain: float | None = None  # log S(author) minus log S(author) with the words shuffled (model/wordorder.py)
    keyword_gain: float | None = None  # log S(author) minus log S(author) without its distinctive words (model/keywords.py)
    incoherence: float | None = None  # mean log-odds of its windows being a word chain (model/coherence.py)
    p_coherent: float | None = None  # the share of S the coherence check leaves it: sigmoid(threshold - incoherence)
    repetition: float | None = None  # mean share of its windows' word runs said before in them (model/repetition.py)
    check_odds: float | None = None  # the likelihood ratio of the check that flagged it (word order, keywords, repetition)

    def s(self, author: str) -> float:
        """S = P(author | text) over every answer, "neither" included: the study's score, times
        `p_coherent` where the coherence check read the text (word chains are nobody's prose),
        its odds times `check_odds` where the word-order, keyword or repetition check flagged it
        (a flag is evidence against the author, as strong as calibration measured it)."""
        kept = 1.0 if self.p_coherent is None else self.p_coherent
        s = self.probs.get(author, 0.0) * (1 - (self.p_neither or 0.0)) * kept
        if self.check_odds is None:
            return s
        return s * self.check_odds / (s * self.check_odds + 1.0 - s)  # odds times the ratio; S = 1 stays 1

    def to_dict(self) -> dict:
        out = {**self.extra, "id": self.id}
        if self.error:
            return {**out, "error": self.error}
        out.update(label=self.label, probs=self.probs)
        if self.p_neither is not None:
            out["p_neither"] = self.p_neither
        if self.neither_threshold is not None:
            out["neither_threshold"] = self.neither_threshold
        if self.order_gain is not None:
            out["order_gain"] = self.order_gain
        if self.keyword_gain is not None:
            out["keyword_gain"] = self.keyword_gain
        if self.incoherence is not None:
            out.update(incoherence=self.incoherence, p_coherent=self.p_coherent)
        if self.repetition is not None:
            out["repetition"] = self.repetition
        if self.check_odds is not None:
            out["check_odds"] = self.check_odds
        out.update(windows=self.windows, tokens=self.tokens, flags=self.flags)
        if self.window_details is not None:
            out["window_details"] = self.window_details
        return out


@dataclass
class Record:
    """One input: an id, its text as chunks (so a file is streamed), and fields to carry."""

    id: str | None
    chunks: Iterable[str] = ()
    extra: dict = field(default_factory=dict)
    error: str | None = None


def read_error(record: Record, exc: Exception) -> str:
    """The message for a record whose text could not be read."""
    if isinstance(exc, UnicodeDecodeError):
        return f"{record.id}: not UTF-8 text (byte {exc.start}); convert it to UTF-8"
    return f"{record.id}: {getattr(exc, 'strerror', None) or exc}"
