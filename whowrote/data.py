"""From a Config to ready arrays: books -> cleaned text -> token streams -> no-leak split.

`prepare` is the one way the trainer, the evaluator, the judge's tests and the comparison
get their data, so all of them see the same blocks and the same held-out windows.

    python -c "from whowrote.data import prepare; from whowrote.config import resolve; \
from whowrote.model import load_tokenizer; c = resolve('cpu', data_dir='../shared/corpora'); \
print(prepare(c, load_tokenizer(c.model)).summary())"
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import books as books_mod
from .config import Config
from .split import (PARTS, LabelStream, assign_blocks, build_stream, disjoint_windows, fold_parts, kfold_blocks,
                    with_special_tokens)


@dataclass
class Prepared:
    config: Config
    labels: list[str]
    streams: list[LabelStream]
    parts: list[dict[str, np.ndarray]]  # per label: part -> block indices
    books: list[dict]  # one record per book: label, source, path, sha256, words, tokens
    cls_id: int
    sep_id: int

    @property
    def width(self) -> int:
        """Content tokens per window: seq_len minus [CLS] and [SEP]."""
        return self.config.seq_len - 2

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
        return out


def load_books(config: Config, tokenizer, download: bool = True):
    """Cleaned texts per label, plus one provenance record per book."""
    loaded = books_mod.load_labels(config.sources, config.data_dir, download)
    records = []
    for label, items in loaded.items():
        for book in items:
            records.append({
                "label": label, "source": book.source, "path": str(book.path), "sha256": book.raw_sha256,
                "words": len(book.text.split()), "gutenberg_markers": book.had_markers,
            })
    return loaded, records


def prepare(config: Config, tokenizer, download: bool = True) -> Prepared:
    loaded, records = load_books(config, tokenizer, download)
    streams, parts = [], []
    i = 0
    for label_id, (label, items) in enumerate(loaded.items()):
        stream = build_stream(label, [b.text for b in items], tokenizer, config.block_len, config.seq_len - 2)
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
    return Prepared(config, list(loaded), streams, parts, records, tokenizer.cls_token_id, tokenizer.sep_token_id)
