"""From a Config to ready arrays: books -> normalised text -> token streams -> no-leak split.

Training works are cut into blocks split train/val/test (in-book numbers); held-out works
(`config.heldout`) into "calib" (temperature, open-set threshold) and "test" (numbers on
works never trained on).

`prepare` is the one way the trainer, the evaluator, the judge's tests and the comparison
get their data, so all of them see the same blocks and the same held-out windows.

    python -c "from whowrote.data.prepare import prepare; from whowrote.config import resolve; \
from whowrote.model.bert import load_tokenizer; c = resolve('cpu', data_dir='../shared/corpora'); \
print(prepare(c, load_tokenizer(c.model)).summary())"
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..config import Config
from ..text import books as books_mod
from ..text.background import BACKGROUND_BOOKS
from ..text.normalise import DEFAULT_PLACEHOLDER, Spec, normalise
from ..text.overlap import Overlap
from .split import (
    PARTS,
    LabelStream,
    assign_blocks,
    build_stream,
    disjoint_starts,
    disjoint_windows,
    disjoint_windows_by_work,
    fold_parts,
    judged_spans,
    kfold_blocks,
    with_special_tokens,
)
from .split import unseen_parts as unseen_parts_of

# Names every label meets alike in training (with the character names of each label's
# books), so a name that escapes the masking carries no author.
NEUTRAL_NAMES = "John Mary Tom Anne James Lucy Henry Jane William Emma George Kate Charles Ellen Paris London".split()
TOP_NAMES_PER_LABEL = 20


@dataclass
class Prepared:
    config: Config
    labels: list[str]
    streams: list[LabelStream]
    parts: list[dict[str, np.ndarray]]  # per label: part -> block indices
    books: list[dict]  # one record per book: label, source, role, path, sha256, words, tokens
    cls_id: int
    sep_id: int
    unseen: list[LabelStream | None] = field(default_factory=list)  # per label: its held-out works
    unseen_parts: list[dict[str, np.ndarray] | None] = field(default_factory=list)  # "calib"/"test" -> blocks
    swap_names: list[list[int]] = field(default_factory=list)  # token ids of the names for name swap
    mask_id: int | None = None
    top_names: dict[str, list[str]] = field(default_factory=dict)  # label -> its books' most frequent names
    texts: list[list[str]] = field(default_factory=list)  # per label, per training book: the normalised text
    unseen_texts: list[list[str] | None] = field(default_factory=list)  # per label, per held-out book
    tokenizer: object = None
    _offsets: dict = field(default_factory=dict, repr=False)

    @property
    def width(self) -> int:
        """Content tokens per window: seq_len minus [CLS] and [SEP]."""
        return self.config.window

    def windows(self, part: str, limit_per_class: int | None = None, width: int | None = None):
        """Disjoint windows of `part` for every label: (input_ids [n, seq_len], labels [n])."""
        width = width or self.width
        rows, labels = [], []
        for label_id, (stream, parts) in enumerate(zip(self.streams, self.parts)):
            w = disjoint_windows(stream, parts[part], width, limit_per_class)
            rows.append(w)
            labels += [label_id] * len(w)
        ids = with_special_tokens(np.concatenate(rows), self.cls_id, self.sep_id)
        return ids, np.array(labels, np.int64)

    def window_texts(self, part: str, limit_per_class: int | None = None) -> list[str]:
        """The text each window of `windows(part, limit_per_class)` spans, as normalised but
        not tokenised (case, punctuation and spacing kept; names masked): what a classical
        method should see of the same passage."""
        out = []
        for stream, parts, texts in zip(self.streams, self.parts, self.texts):
            out += self._spans(stream, texts, disjoint_starts(stream, parts[part], self.width, limit_per_class)[0])
        return out

    def unseen_window_texts(self, part: str, limit_per_work: int | None = None) -> list[str]:
        """The text of each window of `unseen_windows(part, limit_per_work)`, as window_texts."""
        out = []
        for stream, parts, texts in zip(self.unseen, self.unseen_parts, self.unseen_texts):
            if stream is not None:
                out += self._spans(stream, texts, disjoint_starts(stream, parts[part], self.width, limit_per_work, True)[0])
        return out

    def _spans(self, stream: LabelStream, texts: list[str], starts: np.ndarray) -> list[str]:
        book_starts = np.concatenate([[0], np.cumsum(stream.book_tokens)])
        out = []
        for s in starts:
            book = int(np.searchsorted(book_starts, s, side="right") - 1)
            offsets = self._book_offsets(texts[book], stream.book_tokens[book])
            local = s - book_starts[book]
            out.append(texts[book][offsets[local][0]:offsets[local + self.width - 1][1]])
        return out

    def _book_offsets(self, text: str, n_tokens: int) -> list[tuple[int, int]]:
        key = hash(text)
        if key not in self._offsets:
            enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
            if len(enc["input_ids"]) != n_tokens:
                raise AssertionError("the tokenizer split a book differently from its cached tokens")
            self._offsets[key] = enc["offset_mapping"]
        return self._offsets[key]

    def unseen_windows(self, part: str, limit_per_work: int | None = None):
        """Disjoint windows of the held-out works' `part` ("calib" or "test"):
        (input_ids [n, seq_len], labels [n], source of each window's work)."""
        rows, labels, works = [], [], []
        for label_id, (stream, parts) in enumerate(zip(self.unseen, self.unseen_parts)):
            if stream is None:
                continue
            w, work_idx = disjoint_windows_by_work(stream, parts[part], self.width, limit_per_work, per_work=True)
            sources = self.config.heldout[stream.label]
            rows.append(w)
            labels += [label_id] * len(w)
            works += [sources[i] for i in work_idx]
        if not rows:
            return np.zeros((0, self.config.seq_len), np.int64), np.zeros(0, np.int64), []
        return with_special_tokens(np.concatenate(rows), self.cls_id, self.sep_id), np.array(labels, np.int64), works

    def unseen_judged_texts(self, part: str, lengths: list[int], blocks_per_work: dict[str, int | None]):
        """Contiguous texts of each of `lengths` content tokens in the held-out works' `part`,
        each cut into windows as the judge cuts a text (`split.judged_spans`), from the labels
        in `blocks_per_work` (label -> at most that many blocks of each work; None: all):
        (input_ids of every distinct window [m, seq_len], {length: (each text's rows into
        them, labels [n], source of each text's work)})."""
        ids, out = [], {n: ([], [], []) for n in lengths}
        for label_id, (stream, parts) in enumerate(zip(self.unseen, self.unseen_parts)):
            if stream is None or stream.label not in blocks_per_work:
                continue
            starts, spans = judged_spans(stream, parts[part], lengths, self.width, max(1, self.width // 2),
                                         blocks_per_work[stream.label])
            offset = sum(len(x) for x in ids)
            ids.append(np.stack([stream.tokens[s:s + self.width] for s in starts]) if len(starts)
                       else np.zeros((0, self.width), np.int32))
            sources = self.config.heldout[stream.label]
            for n, (rows, works) in spans.items():
                out[n][0].extend(r + offset for r in rows)
                out[n][1].extend([label_id] * len(rows))
                out[n][2].extend(sources[w] for w in works)
        windows = np.concatenate(ids) if ids else np.zeros((0, self.width), np.int32)
        return (with_special_tokens(windows, self.cls_id, self.sep_id),
                {n: (rows, np.array(labels, np.int64), works) for n, (rows, labels, works) in out.items()})

    def summary(self) -> dict:
        """Split sizes per label, for config.json and the model card."""
        out = {}
        for stream, parts in zip(self.streams, self.parts):
            out[stream.label] = {
                "tokens": int(len(stream.tokens)),
                "blocks": {p: int(len(parts[p])) for p in PARTS},
                "tokens_per_part": {
                    p: int(sum(stream.blocks[b][1] - stream.blocks[b][0] for b in parts[p])) for p in PARTS
                },
                "disjoint_windows": {
                    p: int(len(disjoint_windows(stream, parts[p], self.width))) for p in PARTS
                },
            }
        for stream, parts in zip(self.unseen, self.unseen_parts):
            if stream is not None:
                out[stream.label]["heldout"] = {
                    "works": self.config.heldout[stream.label], "tokens": int(len(stream.tokens)),
                    "disjoint_windows": {p: int(len(disjoint_windows(stream, parts[p], self.width))) for p in parts},
                }
        return out


def normalise_spec(config: Config, tokenizer) -> Spec:
    """The normalisation for this config and tokenizer: names become its mask token."""
    return Spec(names=config.names, placeholder=tokenizer.mask_token or tokenizer.unk_token or DEFAULT_PLACEHOLDER,
                spelling=config.spelling, capitals=config.spelling)


def load_books(config: Config, tokenizer, download: bool = True, heldout: bool = False, spec: Spec | None = None):
    """Normalised texts per label (training works, or with `heldout` the held-out ones),
    one provenance record per book, and the names masked in each label's books. `spec`:
    the normalisation (default: this config's, `normalise_spec`)."""
    sources = config.heldout if heldout else config.sources
    loaded = books_mod.load_labels(sources, config.data_dir, download)
    spec = spec or normalise_spec(config, tokenizer)
    texts, records, names = {}, [], {}
    for label, items in loaded.items():
        done = [_normalised_book(b.text, spec) for b in items]
        texts[label] = [text for text, _ in done]
        names[label] = [n for _, found in done for n in found]
        for book in items:
            known = books_mod.manifest(book.path.parent).get(books_mod.ebook_id(book.source), {})
            records.append({
                "label": label, "source": book.source, "role": "heldout" if heldout else "train", "path": str(book.path),
                "author": known.get("author", ""), "title": known.get("title", ""), "year": _year(known, book.source),
                "sha256": book.raw_sha256, "words": len(book.text.split()), "gutenberg_markers": book.had_markers,
            })
    return texts, records, names


def _year(known: dict, source: str) -> int | None:
    """A book's year of first publication: its MANIFEST row's, else the background table's."""
    try:
        return int(known["year"])
    except (KeyError, ValueError):
        return BACKGROUND_BOOKS.get(books_mod.ebook_id(source), (None, None))[1]


@lru_cache(maxsize=128)
def _normalised_book(text: str, spec: Spec) -> tuple[str, tuple[str, ...]]:
    """(normalised text, names masked) of one book, cached for the process: training
    prepares the data and then evaluates the run, and `compare` prepares every fold;
    normalising a million words again each time is seconds of work for nothing (hashing
    the text for the key takes milliseconds)."""
    found: list[str] = []
    return normalise(text, spec, track=False, names_found=found).text, tuple(found)


def top_names(names: dict[str, list[str]]) -> dict[str, list[str]]:
    """Each label's most frequent character names (as masked in its training books)."""
    return {label: [n for n, _ in Counter(found).most_common(TOP_NAMES_PER_LABEL)] for label, found in names.items()}


def swap_name_ids(top: dict[str, list[str]], tokenizer) -> list[list[int]]:
    """Token ids of each label's most frequent character names plus neutral ones."""
    pool = list(dict.fromkeys(NEUTRAL_NAMES + [n for found in top.values() for n in found]))
    ids = tokenizer(pool, add_special_tokens=False, verbose=False)["input_ids"]
    return [i for i in ids if i]


def drop_author_quotations(config: Config, texts: dict[str, list[str]], held: dict[str, list[str]],
                           records: list[dict]) -> int:
    """Cut out of the background's training books every run of 8 or more words that an
    author's books (trained on and held out) also have: a quotation of Poe in another
    author's novel must not teach "neither". Held-out books stay as published, as the judge
    reads them (a quotation there is scored as what it is). Each training book's record
    counts its words dropped ("quoted_words_dropped"); returns the total."""
    if not config.background or not texts.get(config.background):
        return 0
    authors = [t for table in (texts, held) for label, items in table.items() if label != config.background for t in items]
    overlap = Overlap(authors)
    mine = [r for r in records if r["label"] == config.background and r["role"] == "train"]
    cleaned = [overlap.drop(t) for t in texts[config.background]]
    for record, (_, dropped) in zip(mine, cleaned):
        record["quoted_words_dropped"] = dropped
    texts[config.background] = [t for t, _ in cleaned]
    return sum(d for _, d in cleaned)


def prepare(config: Config, tokenizer, download: bool = True, spec: Spec | None = None) -> Prepared:
    """The run's data. `spec`: the normalisation of an existing run (its model folder's,
    `runfolder.model_spec`), so that a run trained before a new rule is re-read as it was
    trained; None: this config's, for a new run."""
    texts, records, names = load_books(config, tokenizer, download, spec=spec)
    held_texts, held_records = {}, []
    if config.heldout:
        held_texts, held_records, _ = load_books(config, tokenizer, download, heldout=True, spec=spec)
    drop_author_quotations(config, texts, held_texts, records + held_records)
    streams, parts = [], []
    i = 0
    for label_id, (label, items) in enumerate(texts.items()):
        stream = build_stream(label, items, tokenizer, config.block_len, config.window, config.sources[label])
        for n in stream.book_tokens:
            records[i]["tokens"] = int(n)
            i += 1
        streams.append(stream)
        # Each label gets its own stream of the seed, so adding a label leaves others' splits as they were.
        label_seed = config.seed * 1000 + label_id
        if config.folds:
            folds = kfold_blocks(len(stream.blocks), config.folds, label_seed)
            parts.append(fold_parts(folds, config.fold, config.val_frac, label_seed))
        else:
            parts.append(assign_blocks(len(stream.blocks), config.val_frac, config.test_frac, label_seed))
    unseen, unseen_parts, unseen_texts = [None] * len(texts), [None] * len(texts), [None] * len(texts)
    if config.heldout:
        j = 0
        for label, items in held_texts.items():
            stream = build_stream(label, items, tokenizer, config.block_len, config.window, config.heldout[label])
            for n in stream.book_tokens:
                held_records[j]["tokens"] = int(n)
                j += 1
            k = config.labels.index(label)
            calib = config.calibration.get(label)
            calib_works = [w for w, src in enumerate(config.heldout[label]) if src in calib] if calib else None
            unseen[k], unseen_parts[k], unseen_texts[k] = stream, unseen_parts_of(stream, calib_works), items
        records += held_records
    mask_id = tokenizer.mask_token_id if config.names == "mask" else None
    top = top_names(names)
    return Prepared(config, list(texts), streams, parts, records, tokenizer.cls_token_id, tokenizer.sep_token_id,
                    unseen, unseen_parts, swap_name_ids(top, tokenizer) if mask_id is not None else [], mask_id, top,
                    list(texts.values()), unseen_texts, tokenizer)
