"""Token streams, a no-leak split into blocks, and the study's balanced batch sampler.

Each label's books are tokenised once (cached on disk, keyed by tokenizer and text hash)
and cut into contiguous blocks of `block_len` tokens that never cross a book. Whole blocks
go to train / validation / test, chosen from the seed but spread through every book. A
window never crosses a block, so no evaluation passage shares a token with a training one.

    python -c "from whowrote.data.split import assign_blocks; print(assign_blocks(20, .1, .1, 0))"
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import WhowroteError
from ..files import atomic_write, cache_root

PARTS = ("train", "val", "test")


def token_cache_dir() -> Path:
    return cache_root() / "tokens"


def tokenizer_fingerprint(tokenizer) -> str:
    """A hash that changes whenever the tokenizer would split text differently."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    spec = backend.to_str() if backend is not None else repr(sorted(tokenizer.get_vocab().items()))
    return hashlib.sha256(spec.encode()).hexdigest()[:16]


def tokenize_cached(text: str, tokenizer) -> np.ndarray:
    """Token ids of `text` (no special tokens) as int32, from the disk cache when possible."""
    key = hashlib.sha256((tokenizer_fingerprint(tokenizer) + "\0" + text).encode()).hexdigest()[:32]
    path = token_cache_dir() / f"{key}.npy"
    if path.is_file():
        try:
            return np.load(path)
        except (OSError, ValueError):
            pass  # a damaged cache entry is rebuilt below
    ids = np.asarray(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"], dtype=np.int32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.save(buf, ids)
        atomic_write(path, buf.getvalue())
    except OSError:
        pass  # the cache is an optimisation; a read-only home must not stop a run
    return ids


@dataclass
class LabelStream:
    """All tokens of one label, and its blocks as [start, end) offsets into `tokens`."""

    label: str
    tokens: np.ndarray
    blocks: list[tuple[int, int]]
    book_tokens: list[int] = field(default_factory=list)

    @property
    def block_works(self) -> np.ndarray:
        """Which book (index into book_tokens) each block lies in; blocks never cross books."""
        ends = np.cumsum(self.book_tokens) if self.book_tokens else np.array([len(self.tokens)])
        return np.searchsorted(ends, [s for s, _ in self.blocks], side="right")


def make_blocks(book_lengths: list[int], block_len: int, min_len: int) -> list[tuple[int, int]]:
    """Cut consecutive books into blocks of `block_len`; a book's tail joins its last block."""
    blocks, offset = [], 0
    for n in book_lengths:
        full = n // block_len
        if full == 0:
            if n >= min_len:
                blocks.append((offset, offset + n))
        else:
            blocks += [(offset + i * block_len, offset + (i + 1) * block_len) for i in range(full - 1)]
            blocks.append((offset + (full - 1) * block_len, offset + n))
        offset += n
    return blocks


def build_stream(label: str, texts: list[str], tokenizer, block_len: int, window: int,
                 sources: list[str] | None = None) -> LabelStream:
    """The label's books as one token stream cut into blocks. With `sources` (the books'
    names), a book shorter than one window is an error naming it: it would give no passage."""
    ids = [tokenize_cached(t, tokenizer) for t in texts]
    lengths = [len(a) for a in ids]
    short = [f"{s} ({n} tokens)" for s, n in zip(sources or [], lengths) if n < window]
    if short:
        raise WhowroteError(f"label '{label}': {', '.join(short)} shorter than one window of {window} tokens; "
                            f"leave it out or use a shorter --seq-len")
    if sum(lengths) < window:
        raise WhowroteError(
            f"label '{label}' has only {sum(lengths)} tokens, shorter than one window of {window}"
        )
    tokens = np.concatenate(ids) if ids else np.zeros(0, np.int32)
    return LabelStream(label, tokens, make_blocks(lengths, block_len, window), lengths)


def _stratified_pick(candidates: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Pick n of `candidates` (in book order), one from each of n equal consecutive strata."""
    if n <= 0:
        return np.zeros(0, dtype=int)
    return np.array([rng.choice(s) for s in np.array_split(candidates, n)], dtype=int)


def assign_blocks(n_blocks: int, val_frac: float, test_frac: float, seed: int) -> dict[str, np.ndarray]:
    """Block indices per part. Test and validation blocks are spread through the book, not
    taken from its end, so every part sees the same mix of chapters and genres."""
    if n_blocks < 3:
        raise WhowroteError(
            f"only {n_blocks} block(s): a train/validation/test split needs at least 3; "
            f"lower --block-len or add text"
        )
    rng = np.random.default_rng(seed)
    n_test = max(1, round(test_frac * n_blocks))
    n_val = max(1, round(val_frac * n_blocks))
    test = _stratified_pick(np.arange(n_blocks), n_test, rng)
    rest = np.setdiff1d(np.arange(n_blocks), test)
    val = _stratified_pick(rest, n_val, rng)
    train = np.setdiff1d(rest, val)
    return {"train": train, "val": np.sort(val), "test": np.sort(test)}


def kfold_blocks(n_blocks: int, k: int, seed: int) -> np.ndarray:
    """Fold id per block: every block is test exactly once; each run of k consecutive
    blocks holds one block of every fold, so folds are spread through the book."""
    if not 2 <= k <= n_blocks:
        raise WhowroteError(f"cannot make {k} folds from {n_blocks} blocks")
    rng = np.random.default_rng(seed)
    folds = np.concatenate([rng.permutation(k) for _ in range(-(-n_blocks // k))])[:n_blocks]
    return folds


def fold_parts(folds: np.ndarray, fold: int, val_frac: float, seed: int) -> dict[str, np.ndarray]:
    """Train/val/test block indices for one fold: test = that fold, val spread through the rest."""
    test = np.flatnonzero(folds == fold)
    rest = np.flatnonzero(folds != fold)
    val = np.sort(_stratified_pick(rest, max(1, round(val_frac * len(folds))), np.random.default_rng(seed + fold)))
    return {"train": np.setdiff1d(rest, val), "val": val, "test": test}


def unseen_parts(stream: LabelStream, calib_works: list[int] | None = None) -> dict[str, np.ndarray]:
    """Held-out works -> "calib" and "test" block indices. `calib_works` (indices into the
    label's held-out works) names the calibration works; without it, two or more works
    alternate (the test never shares a work with calibration) and one work's blocks alternate."""
    works = stream.block_works
    n_works = len(stream.book_tokens)
    blocks = np.arange(len(stream.blocks))
    if calib_works is not None:
        calib = np.isin(works, calib_works)
    elif n_works >= 2:
        calib = np.isin(works, np.arange(0, n_works, 2))
    else:
        calib = blocks % 2 == 0
    return {"calib": blocks[calib], "test": blocks[~calib]}


def disjoint_windows(stream: LabelStream, block_ids, width: int, limit: int | None = None) -> np.ndarray:
    """Non-overlapping windows of `width` tokens inside the given blocks, shape [n, width]."""
    return disjoint_windows_by_work(stream, block_ids, width, limit)[0]


def disjoint_starts(stream: LabelStream, block_ids, width: int, limit: int | None = None,
                    per_work: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(start token of each non-overlapping window of `width` inside the blocks, its work).
    `limit` caps the total, or with `per_work` each work's count, keeping evenly spaced
    windows so a capped set still spans the book."""
    works = stream.block_works
    starts, row_works = [], []
    for b in block_ids:
        start, end = stream.blocks[b]
        here = range(start, end - width + 1, width)
        starts += here
        row_works += [int(works[b])] * len(here)
    starts, row_works = np.array(starts, dtype=np.int64), np.array(row_works, dtype=int)
    if limit is not None:
        groups = [np.flatnonzero(row_works == w) for w in np.unique(row_works)] if per_work else [np.arange(len(starts))]
        keep = np.unique(np.concatenate([g[np.linspace(0, len(g) - 1, limit).round().astype(int)] if len(g) > limit else g
                                         for g in groups])) if len(starts) else np.zeros(0, int)
        starts, row_works = starts[keep], row_works[keep]
    return starts, row_works


def disjoint_windows_by_work(stream: LabelStream, block_ids, width: int, limit: int | None = None,
                             per_work: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(windows [n, width], work index of each); see disjoint_starts."""
    starts, works = disjoint_starts(stream, block_ids, width, limit, per_work)
    rows = [stream.tokens[s : s + width] for s in starts]
    return (np.stack(rows) if rows else np.zeros((0, width), np.int32)), works


def window_starts(n_tokens: int, width: int, stride: int) -> list[int]:
    """Where the judge's windows start in a text of `n_tokens` (as `Judge.windows` cuts it):
    every `stride` tokens while a full window and a stride remain, then one more, and a last
    one aligned to the end; a text shorter than a window is one short window."""
    if n_tokens <= width:
        return [0]
    starts = list(range(0, n_tokens - width - stride + 1, stride))
    pos = starts[-1] + stride if starts else 0
    starts.append(pos)
    if n_tokens - pos > width:
        starts.append(n_tokens - width)
    return starts


def judged_spans(stream: LabelStream, block_ids, lengths: list[int], width: int, stride: int,
                 blocks_per_work: int | None = None) -> tuple[np.ndarray, dict[int, tuple[list[np.ndarray], np.ndarray]]]:
    """Contiguous texts of each of `lengths` tokens inside the given blocks, each cut into
    windows as the judge cuts a text, so settings for longer texts are fitted on what the
    judge computes. At most `blocks_per_work` evenly spaced blocks of each work (None: all)
    are used, and every length takes all its non-overlapping spans from those same blocks:
    their windows fall on one grid and are scored once.
    Returns (start of every distinct window, {length: (each span's rows into those starts,
    each span's work)})."""
    works = stream.block_works
    chosen = []
    for w in np.unique(works[block_ids]) if len(block_ids) else []:
        mine = [b for b in block_ids if works[b] == w]
        if blocks_per_work is not None and len(mine) > blocks_per_work:
            mine = [mine[i] for i in np.linspace(0, len(mine) - 1, blocks_per_work).round().astype(int)]
        chosen += mine
    row_of: dict[int, int] = {}
    spans: dict[int, tuple[list[np.ndarray], list[int]]] = {n: ([], []) for n in lengths}
    for b in chosen:
        start, end = stream.blocks[b]
        for n in lengths:
            for s in range(start, end - n + 1, n):
                rows = [row_of.setdefault(s + k, len(row_of)) for k in window_starts(n, width, stride)]
                spans[n][0].append(np.array(rows))
                spans[n][1].append(int(works[b]))
    return np.array(list(row_of), dtype=np.int64), {n: (r, np.array(w, dtype=int)) for n, (r, w) in spans.items()}


def with_special_tokens(windows: np.ndarray, cls_id: int, sep_id: int) -> np.ndarray:
    n = len(windows)
    return np.concatenate(
        [np.full((n, 1), cls_id, np.int64), windows.astype(np.int64), np.full((n, 1), sep_id, np.int64)], axis=1
    )


class BalancedSampler:
    """Each draw: `per_class` random training windows per label (or a count per label),
    labels [0]*n0 + [1]*n1 + ...

    Works on the pre-tokenised arrays, so a step does no tokenising. With `by_work`, a
    window's work is drawn first, uniformly among the label's works, then its start
    uniformly within that work's training blocks: an author is learnt from all their
    works, not mostly from the longest. Otherwise the start is uniform over all the label's
    training tokens. Either way every label fills its share of the batch, whatever the sizes.
    `augment`: functions (window, rng) -> window applied in turn (whowrote.data.augment), drawing
    from this sampler's generator so a resumed run repeats them.
    `negatives`: (share, "authors" | "own", fn) made in the `background` label's slots: with
    that share, the slot takes a window of a random other label ("authors") or of its own,
    passed through fn (window, rng) -> window, and keeps the background's label. A fn with
    `takes` = k > 1 is given k windows of that one label instead (a list) and makes one.
    `work_weights`: per label, None or a weight for each of its works (with `by_work`): its
    works are drawn in proportion to them instead of alike.
    """

    def __init__(self, streams: list[LabelStream], train_blocks: list[np.ndarray], width: int,
                 per_class: int | list[int], seed: int, cls_id: int, sep_id: int, by_work: bool = False, augment=(),
                 background: int | None = None, negatives=(), work_weights: list | None = None):
        self.background, self.negatives = background, list(negatives)
        self.streams, self.width = streams, width
        # windows of each label per draw (one number: the same for every label)
        self.per_class = list(per_class) if isinstance(per_class, (list, tuple)) else [per_class] * len(streams)
        self.cls_id, self.sep_id = cls_id, sep_id
        self.augment = list(augment)
        self.rng = np.random.default_rng(seed)
        self.pools = []  # per label: per work (or one pool): (block starts, cumulative start counts)
        self.pool_p = []  # per label: None (pools drawn alike) or each pool's probability
        for k, (stream, blocks) in enumerate(zip(streams, train_blocks)):
            works = stream.block_works[blocks] if by_work else np.zeros(len(blocks), int)
            pools, pool_works = [], []
            for w in np.unique(works):
                spans = [stream.blocks[b] for b in np.asarray(blocks)[works == w]]
                counts = np.array([max(0, e - s - width + 1) for s, e in spans])
                if counts.sum():
                    pools.append((np.array([s for s, _ in spans]), np.cumsum(counts)))
                    pool_works.append(int(w))
            if not pools:
                raise WhowroteError(f"label '{stream.label}' has no training window of {width} tokens")
            self.pools.append(pools)
            weights = (work_weights or [None] * len(streams))[k] if by_work else None
            weights = None if weights is None else np.asarray(weights, float)[pool_works]
            self.pool_p.append(None if weights is None else weights / weights.sum())

    def _start(self, pool) -> int:
        starts, cum = pool
        k = int(self.rng.integers(0, cum[-1]))
        block = int(np.searchsorted(cum, k, side="right"))
        return int(starts[block] + k - (cum[block - 1] if block else 0))

    def _window(self, label_id: int) -> np.ndarray:
        """A random training window of the label (a work drawn first, as in `draw`)."""
        pools = self.pools[label_id]
        s = self._start(pools[int(self.rng.integers(len(pools)))])
        return self.streams[label_id].tokens[s : s + self.width]

    def _negative(self, label_id: int) -> np.ndarray | None:
        """A made "neither" window for a background slot, or None (a plain one)."""
        u = self.rng.random()
        for share, source, fn in self.negatives:
            if u < share:
                others = [i for i in range(len(self.streams)) if i != label_id]
                source_id = int(self.rng.choice(others)) if source == "authors" else label_id
                takes = getattr(fn, "takes", 1)
                if takes > 1:
                    return fn([self._window(source_id) for _ in range(takes)], self.rng)
                return fn(self._window(source_id), self.rng)
            u -= share
        return None

    def draw(self) -> tuple[np.ndarray, np.ndarray]:
        rows, labels = [], []
        for label_id, stream in enumerate(self.streams):
            pools, p, n = self.pools[label_id], self.pool_p[label_id], self.per_class[label_id]
            # the same draws as ever where no weights are set (a resumed run repeats them)
            works = self.rng.integers(0, len(pools), size=n) if p is None else self.rng.choice(len(pools), size=n, p=p)
            for w in works:
                row = self._negative(label_id) if label_id == self.background and self.negatives else None
                if row is None:
                    s = self._start(pools[w])
                    row = stream.tokens[s : s + self.width]
                for fn in self.augment:
                    row = fn(row, self.rng)
                rows.append(row)
            labels += [label_id] * self.per_class[label_id]
        return with_special_tokens(np.stack(rows), self.cls_id, self.sep_id), np.array(labels, np.int64)

    def state_dict(self) -> dict:
        return self.rng.bit_generator.state

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state
