"""Fit what the judge applies on top of a trained model, on calibration windows only, and
write it into model/whowrote.json: the char partner and its mix with BERT, the temperature,
the authors' offsets (equal priors among them, `metrics.fit_author_offsets`), the "neither"
thresholds, each text length's temperature and threshold, and the thresholds of the word-order
check (`model/wordorder.py`) and the keyword check (`model/keywords.py`) with the likelihood
ratio each one's flag weighs S by (`openset.check_odds`), and the coherence check's reader and
thresholds (`model/coherence.py`). The one writer
of a model folder after training; evaluate.py then measures what was fitted (report.json).

Calibration windows: the calibration half of the held-out works; without held-out works,
the in-book validation blocks (temperature only, no threshold).

    python -c "from whowrote.evaluation.calibrate import calibrate_run; calibrate_run('runs/x')"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config, load_run_config
from ..data.augment import Typos
from ..data.pieces import word_pieces
from ..layout import RunFiles
from ..model import coherence as coh
from ..model.keywords import KEYWORDS, KEYWORDS_FLAG, STUFF_RATE, fit_keyword_threshold, keyword_pieces, window_keyword_gains
from ..model.metrics import fit_author_offsets, fit_temperature, log_softmax, predict_logits, softmax, weigh_authors
from ..model.openset import OpenSet, check_odds, decide, fit_thresholds, split_probs
from ..model.partner import CharPartner, window_texts
from ..model.wordorder import WORD_ORDER_FLAG, fit_order_threshold, prose_rows, reshuffled, window_gains
from ..training.runfolder import check_run_dir, update_model_meta
from .lengths import fit_lengths, judged_texts

HELDOUT_WINDOWS_PER_WORK = 150  # evenly spaced disjoint windows per held-out work and half
# evenly spaced in-book validation and test windows per label: the 38 background books' 3.8M
# tokens would give 3,000 of each, minutes of scoring on a CPU for the least telling number
IN_BOOK_WINDOWS_PER_LABEL = 600
STUFFED_WINDOWS = 600  # other authors' calibration windows stuffed with each author's keywords (evenly spaced)
COHERENCE_PER_BOOK = 40  # windows of prose, and as many of word chains, from each training book
COHERENCE_CHAINS = 150  # order-1 word chains made of each label's calibration windows, to decide whether the check stays


@dataclass
class Calibrated:
    """A run's model and data, what calibration fitted, and the windows it scored on the way
    (so the report does not score them twice)."""

    run_dir: Path
    config: Config
    prep: Any
    model: Any
    tokenizer: Any
    progress: bool
    partner: CharPartner | None = None
    temperature: float = 1.0
    offsets: np.ndarray | None = None  # how the authors are weighed (metrics.fit_author_offsets); None: as the model has them
    open_set: OpenSet = field(default_factory=OpenSet)
    length_temperatures: list = field(default_factory=list)
    windows: dict = field(default_factory=dict)  # "val", "fit": (ids, y); "calib_works"
    logits: dict = field(default_factory=dict)  # "val_bert", "fit_bert", "fit_char", "fit"
    order: dict = field(default_factory=dict)  # the word-order check's fit, for the report
    keywords: dict = field(default_factory=dict)  # the keyword check's fit, for the report
    coherence: dict = field(default_factory=dict)  # the coherence check's fit, for the report
    coherence_reader: Any = None  # model/coherence.py's CoherenceReader, where fitted

    @property
    def labels(self) -> list[str]:
        return self.prep.labels

    def bert_logits(self, ids: np.ndarray) -> np.ndarray:
        return predict_logits(self.model, ids, progress=self.progress)

    def logits_of(self, ids: np.ndarray, bert=None, char=None) -> np.ndarray:
        """The window scores the temperature calibrates: BERT's logits, or their mix with the
        partner's (`bert`, `char`: those logits of `ids`, where already computed)."""
        bert = self.bert_logits(ids) if bert is None else bert
        z = bert if self.partner is None else self.partner.mix(
            bert, self.partner.window_logits(self.tokenizer, ids[:, 1:-1]) if char is None else char)
        return z if self.offsets is None else self.weighed(z)

    def weighed(self, z: np.ndarray) -> np.ndarray:
        """Scores whose softmax at the temperature is the judge's, the authors weighed by the offsets."""
        return self.temperature * weigh_authors(log_softmax(z, self.temperature), self.offsets, self.background_index)

    @property
    def background_index(self) -> int | None:
        return self.labels.index(self.config.background) if self.config.open_set == "background" else None


def fit_partner(config: Config, prep, fit_ids: np.ndarray, fit_y: np.ndarray,
                fit_bert: np.ndarray) -> tuple[CharPartner, np.ndarray]:
    """The char partner (`model/partner.py`) fitted on the training windows and mixed with
    BERT on the calibration windows, and its logits of those windows."""
    train_ids, train_y = prep.windows("train", config.partner_windows)
    partner = CharPartner.fit(window_texts(prep.tokenizer, train_ids[:, 1:-1]), train_y, seed=config.seed,
                              common_words=config.partner_common_words)
    if config.background and not config.partner_neither:
        partner.neither_column = prep.labels.index(config.background)
    fit_char = partner.window_logits(prep.tokenizer, fit_ids[:, 1:-1])
    return partner.fit_mix(fit_bert, fit_char, fit_y), fit_char


def calibrate_run(run_dir: str | Path, data_dir: str | None = None, progress: bool = True, model=None,
                  tokenizer=None) -> Calibrated:
    """Fit the partner, temperature and thresholds of a run's model; write model/whowrote.json."""
    from ..data.prepare import prepare
    from ..model.bert import load_classifier
    from ..training.runfolder import model_spec

    run_dir = check_run_dir(run_dir)
    files = RunFiles(run_dir)
    config = load_run_config(run_dir)
    if data_dir:
        config.data_dir = data_dir
    if model is None:
        model, tokenizer = load_classifier(files.model)
    prep = prepare(config, tokenizer, spec=model_spec(files.model))  # as it was trained
    c = Calibrated(run_dir, config, prep, model, tokenizer, progress)
    val_ids, val_y = prep.windows("val", IN_BOOK_WINDOWS_PER_LABEL)
    c.windows["val"], c.logits["val_bert"] = (val_ids, val_y), c.bert_logits(val_ids)
    if config.heldout:  # the partner's mix is fitted where the temperature is
        fit_ids, fit_y, c.windows["calib_works"] = prep.unseen_windows("calib", HELDOUT_WINDOWS_PER_WORK)
        c.logits["fit_bert"] = c.bert_logits(fit_ids)
    else:
        fit_ids, fit_y = val_ids, val_y
        c.logits["fit_bert"] = c.logits["val_bert"]
    c.windows["fit"] = (fit_ids, fit_y)
    if config.partner == "char":
        c.partner, c.logits["fit_char"] = fit_partner(config, prep, fit_ids, fit_y, c.logits["fit_bert"])
    c.logits["fit"] = c.logits_of(fit_ids, c.logits["fit_bert"], c.logits.get("fit_char"))
    c.temperature = fit_temperature(c.logits["fit"], fit_y)
    if config.heldout and config.author_offsets:  # on unseen works only: in-book blocks are balanced by design
        authors = [c.labels.index(a) for a in config.author_labels]
        c.offsets = fit_author_offsets(c.logits["fit"], fit_y, c.temperature, authors)
        c.logits["fit"] = c.weighed(c.logits["fit"])
    if config.heldout:
        _fit_open_set(c)
        _fit_order(c)
        _fit_keywords(c)
        _fit_coherence(c)
    # the partner's and the coherence reader's files beside the whowrote.json that describes them
    update_model_meta(files.model, temperature=c.temperature, open_set=c.open_set.to_dict(),
                      label_offsets=None if c.offsets is None else c.offsets.tolist(),
                      length_temperatures=c.length_temperatures,
                      partner=c.partner.save(files.model) if c.partner else None,
                      coherence=c.coherence_reader.save(files.model) if c.coherence_reader else None)
    return c


def _fit_open_set(c: Calibrated) -> None:
    """The "neither" thresholds (one window), and each length's temperature and threshold,
    fitted on texts cut from the calibration half as the judge cuts them."""
    config, labels, b = c.config, c.labels, c.background_index
    authors = [i for i in range(len(labels)) if i != b]
    taus = {}
    if b is not None:
        _, p_neither, _ = split_probs(softmax(c.logits["fit"], c.temperature), labels, config.background)
        taus = fit_thresholds(p_neither, c.windows["fit"][1], authors, config.open_set_max_flagged, config.open_set_rule, b)
    c.length_temperatures, tables = fit_lengths(
        judged_texts(c.prep, "calib", c.logits_of, c.temperature), authors, b, config.open_set_max_flagged, c.prep.width,
        taus, config.open_set_rule)
    if b is not None:
        c.open_set = OpenSet.fitted(config.background, labels, taus, tables)


def _fit_order(c: Calibrated) -> None:
    """Each author's word-order threshold (`wordorder.py`) on its calibration windows of prose
    that the judge gives to it: at most `order_max_flagged` of them under it (as each author
    has its own "neither" threshold), and no higher than it takes to flag all but that share of
    the same windows made word salad (their words shuffled with the run's seed). Kept only
    where it flags at least half of the salad: a model that never learnt an author's word
    order reads both alike, and the check would flag the author for nothing."""
    config, labels = c.config, c.labels
    if c.background_index is None or not config.order_max_flagged:
        return
    ids, y = c.windows["fit"]
    truth = np.array([labels[i] for i in y])
    vocab = word_pieces(c.tokenizer)
    mine = (truth != config.background) & (np.array(decide(softmax(c.logits["fit"], c.temperature), labels, c.open_set)) == truth)
    mine &= prose_rows(ids, vocab)  # as the judge checks prose only
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


def _fit_keywords(c: Calibrated) -> None:
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
    ids, y = c.windows["fit"]
    truth = np.array([labels[i] for i in y])
    vocab = word_pieces(c.tokenizer)
    decisions = np.array(decide(softmax(c.logits["fit"], c.temperature), labels, c.open_set))
    prose = prose_rows(ids, vocab)
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
        tau = fit_keyword_threshold(gains, stuffed_gains, config.keyword_max_flagged)
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


def _training_books(prep, label: int) -> list[np.ndarray]:
    """A label's training blocks, joined book by book."""
    stream, works = prep.streams[label], prep.streams[label].block_works
    books: dict[int, list[np.ndarray]] = {}
    for k in prep.parts[label]["train"]:
        books.setdefault(int(works[k]), []).append(stream.tokens[slice(*stream.blocks[k])])
    return [np.concatenate(v) for _, v in sorted(books.items())]


def _fit_coherence(c: Calibrated) -> None:
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
    books = [book for label in range(len(labels)) for book in _training_books(c.prep, label)]
    prose, chains = coh.training_windows(books, vocab, c.prep.width, COHERENCE_PER_BOOK, rng,
                                         Typos(c.tokenizer, 1.0))
    if not prose:
        return
    reader = coh.CoherenceReader.fit(coh.pretrained_encoder(resolve_model_path(config.model)), prose, chains, c.tokenizer,
                                     config.seed)
    ids, y = c.windows["fit"]
    truth = np.array([labels[i] for i in y])
    given = np.array(decide(softmax(c.logits["fit"], c.temperature), labels, c.open_set)) == truth
    is_prose = prose_rows(ids, vocab)
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
