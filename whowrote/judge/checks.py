"""The judge's second reading of a text it would give to an author: is that the author's style,
or a generator's cheap way to a high S?

- the word-order check (`model/wordorder.py`): the text's window sample read with its words
  shuffled; word salad reads about the same, so a gain under the author's threshold is
  "neither", flagged "word-order";
- the keyword check (`model/keywords.py`): the same sample read with the author's distinctive
  words deleted; another writer's prose stuffed with them loses its S, so a gain over the
  author's threshold is "neither", flagged "keywords";
- the repetition check (`model/repetition.py`), first, as it reads no model: the sample's
  windows that repeat their own runs of words over the author's threshold are "neither",
  flagged "repetitive";
- the coherence check (`model/coherence.py`), next: the sample read by the pretrained
  encoder's first layers; a word chain's mean log-odds over the author's threshold is
  "neither", flagged "incoherent", and every text checked keeps `p_coherent` of its S.

Each re-reads at most ORDER_WINDOWS windows a text, all texts of a flush in one batch each.

    whowrote judge --model docs/run --json passage.txt   # "repetition", "order_gain", "keyword_gain", "incoherence", "flags"
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..data.pieces import word_pieces
from ..model.coherence import INCOHERENT_FLAG, p_coherent
from ..model.keywords import KEYWORDS_FLAG, delete_keywords, keyword_pieces
from ..model.openset import NEITHER, for_length
from ..model.repetition import REPETITION_FLAG, text_repetition
from ..model.wordorder import WORD_ORDER_FLAG, is_prose, s_gain, shuffled
from .records import Score

SHORT_TOKENS = 32  # texts under this many tokens are scored but flagged "short", and not checked


def given_prose(judge, tallies: list, scores: list[Score], thresholds: dict[str, float]) -> list[tuple]:
    """(tally, score) of the texts of prose long enough to check that go to an author with a threshold."""
    vocab = word_pieces(judge.tokenizer)
    return [(t, s) for t, s in zip(tallies, scores) if not s.error and s.label in thresholds and s.tokens >= SHORT_TOKENS
            and is_prose([w for w, _ in t.sample.items], vocab)]


@lru_cache(maxsize=16)
def _spellings(tokenizer, words: tuple[str, ...]) -> set[tuple[int, ...]]:
    """`keyword_pieces`, tokenised once per model and author rather than once a batch."""
    return keyword_pieces(tokenizer, list(words))


def _sample_logp(tally) -> np.ndarray:
    return np.stack([lp for _, lp in tally.sample.items])


def _flag(judge, score: Score, flag: str) -> None:
    """The text is "neither", flagged, and its S weighed by the check's likelihood ratio."""
    score.check_odds = judge.open_set.check_odds.get(flag, {}).get(score.label)
    score.label = NEITHER
    score.flags.append(flag)


def check_repetition(judge, tallies: list, scores: list[Score]) -> None:
    """Texts given to an author whose window sample repeats its own runs of words more than the
    author's threshold are "neither" (no model reads them again)."""
    thresholds = judge.open_set.repetition_thresholds
    vocab = word_pieces(judge.tokenizer)
    for tally, score in given_prose(judge, tallies, scores, thresholds):
        score.repetition = text_repetition([w for w, _ in tally.sample.items], vocab)
        if score.repetition > thresholds[score.label]:
            _flag(judge, score, REPETITION_FLAG)


def check_order(judge, tallies: list, scores: list[Score]) -> None:
    """Texts given to an author, read again with their words shuffled, in one batch: a text
    that reads as its author no better so is "neither"."""
    thresholds = judge.open_set.order_thresholds
    todo = given_prose(judge, tallies, scores, thresholds)
    if not todo:
        return
    windows = [w for t, _ in todo for w, _ in t.sample.items]
    logp_shuffled, at = judge.log_probs(shuffled(windows, word_pieces(judge.tokenizer))), 0
    for tally, score in todo:
        k = len(tally.sample.items)
        t = for_length(judge.length_temperatures, tally.tokens, 1.0)
        score.order_gain = s_gain(_sample_logp(tally), logp_shuffled[at:at + k], t, judge.labels,
                                  judge.open_set.background, score.label)
        at += k
        if score.order_gain < thresholds[score.label]:
            _flag(judge, score, WORD_ORDER_FLAG)


def check_keywords(judge, tallies: list, scores: list[Score]) -> None:
    """Texts still given to an author, read again without the author's distinctive words (only
    the windows that had some), in one batch: a text whose S rests on them is "neither"."""
    thresholds = judge.open_set.keyword_thresholds
    todo = given_prose(judge, tallies, scores, thresholds)
    if not todo:
        return
    vocab = word_pieces(judge.tokenizer)
    keys = {a: _spellings(judge.tokenizer, tuple(judge.open_set.keywords.get(a, []))) for a in thresholds}
    deleted = [[delete_keywords(w, keys[s.label], vocab).tolist() for w, _ in t.sample.items] for t, s in todo]
    changed = [(i, j) for i, (t, _) in enumerate(todo) for j, (w, _) in enumerate(t.sample.items) if 0 < len(deleted[i][j]) < len(w)]
    logp_changed = dict(zip(changed, judge.log_probs([deleted[i][j] for i, j in changed]))) if changed else {}
    for i, (tally, score) in enumerate(todo):
        logp = _sample_logp(tally)
        after = np.stack([logp_changed.get((i, j), lp) for j, lp in enumerate(logp)])
        t = for_length(judge.length_temperatures, tally.tokens, 1.0)
        score.keyword_gain = s_gain(logp, after, t, judge.labels, judge.open_set.background, score.label)
        if score.keyword_gain > thresholds[score.label]:
            _flag(judge, score, KEYWORDS_FLAG)


def check_coherence(judge, tallies: list, scores: list[Score]) -> None:
    """Texts given to an author, their window sample read by the coherence reader in one batch:
    each keeps `p_coherent` of its S, and a text over the author's threshold is "neither"."""
    thresholds = judge.open_set.coherence_thresholds
    todo = given_prose(judge, tallies, scores, thresholds)
    if not todo:
        return
    z, at = judge.coherence.scores([w for t, _ in todo for w, _ in t.sample.items], judge.tokenizer, judge._autocast()), 0
    for tally, score in todo:
        k = len(tally.sample.items)
        score.incoherence = float(z[at:at + k].mean())
        at += k
        score.p_coherent = p_coherent(score.incoherence, thresholds[score.label])
        if score.incoherence > thresholds[score.label]:
            score.label = NEITHER
            score.flags.append(INCOHERENT_FLAG)
