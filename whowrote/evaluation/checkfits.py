"""The judge's second readings, fitted on a calibrated run's calibration windows (`calibrate.py`
calls them after the "neither" thresholds, in this order, and writes what they fit into
model/whowrote.json): the repetition check (`model/repetition.py`), the word-order check
(`model/wordorder.py`), the keyword check (`model/keywords.py`) and the coherence check
(`model/coherence.py`). Each keeps, per author,
a threshold that flags at most the config's `*_max_flagged` share of the author's own
calibration windows, a record of what it flags for the report (`c.repetition`, `c.order`,
`c.keywords`, `c.coherence`), and is kept only where it catches at least half of the trick it is for.

    python -c "from whowrote.evaluation.calibrate import calibrate_run; print(calibrate_run('runs/x').order)"
"""

from __future__ import annotations

import numpy as np

from ..data.augment import Typos
from ..data.pieces import word_pieces
from ..model import coherence as coh
from ..model.keywords import KEYWORDS, KEYWORDS_FLAG, STUFF_RATE, keyword_pieces, window_keyword_gains
from ..model.metrics import softmax
from ..model.openset import check_odds, decide, fit_flag_threshold
from ..model.repetition import REPEAT_WORDS, REPETITION_FLAG, fit_repetition_threshold, looped_rows, repetition
from ..model.wordorder import WORD_ORDER_FLAG, fit_order_threshold, prose_rows, reshuffled, window_gains

STUFFED_WINDOWS = 600  # other authors' calibration windows stuffed with each author's keywords (evenly spaced)
COHERENCE_PER_BOOK = 40  # windows of prose, and as many of word chains, from each training book
COHERENCE_CHAINS = 150  # order-1 word chains made of each label's calibration windows, to decide whether the check stays


def _judged_windows(c) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The calibration windows as every check's fit reads them: (ids, each one's true label,
    whether it is prose, the judge's label for it by the "neither" thresholds alone)."""
    ids, y = c.windows["fit"]
    truth = np.array([c.labels[i] for i in y])
    decisions = np.array(decide(softmax(c.logits["fit"], c.temperature), c.labels, c.open_set))
    return ids, truth, prose_rows(ids, word_pieces(c.tokenizer)), decisions


def fit_repetition(c) -> None:
    """Each author's repetition threshold (`model/repetition.py`) on its calibration windows of
    prose that the judge gives to it: at most `repetition_max_flagged` of them over it, and where
    the gap allows, midway to where it would flag all but that share of every label's calibration
    windows of prose looped (a loop repeats itself whoever wrote the sentence), of those whose first sentence the
    window says at least twice: a longer one makes no loop, and no trick to catch. Kept where it
    flags at least half of the loops."""
    config = c.config
    if c.background_index is None or not config.repetition_max_flagged:
        return
    ids, truth, prose, decisions = _judged_windows(c)
    vocab = word_pieces(c.tokenizer)
    checked = prose & (decisions == truth) & np.isin(truth, config.author_labels)
    own = np.full(len(ids), np.nan)  # measured where the judge would check: the authors' prose given to them
    own[checked] = [repetition(r[1:-1], vocab) for r in ids[checked]]
    looped, said = looped_rows(ids[prose], vocab)
    loops = np.array([repetition(r[1:-1], vocab) for r in looped[said >= 2]])
    c.repetition = {"max_flagged": config.repetition_max_flagged, "words": REPEAT_WORDS, "loops": len(loops),
                    "authors": {}}
    for a in config.author_labels:
        mine = checked & (truth == a)
        if not mine.any():
            continue
        tau = fit_repetition_threshold(own[mine], loops, config.repetition_max_flagged)
        own_hits, loop_hits = own[mine] > tau, loops > tau
        fit = {"threshold": tau, "windows": int(mine.sum()), "own_flagged": float(own_hits.mean()),
               "loops_flagged": float(loop_hits.mean()) if len(loops) else 0.0,
               "odds": check_odds(int(own_hits.sum()), own_hits.size, int(loop_hits.sum()), loop_hits.size)}
        fit["kept"] = fit["loops_flagged"] >= 0.5
        c.repetition["authors"][a] = fit
        if fit["kept"]:
            c.open_set.repetition_thresholds[a] = tau
            c.open_set.check_odds.setdefault(REPETITION_FLAG, {})[a] = fit["odds"]


def fit_order(c) -> None:
    """Each author's word-order threshold (`wordorder.py`) on its calibration windows of prose
    that the judge gives to it: at most `order_max_flagged` of them under it (as each author
    has its own "neither" threshold), and no higher than it takes to flag all but that share of
    the same windows made word salad (their words shuffled with the run's seed). Kept only
    where it flags at least half of the salad: a model that never learnt an author's word
    order reads both alike, and the check would flag the author for nothing."""
    config, labels = c.config, c.labels
    if c.background_index is None or not config.order_max_flagged:
        return
    ids, truth, prose, decisions = _judged_windows(c)
    vocab = word_pieces(c.tokenizer)
    mine = (truth != config.background) & (decisions == truth) & prose  # as the judge checks prose only
    if not mine.any():
        return
    authors, own = truth[mine], ids[mine]
    gains = window_gains(c.logits_of, own, c.temperature, labels, config.background, list(authors), vocab, c.logits["fit"][mine])
    salad = reshuffled(own, vocab, np.random.default_rng(config.seed))
    salad_logits = c.logits_of(salad)
    salad_gains = window_gains(c.logits_of, salad, c.temperature, labels, config.background, list(authors), vocab, salad_logits)
    salad_given = np.array(decide(softmax(salad_logits, c.temperature), labels, c.open_set)) == authors
    c.order = {"max_flagged": config.order_max_flagged, "authors": {}}
    for a in dict.fromkeys(authors):
        m = authors == a
        tau = fit_order_threshold(gains[m], salad_gains[m], config.order_max_flagged)
        own_hits, salad_hits = gains[m] < tau, salad_gains[m] < tau
        fit = {"threshold": tau, "windows": int(m.sum()), "own_flagged": float(own_hits.mean()),
               "salad_flagged": float(salad_hits.mean()), "salad_given_before": float(salad_given[m].mean()),
               "salad_given_after": float(np.mean(salad_given[m] & (salad_gains[m] >= tau))),
               "odds": check_odds(int(own_hits.sum()), own_hits.size, int(salad_hits.sum()), salad_hits.size)}
        fit["kept"] = fit["salad_flagged"] >= 0.5
        c.order["authors"][str(a)] = fit
        if fit["kept"]:
            c.open_set.order_thresholds[str(a)] = tau
            c.open_set.check_odds.setdefault(WORD_ORDER_FLAG, {})[str(a)] = fit["odds"]


def fit_keywords(c) -> None:
    """Each author's keyword threshold (`model/keywords.py`) on its calibration windows of prose
    that the judge gives to it: at most `keyword_max_flagged` of them over it, and no lower than
    it takes to flag all but that share of other authors' calibration windows stuffed with its
    keywords and given to it. Kept only where some stuffed windows are given to the author and
    it flags at least half of them: otherwise the words alone do not sway the model."""
    from ..data.augment import WordSprinkle
    from ..text.topics import topic_words

    config, labels, bg = c.config, c.labels, c.config.background
    if c.background_index is None or not config.keyword_max_flagged:
        return
    ids, truth, prose, decisions = _judged_windows(c)
    vocab = word_pieces(c.tokenizer)
    words = topic_words(dict(zip(labels, c.prep.texts)), top=KEYWORDS)  # from the training books, as trained
    authors = [a for a in config.author_labels if words.get(a)]
    keys = {a: keyword_pieces(c.tokenizer, words[a]) for a in authors}
    others = ids[(truth == bg) & prose]
    others = others[np.linspace(0, len(others) - 1, min(STUFFED_WINDOWS, len(others))).astype(int)] if len(others) else others
    c.keywords = {"max_flagged": config.keyword_max_flagged, "words": KEYWORDS, "stuff_rate": STUFF_RATE, "authors": {}}
    c.open_set.keywords = {a: words[a] for a in authors}
    for a in authors:
        mine = (truth == a) & (decisions == a) & prose
        if not mine.any():
            continue
        gains = window_keyword_gains(c.logits_of, ids[mine], c.temperature, labels, bg, [a] * int(mine.sum()), keys, vocab,
                                     c.logits["fit"][mine])
        stuffer, rng = WordSprinkle(c.tokenizer, words[a], 1.0, STUFF_RATE), np.random.default_rng(config.seed)
        stuffed = np.array([np.concatenate([r[:1], stuffer(r[1:-1], rng), r[-1:]]) for r in others], dtype=ids.dtype)
        stuffed_logits = c.logits_of(stuffed) if len(stuffed) else np.zeros((0, len(labels)))
        given = np.array(decide(softmax(stuffed_logits, c.temperature), labels, c.open_set)) == a
        stuffed_gains = window_keyword_gains(c.logits_of, stuffed[given], c.temperature, labels, bg, [a] * int(given.sum()),
                                             keys, vocab, stuffed_logits[given])
        tau = fit_flag_threshold(gains, stuffed_gains, config.keyword_max_flagged)
        own_hits, stuffed_hits = np.asarray(gains) > tau, np.asarray(stuffed_gains) > tau
        fit = {"threshold": tau, "windows": len(gains), "own_flagged": float(own_hits.mean()),
               "stuffed_windows": len(stuffed), "stuffed_given_before": float(given.mean()) if len(stuffed) else 0.0,
               "stuffed_flagged": float(stuffed_hits.mean()) if stuffed_hits.size else 0.0,
               "odds": check_odds(int(own_hits.sum()), own_hits.size, int(stuffed_hits.sum()), stuffed_hits.size)}
        fit["stuffed_given_after"] = fit["stuffed_given_before"] * (1 - fit["stuffed_flagged"])
        fit["kept"] = bool(stuffed_hits.size) and fit["stuffed_flagged"] >= 0.5
        c.keywords["authors"][a] = fit
        if fit["kept"]:
            c.open_set.keyword_thresholds[a] = tau
            c.open_set.check_odds.setdefault(KEYWORDS_FLAG, {})[a] = fit["odds"]


def training_books(prep, label: int) -> list[np.ndarray]:
    """A label's training blocks, joined book by book."""
    stream, works = prep.streams[label], prep.streams[label].block_works
    books: dict[int, list[np.ndarray]] = {}
    for k in prep.parts[label]["train"]:
        books.setdefault(int(works[k]), []).append(stream.tokens[slice(*stream.blocks[k])])
    return [np.concatenate(v) for _, v in sorted(books.items())]


def fit_coherence(c) -> None:
    """The coherence reader (`model/coherence.py`): the pretrained encoder's first layers and a
    head fitted on every label's training books against word chains made of each; then each
    author's threshold, at most `coherence_max_flagged` over it of its calibration windows of
    prose that the judge gives to it, and of every label's calibration windows of prose together
    (an author's fifteen windows cannot place a 2% quantile; prose in general can). Kept only
    where it flags at least half of the order-1 word chains made of each label's calibration
    windows (chains of one author's few windows copy whole phrases: too few to decide on)."""
    from ..model.bert import resolve_model_path

    config, labels, b = c.config, c.labels, c.background_index
    if b is None or not config.coherence_max_flagged:
        return
    vocab, rng = word_pieces(c.tokenizer), np.random.default_rng(config.seed)
    # the authors' books too: a generator imitating one makes chains of his words, not the background's;
    # a generator's or an OCR's slips are no more a chain than they are style (as in training)
    books = [book for label in range(len(labels)) for book in training_books(c.prep, label)]
    prose, chains = coh.training_windows(books, vocab, c.prep.width, COHERENCE_PER_BOOK, rng,
                                         Typos(c.tokenizer, 1.0))
    if not prose:
        return
    reader = coh.CoherenceReader.fit(coh.pretrained_encoder(resolve_model_path(config.model)), prose, chains, c.tokenizer,
                                     config.seed)
    ids, truth, is_prose, decisions = _judged_windows(c)
    given = decisions == truth
    z = np.full(len(ids), np.nan)
    z[is_prose] = reader.scores(ids[is_prose][:, 1:-1].tolist(), c.tokenizer)
    pooled = coh.fit_coherence_threshold(z[is_prose], config.coherence_max_flagged)
    chain_z = {}
    for lab in labels:
        rows = list(ids[(truth == lab) & is_prose][:, 1:-1])
        chain_z[lab] = reader.scores(coh.chain_windows(rows, vocab, min(COHERENCE_CHAINS, len(rows)), c.prep.width, rng,
                                                       orders=(1,)), c.tokenizer)
    every_chain = np.concatenate(list(chain_z.values()))
    c.coherence = {"max_flagged": config.coherence_max_flagged, "layers": reader.layers, "pooled_threshold": pooled,
                   "pooled_windows": int(is_prose.sum()), "fitted_on": {"prose": len(prose), "chains": len(chains)},
                   "chains": len(every_chain), "authors": {}}
    for a in config.author_labels:
        mine = (truth == a) & given & is_prose
        if not mine.any():
            continue
        tau = max(coh.fit_coherence_threshold(z[mine], config.coherence_max_flagged), pooled)
        fit = {"threshold": tau, "windows": int(mine.sum()), "own_flagged": float(np.mean(z[mine] > tau)),
               "chains_flagged": float(np.mean(every_chain > tau)), "own_chains_flagged": float(np.mean(chain_z[a] > tau))}
        fit["kept"] = fit["chains_flagged"] >= 0.5
        c.coherence["authors"][a] = fit
        if fit["kept"]:
            c.open_set.coherence_thresholds[a] = tau
    c.coherence_reader = reader if c.open_set.coherence_thresholds else None
