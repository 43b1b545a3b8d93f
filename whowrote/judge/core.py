"""The judge: S = P(label | text) for any text, calibrated, from a trained run or model folder.

A text first gets exactly the normalisation the model's training text had (typography,
and proper names masked, as recorded in model/whowrote.json), then is cut into token
windows of the run's seq_len (stride: half a window, the last one aligned to the end).
Offsets always point into the text as given. Each window gets temperature-scaled
log-probabilities (of BERT's logits, or of their mix with a char n-gram model's reading of
the same tokens where the model folder has one: `model/partner.py`); the text's score is
their mean, renormalised: P(c) ∝ exp(mean_w log
p_w(c) / T_len) — the geometric mean of the windows' probabilities, so one odd window cannot
outvote a consistent text, sharpened by a temperature fitted for texts of its length
(`evaluation/lengths.py`; 1 for one window). With a background label, `probs` covers the authors only
(P(author | by one of them)), `p_neither` is P(background), and the label is "neither"
when p_neither reaches the run's fitted threshold for a text of its length and for the
author it would otherwise be given (`model/openset.py`: each author has its own), or
when the text reads as its author no better than its words shuffled, or only for the author's
favourite words, or does not hang together beyond pairs of words, or says one thing over and
over (`judge/checks.py`). Windows
from many texts are sorted by length and batched with dynamic padding under
torch.inference_mode, in bf16 where the hardware runs it natively (precision="auto"; "int8":
dynamic quantisation of the linear layers, on request only).
Long files are read in chunks, never whole.

    from whowrote import Judge
    judge = Judge.load("runs/cpu-20261126-120000")
    judge.score(["Once upon a midnight dreary..."])[0].probs["edgar"]
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch

from ..config import JUDGE_PRECISIONS, window_tokens
from ..errors import WhowroteError
from ..hardware import fast_bf16
from ..model.bert import padded_batches
from ..model.metrics import log_softmax, softmax, weigh_authors
from ..model.openset import NEITHER, OpenSet, decide_split, for_length, split_probs
from ..model.wordorder import WindowSample
from ..text.headings import closing_remark, opening_headings
from ..text.names import unshouted
from ..text.normalise import Spec, normalise
from .checks import SHORT_TOKENS, check_coherence, check_keywords, check_order, check_repetition
from .english import MIN_ENGLISH, count_english
from .loading import int8_copy, model_parts
from .records import Record, Score, read_error

FLUSH_WINDOWS = 512  # windows collected before a batch pass: enough to sort by length well


class _Tally:
    def __init__(self, record: Record, n_labels: int, details: bool):
        self.record, self.windows, self.tokens = record, 0, 0
        self.logp_sum = np.zeros(n_labels)
        self.words = self.english = 0  # in the text as given, before the spelling repair (judge/english.py)
        self.details = [] if details else None
        self.error = record.error
        self.sample = WindowSample()  # read again by the judge's checks (judge/checks.py)

    def count_words(self, chunks: Iterable[str]) -> Iterator[str]:
        """The chunks, passed on as they are read, their words counted."""
        for chunk in chunks:
            words, english = count_english(chunk)
            self.words, self.english = self.words + words, self.english + english
            yield chunk


class Judge:
    def __init__(self, model, tokenizer, labels: list[str], seq_len: int, temperature: float = 1.0,
                 stride: int | None = None, batch_size: int = 32, device: str | None = None, precision: str = "auto",
                 normalise: Spec | None = None, open_set: OpenSet | None = None,
                 length_temperatures: list[list[float]] | None = None, partner=None, read_headings: bool = False,
                 order_check: bool = True, keyword_check: bool = True, coherence=None, coherence_check: bool = True,
                 label_offsets: list[float] | None = None, repetition_check: bool = True):
        self.model, self.tokenizer, self.labels = model, tokenizer, labels
        # False: the heading lines that open a text (a generator's title, "Chapter 1") are not read
        self.read_headings = read_headings
        self.partner = partner  # a CharPartner read beside BERT (model/partner.py), or None: BERT alone
        self.seq_len, self.temperature = seq_len, temperature
        # log-odds that weigh the authors against each other, P(neither) untouched (metrics.weigh_authors);
        # None (older model folders): as the model has them
        self.label_offsets = None if label_offsets is None else np.asarray(label_offsets, dtype=np.float64)
        if self.label_offsets is not None and self.label_offsets.shape != (len(labels),):
            raise WhowroteError(f"label_offsets has {self.label_offsets.size} values for {len(labels)} labels")
        # [[tokens, T], ...]: a text shorter or longer than a window rescales its mean log-probability by the
        # T for a text's length, interpolated between fitted lengths (evaluation/lengths.py); [] -> 1
        self.length_temperatures = length_temperatures or []
        self.normalise = normalise or Spec(names="keep")
        self.open_set = open_set or OpenSet()
        # the word-order check (model/wordorder.py) where the model folder has its threshold; False: off
        self.order_check = order_check and bool(self.open_set.order_thresholds)
        # the keyword check (model/keywords.py) likewise
        self.keyword_check = keyword_check and bool(self.open_set.keyword_thresholds)
        # the repetition check (model/repetition.py) likewise
        self.repetition_check = repetition_check and bool(self.open_set.repetition_thresholds)
        # the coherence check (model/coherence.py): the pretrained encoder's first layers, or None
        self.coherence = coherence if coherence_check and self.open_set.coherence_thresholds else None
        self.author_labels = split_probs(np.zeros((0, len(labels))), labels, self.open_set.background)[2]
        self.stride = stride or max(1, self.window // 2)
        self.batch_size = batch_size
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model.to(self.device).eval()
        if self.coherence is not None:
            self.coherence.encoder.to(self.device)
        if precision not in JUDGE_PRECISIONS:
            raise WhowroteError(f"precision must be one of {', '.join(JUDGE_PRECISIONS)}, not {precision!r}")
        self.bf16 = precision == "bf16" or (precision == "auto" and fast_bf16(self.device))
        # int8 is never chosen by "auto": on the README's runs it changed 2.1-3.5% of the labels
        # (mean |dP| 0.019-0.028) against fp32, more than the 0.5% / 0.01 the judge allows itself;
        # where the CPU has VNNI it was 2x faster than fp32 (benchmarks/judge_speed.py)
        self.scoring_model = int8_copy(self.model, self.device) if precision == "int8" else self.model
        self.precision = "int8" if precision == "int8" else ("bf16" if self.bf16 else "fp32")

    @property
    def checks_on(self) -> bool:
        """Whether any check reads a text's window sample again."""
        return self.repetition_check or self.order_check or self.keyword_check or self.coherence is not None

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16)

    @classmethod
    def load(cls, path: str | Path, **kwargs) -> "Judge":
        """From a run folder (uses RUN/model) or a model folder; applies its fitted temperature."""
        return cls(**model_parts(path), **kwargs)

    # --- windows -------------------------------------------------------------------------
    def encode(self, texts: list[str], base: int = 0, read_headings: bool | None = None, last: bool = True
               ) -> list[tuple[list[int], list[tuple[int, int]]]]:
        """(token ids, character offsets into each text as given) after the model's
        normalisation, less the framing a generator sets around a text unless `read_headings`
        (None: the judge's own setting, True: a book read whole, as training read it): its
        preamble and heading lines where the text opens (`base` 0: the text's first chunk),
        its closing remark where it ends (`last`: the text's last chunk); one tokenizer call
        for all texts. A text set all in capitals is read lower-cased (`names.unshouted`)."""
        normalised = [normalise(unshouted(t), self.normalise) for t in texts]
        if not (self.read_headings if read_headings is None else read_headings):
            if base == 0:
                normalised = [n.replace([(0, k, "")]) if (k := opening_headings(n.text)) else n for n in normalised]
            if last:
                normalised = [n.replace([(k, len(n.text), "")]) if (k := closing_remark(n.text)) < len(n.text) else n
                              for n in normalised]
        enc = self.tokenizer([n.text for n in normalised], add_special_tokens=False, return_offsets_mapping=True,
                             verbose=False)
        out = []
        for n, ids, offsets in zip(normalised, enc["input_ids"], enc["offset_mapping"]):
            spans = [n.original_span(s, e) for s, e in offsets]
            out.append((ids, [(s + base, e + base) for s, e in spans]))
        return out

    def _encoded_chunks(self, chunks: Iterable[str]):
        """Each chunk encoded as read; the last two together, and known to be last, so that a
        closing remark cut between them is still set aside."""
        base, held = 0, []
        for chunk in chunks:
            held.append(chunk)
            if len(held) == 3:
                first = held.pop(0)
                yield self.encode([first], base, last=False)[0]
                base += len(first)
        if held:
            yield self.encode(["".join(held)], base)[0]

    def windows(self, chunks: Iterable[str] = (), encoded=None) -> Iterator[tuple[list[int], int, int, int]]:
        """(token ids, start char, end char, tokens read so far) of each window, reading
        chunks only as needed, so a long file is never held whole. `encoded`: the text's
        (ids, offsets), already tokenised."""
        ids, offsets, pos, emitted = [], [], 0, False
        c = self.window
        for new_ids, new_offsets in ([encoded] if encoded is not None else self._encoded_chunks(chunks)):
            ids += new_ids
            offsets += new_offsets
            while len(ids) >= c + self.stride:  # keep a full window behind, to align the last one
                yield ids[:c], offsets[0][0], offsets[c - 1][1], pos + c
                emitted = True
                del ids[: self.stride], offsets[: self.stride]
                pos += self.stride
        if len(ids) >= c:
            yield ids[:c], offsets[0][0], offsets[c - 1][1], pos + c
            if len(ids) > c:
                yield ids[-c:], offsets[-c][0], offsets[-1][1], pos + len(ids)
        elif ids and not emitted:
            yield ids, offsets[0][0], offsets[-1][1], len(ids)

    # --- scoring -------------------------------------------------------------------------
    @property
    def window(self) -> int:
        """Content tokens a window holds (`config.window_tokens`)."""
        return window_tokens(self.seq_len)

    @property
    def content(self) -> int:
        warnings.warn("Judge.content is deprecated; use Judge.window", DeprecationWarning, stacklevel=2)
        return self.window

    @property
    def bert_temperature(self) -> float:
        """The temperature of BERT's own logits (with a partner, its temperature in the mix)."""
        return self.partner.bert_temperature if self.partner else self.temperature

    def log_probs(self, windows: list[list[int]]) -> np.ndarray:
        """Calibrated log-probabilities, one row per window: BERT's logits, or their mix with
        the char partner's reading of the same tokens, at the run's temperature, the authors
        weighed by the fitted offsets."""
        logits = self.logits(windows)
        if self.partner is not None:
            logits = self.partner.mix(logits, self.partner.window_logits(self.tokenizer, windows))
        background = self.labels.index(self.open_set.background) if self.open_set.background in self.labels else None
        return weigh_authors(log_softmax(logits, self.temperature), self.label_offsets, background)

    @torch.inference_mode()
    def logits(self, windows: list[list[int]]) -> np.ndarray:
        """BERT's logits, one row per window (content tokens), batched by length."""
        out = np.zeros((len(windows), len(self.labels)))
        for idx, ids, mask in padded_batches(windows, self.tokenizer, self.batch_size):
            with self._autocast():
                logits = self.scoring_model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits
            out[idx] = logits.float().cpu().numpy().astype(np.float64)
        return out

    def score_records(self, records: Iterable[Record], details: bool = False, progress=None) -> Iterator[Score]:
        """Scores in input order; a bad record yields a Score with `error`, the rest go on."""
        finished: list[_Tally] = []
        pending: list[tuple[_Tally, list[int], int, int]] = []

        def flush():
            if pending:
                logp = self.log_probs([w for _, w, _, _ in pending])
                for (tally, w, start, end), lp in zip(pending, logp):
                    tally.logp_sum += lp
                    if self.checks_on:
                        tally.sample.add(w, lp)
                    if tally.details is not None:
                        tally.details.append(self._window_detail(np.exp(lp), w, start, end))
                if progress is not None:
                    progress.update(len(pending))
                pending.clear()

        for record, encoded in self._pre_encoded(records):
            tally = _Tally(record, len(self.labels), details)
            if not tally.error:
                try:
                    chunks = tally.count_words(record.chunks)
                    if encoded is not None:  # tokenised already: count its words now
                        chunks = list(chunks)
                    for w, start, end, tokens_read in self.windows(chunks, encoded):
                        tally.windows += 1
                        tally.tokens = tokens_read
                        pending.append((tally, w, start, end))
                        if len(pending) >= FLUSH_WINDOWS * 4:  # a huge text: score as we read
                            flush()
                except (UnicodeDecodeError, OSError) as exc:
                    tally.error = read_error(record, exc)
                    pending[:] = [p for p in pending if p[0] is not tally]
                if not tally.error and tally.windows == 0:
                    tally.error = "empty text (nothing but whitespace)"
            finished.append(tally)
            if len(pending) >= FLUSH_WINDOWS:
                flush()
                yield from self._results(finished)
                finished.clear()
        flush()
        yield from self._results(finished)

    def _verdict(self, p: np.ndarray, tokens: int | None = None) -> tuple[str, dict[str, float], float | None]:
        """(label, author probabilities, P(neither) or None) from one row over every label,
        for a text of `tokens` tokens (its length picks the "neither" threshold)."""
        authors, p_neither, names = split_probs(p[None], self.labels, self.open_set.background)
        label = decide_split(authors, p_neither, names, self.open_set, tokens)[0]
        return (label, {l: float(v) for l, v in zip(names, authors[0])},
                float(p_neither[0]) if self.open_set.background else None)

    def _window_detail(self, p: np.ndarray, window: list[int], start: int, end: int) -> dict:
        label, probs, p_neither = self._verdict(p)
        out = {"start_char": start, "end_char": end, "tokens": len(window), "label": label, "probs": probs}
        if p_neither is not None:
            out["p_neither"] = p_neither
        return out

    def _pre_encoded(self, records: Iterable[Record], group: int = 64):
        """(record, encoded or None): texts held in memory are tokenised 64 at a time, one
        call for many (on a GPU, one call per text would cost more than the model)."""
        batch: list[Record] = []

        def emit():
            texts = [r for r in batch if isinstance(r.chunks, (list, tuple)) and not r.error]
            enc = {}
            if texts:
                enc = {id(r): e for r, e in zip(texts, self.encode(["".join(r.chunks) for r in texts]))}
            yield from ((r, enc.get(id(r))) for r in batch)
            batch.clear()

        for record in records:
            if isinstance(record.chunks, (list, tuple)):
                batch.append(record)
                if len(batch) >= group:
                    yield from emit()
            else:  # a stream keeps its place in the order: first whatever is waiting
                yield from emit()
                yield record, None
        yield from emit()

    def _results(self, tallies: list[_Tally]) -> list[Score]:
        scores = [self._result(t) for t in tallies]
        if self.repetition_check:
            check_repetition(self, tallies, scores)
        if self.coherence is not None:
            check_coherence(self, tallies, scores)
        if self.order_check:
            check_order(self, tallies, scores)
        if self.keyword_check:
            check_keywords(self, tallies, scores)
        return scores

    def _result(self, tally: _Tally) -> Score:
        rec = tally.record
        if tally.error:
            return Score(rec.id, extra=rec.extra, error=tally.error)
        # mean log-probability, renormalised, at the temperature fitted for texts of this length
        t = for_length(self.length_temperatures, tally.tokens, 1.0)
        label, probs, p_neither = self._verdict(softmax((tally.logp_sum / tally.windows)[None], t)[0], tally.tokens)
        flags = ["short"] if tally.tokens < SHORT_TOKENS else []
        if tally.english < MIN_ENGLISH * tally.words or not tally.words:
            flags.append("not-english")
            if self.open_set.method == "background":
                label = NEITHER
        # the threshold for the author the text would otherwise be given (rule "author": each has its own)
        threshold = (self.open_set.threshold_for(tally.tokens, max(probs, key=probs.get))
                     if self.open_set.method == "background" else None)
        return Score(rec.id, label, probs, p_neither, threshold, tally.windows, tally.tokens, flags, tally.details,
                     rec.extra)

    def rolling(self, text: str, **settings):
        """P(label) along the text, smoothed, with headings and change points (whowrote.judge.rolling)."""
        from .rolling import rolling

        return rolling(self, text, **settings)

    def score(self, texts: str | list[str], ids: list[str] | None = None, details: bool = False) -> list[Score]:
        """Score strings; returns one Score per text, in order."""
        if isinstance(texts, str):
            texts = [texts]
        ids = [str(i) for i in range(len(texts))] if ids is None else list(ids)
        if len(ids) != len(texts):
            raise WhowroteError(f"score: {len(texts)} texts but {len(ids)} ids")
        return list(self.score_records((Record(i, [t]) for i, t in zip(ids, texts)), details=details))
