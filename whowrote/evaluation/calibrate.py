"""Fit what the judge applies on top of a trained model, on calibration windows only, and
write it into model/whowrote.json: the char partner and its mix with BERT, the temperature,
the authors' offsets (equal priors among them, `metrics.fit_author_offsets`), the "neither"
thresholds, each text length's temperature and threshold, and the judge's checks (`checkfits.py`:
repetition, word order, keywords, coherence), each with the likelihood ratio its flag weighs S by. The one writer
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
from ..hardware import fast_bf16
from ..layout import RunFiles
from ..model.metrics import fit_author_offsets, fit_temperature, log_softmax, predict_logits, softmax, weigh_authors
from ..model.openset import OpenSet, fit_thresholds, split_probs
from ..model.partner import CharPartner, window_texts
from ..training.runfolder import check_run_dir, update_model_meta
from .checkfits import fit_coherence, fit_keywords, fit_order, fit_repetition
from .lengths import fit_lengths, judged_texts

HELDOUT_WINDOWS_PER_WORK = 150  # evenly spaced disjoint windows per held-out work and half
# evenly spaced in-book validation and test windows per label: the 38 background books' 3.8M
# tokens would give 3,000 of each, minutes of scoring on a CPU for the least telling number
IN_BOOK_WINDOWS_PER_LABEL = 600


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
    repetition: dict = field(default_factory=dict)  # the repetition check's fit, for the report
    order: dict = field(default_factory=dict)  # the word-order check's fit, for the report
    keywords: dict = field(default_factory=dict)  # the keyword check's fit, for the report
    coherence: dict = field(default_factory=dict)  # the coherence check's fit, for the report
    coherence_reader: Any = None  # model/coherence.py's CoherenceReader, where fitted

    @property
    def labels(self) -> list[str]:
        return self.prep.labels

    @property
    def precision(self) -> str:
        """How BERT reads the windows: as the judge reads them on this machine (`Judge(precision="auto")`),
        bf16 where the hardware runs it natively, in fp32 elsewhere."""
        return "bf16" if fast_bf16(next(self.model.parameters()).device) else "fp32"

    def bert_logits(self, ids: np.ndarray) -> np.ndarray:
        return predict_logits(self.model, ids, progress=self.progress, bf16=self.precision == "bf16")

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
        fit_repetition(c)
        fit_order(c)
        fit_keywords(c)
        fit_coherence(c)
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
