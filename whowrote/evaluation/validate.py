"""`whowrote validate RUN`: evidence that the judge judges style, on the run's own held-out works.

Passages are disjoint windows of the run's seq_len from the test half of the works it never
trained on (never seen by the temperature and thresholds either), cut
from their text as published (names and capitals intact) and scored by the real judge
(normalisation, temperature, open set). Each probe alters the passages and counts the
labels that change, and how far P(own label) moves:
- names -> other author: every proper name of an author's passage becomes a character
  name of another author (goal: <= 2% change, |mean shift| <= 0.05);
- names -> neutral: the same with neutral names; accuracy must stay >= 95% of passages;
- typos 5%, lower-casing, look-alike and invisible characters 10% (goal <= 5% each), word
  dropout 10% (reported);
- another edition's typesetting (curly quotes, 2-em or en dashes, spaced ellipses,
  *emphasis*): the normalisation should undo it (our goal: <= 2%);
- the word-order probes (order.py): shuffled words and sentences, stuffed keywords, word
  Markov text, a looped sentence: how often each is given to the author it imitates;
- seeds (`--seeds N`): N-1 more runs of the same config with other seeds (RUN/seeds/seedK),
  each evaluated and probed as this run is; the share of passages on which all N agree (goal
  >= 95%), and each seed's figures beside this run's in the goals table.
Every share comes with its 95% Wilson interval (`*_ci`): 24 passages of a work cannot tell
3% from 10%. The unseen-work accuracy, ECE and open-set rates per held-out author come from report.json.
Writes RUN/validity.json ("whowrote.validity/1"), RUN/plots/validity.png/.svg, the card.

    whowrote validate runs/authors-20261127-120000 --seeds 3
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from ..config import load_run_config
from ..data.prepare import NEUTRAL_NAMES
from ..errors import WhowroteError
from ..files import readme_section, update_readme_section, write_json
from ..layout import RunFiles, model_meta_path, read_json
from ..model.metrics import share_interval
from ..model.openset import NEITHER
from ..training.runfolder import check_run_dir
from . import probes
from .goals import goal_text
from .order import order_probes

VALIDITY_FORMAT = "whowrote.validity/1"


def held_out_passages(judge, config, per_work: int, part: str = "test", prep=None) -> list[dict]:
    """Disjoint windows of the held-out works' `part` (the test half: text that neither
    training nor the fitted temperature and thresholds saw), as the raw text they span
    (evenly spaced, at most `per_work` per work): {"text", "label" (its true answer), "work"}.
    The calibration half is left out because each author's "neither" threshold sits just
    above its highest calibration passage: probed there, a slip would flip passages placed
    at the threshold by construction (seed 2 of the README run: 8 of Carroll's 58 passages
    of both halves changed under 5% typos, none of the 24 of the test half)."""
    from ..data.prepare import prepare
    from ..data.split import disjoint_starts
    from ..text.books import load

    prep = prepare(config, judge.tokenizer, spec=judge.normalise) if prep is None else prep
    out = []
    for stream, parts in zip(prep.unseen, prep.unseen_parts):
        if stream is None:
            continue
        truth = NEITHER if stream.label == config.background else stream.label
        starts, works = disjoint_starts(stream, parts[part], prep.width, per_work, per_work=True)
        book_starts = np.concatenate([[0], np.cumsum(stream.book_tokens)])
        for w in np.unique(works):
            source = config.heldout[stream.label][w]
            text = load(source, config.data_dir).text
            ids, offsets = judge.encode([text], read_headings=True)[0]  # the stream's tokens, so its starts apply
            if len(ids) != stream.book_tokens[w]:
                raise AssertionError(f"the judge tokenised held-out work {source} differently from training")
            out += [{"text": text[offsets[s][0]:offsets[s + prep.width - 1][1]], "label": truth, "work": source}
                    for s in starts[works == w] - book_starts[w]]
    return out


def _judge_all(judge, texts: list[str]):
    scores = judge.score(texts)
    return [s.label for s in scores], scores


def _probe(judge, passages, base_labels, base_scores, texts, name, author_only=False) -> dict:
    labels, scores = _judge_all(judge, texts)
    own = [p["label"] for p in passages]
    moved = np.array([a != b for a, b in zip(labels, base_labels)])
    changed = moved.mean()
    # by true label: an author's own passages against other authors' (whose labels move
    # mostly across the "neither" threshold, measured on authors-20261127-094146)
    by_label = {lab: float(moved[np.array(own) == lab].mean()) for lab in dict.fromkeys(own)}

    def p_own(s, truth):
        return s.probs.get(truth, s.p_neither if s.p_neither is not None else 0.0)
    shift = np.mean([p_own(s, t) - p_own(b, t) for s, b, t in zip(scores, base_scores, own)])
    return {"passages": len(texts), "changed": float(changed), "changed_ci": share_interval(moved.sum(), len(texts)),
            "changed_by_label": by_label, "mean_shift": float(shift),
            "accuracy_before": float(np.mean([a == t for a, t in zip(base_labels, own)])),
            "accuracy_after": float(np.mean([a == t for a, t in zip(labels, own)])),
            "goal": goal_text(name), "on": "author passages" if author_only else "all held-out passages"}


def run_probes(judge, config, passages: list[dict], base_scores: list, top_names: dict[str, list[str]], seed: int = 0,
               words: dict[str, list[str]] | None = None) -> dict:
    """Each alteration of `passages` against the judge's `base_scores` of them as written."""
    base_labels = [s.label for s in base_scores]
    authors = [i for i, p in enumerate(passages) if p["label"] != NEITHER]
    a_pass = [passages[i] for i in authors]
    a_labels, a_scores = [base_labels[i] for i in authors], [base_scores[i] for i in authors]
    out = {}
    # each author's passages get the names of another author's books
    others = {lab: [n for o, names in top_names.items() if o not in (lab, config.background) for n in names]
              for lab in config.author_labels}
    swapped = [probes.swap_names(p["text"], others[p["label"]] or NEUTRAL_NAMES, seed + i)[0] for i, p in enumerate(a_pass)]
    out["names -> other author"] = _probe(judge, a_pass, a_labels, a_scores, swapped, "names -> other author", True)
    neutral = [probes.swap_names(p["text"], NEUTRAL_NAMES, seed + i)[0] for i, p in enumerate(a_pass)]
    out["names -> neutral"] = _probe(judge, a_pass, a_labels, a_scores, neutral, "names -> neutral", True)
    texts = [p["text"] for p in passages]
    out["typos 5%"] = _probe(judge, passages, base_labels, base_scores,
                             [probes.typos(t, 0.05, seed + i) for i, t in enumerate(texts)], "typos 5%")
    out["lower-case"] = _probe(judge, passages, base_labels, base_scores, [probes.lowercase(t) for t in texts], "lower-case")
    out["look-alikes, invisible 10%"] = _probe(judge, passages, base_labels, base_scores,
                                               [probes.disguise(t, 0.1, seed + i) for i, t in enumerate(texts)],
                                               "look-alikes, invisible 10%")
    out["another edition's typesetting"] = _probe(judge, passages, base_labels, base_scores,
                                                  [probes.reprint(t, seed + i) for i, t in enumerate(texts)],
                                                  "another edition's typesetting")
    out["word dropout 10%"] = _probe(judge, passages, base_labels, base_scores,
                                     [probes.drop_words(t, 0.1, seed + i) for i, t in enumerate(texts)], "word dropout 10%")
    authors = [lab for lab in config.author_labels if (words or {}).get(lab)]
    if authors:  # an author's passage gets another author's words; another author's, each author's in turn
        others = [[a for a in authors if a != p["label"]] or authors for p in passages]
        out["words of another author 5%"] = _probe(
            judge, passages, base_labels, base_scores,
            [probes.insert_words(t, words[o[i % len(o)]], 0.05, seed + i) for i, (t, o) in enumerate(zip(texts, others))],
            "words of another author 5%")
        out["everyday words 5% (control)"] = _probe(
            judge, passages, base_labels, base_scores,
            [probes.insert_words(t, probes.NEUTRAL_WORDS, 0.05, seed + i) for i, t in enumerate(texts)],
            "everyday words 5% (control)")
    return out


def seed_agreement(run_dir: Path, config, passages: list[dict], base_labels: list[str], seeds: int, per_work: int,
                   progress: bool) -> dict:
    """Train seeds 1..N-1 of the same config (kept in RUN/seeds/), evaluate and probe each as
    this run is (their figures are the goals table's other columns), and compare labels. A
    seed already trained, evaluated or probed is not done again."""
    import shutil

    from ..judge.core import Judge
    from ..training.train import fit
    from .evaluate import evaluate_run

    labels, files = [base_labels], RunFiles(run_dir)
    for k in range(1, seeds):
        seed = RunFiles(files.seed_run(k))
        if not model_meta_path(seed.model).is_file():
            cfg = dataclasses.replace(config, seed=config.seed + k, output_dir=str(files.seeds))
            fitted = fit(cfg, name=seed.root.name, progress=progress)
            evaluate_run(fitted.run_dir, progress=progress, model=fitted.model, tokenizer=fitted.tokenizer)
            shutil.rmtree(seed.checkpoint, ignore_errors=True)
        elif not seed.report.is_file():  # trained, then stopped before its evaluation
            evaluate_run(seed.root, progress=progress)
        if not seed.validity.is_file():
            validate(seed.root, per_work=per_work, data_dir=config.data_dir, progress=progress)
        judge = Judge.load(seed.root)
        labels.append([s.label for s in judge.score([p["text"] for p in passages])])
    same = np.array([len(set(col)) == 1 for col in zip(*labels)])
    truth = np.array([p["label"] for p in passages])
    return {"runs": seeds, "passages": len(passages), "agreement": float(same.mean()),
            "agreement_ci": share_interval(same.sum(), len(same)), "goal": goal_text("seeds"),
            "agreement_by_label": {lab: float(same[truth == lab].mean()) for lab in dict.fromkeys(truth)}}


def plot_validity(validity: dict, report: dict, path: Path) -> None:
    from ..files import pyplot, save_figure

    plt = pyplot()
    lengths = [r for r in report.get("unseen_by_length") or [] if NEITHER in r["per_label"]]
    fig, axes = plt.subplots(1, 3 if lengths else 2, figsize=(16 if lengths else 11, 4.6 if lengths else 4), dpi=150)
    ax1, ax2 = axes[:2]
    names = list(validity["probes"])
    ax1.barh(names, [validity["probes"][n]["changed"] for n in names], color="tab:purple")
    ax1.axvline(0.05, color="grey", ls="--", lw=1, label="goal 5% (names: 2%)")
    ax1.set_xlabel("share of labels changed")
    ax1.set_title("Sensitivity to what should not matter")
    ax1.legend(fontsize=7)
    works = (report.get("unseen") or {}).get("per_work", {})
    # "Henry James #209 (neither)": the author and the work's number fit; a title would not
    rows = [(f"{r.get('work', w).split(':')[0]} #{w} ({r['label']})", r["own_label"]) for w, r in works.items()]
    ax2.barh([r[0] for r in rows], [r[1] for r in rows], color="tab:green")
    ax2.set_xlim(0, 1)
    ax2.axvline(0.9, color="grey", ls="--", lw=1)
    ax2.set_xlabel("share answered right (own author, or neither)")
    ax2.set_title("Works and authors never trained on")
    ax2.tick_params(axis="y", labelsize=7)
    if lengths:  # "neither" by text length: each length's own settings against the one-window ones
        ax3, tokens = axes[2], [r["tokens"] for r in lengths]
        ax3.plot(tokens, [r["per_label"][NEITHER]["neither"] for r in lengths], "o-", color="tab:green",
                 label="unseen authors, per-length threshold")
        ax3.plot(tokens, [r["before"]["per_label"][NEITHER]["neither"] for r in lengths], "o--", color="tab:grey",
                 label="unseen authors, one-window threshold")
        for lab in [lab for lab in lengths[0]["per_label"] if lab != NEITHER]:
            ax3.plot(tokens, [r["per_label"].get(lab, {}).get("neither", np.nan) for r in lengths], "x:",
                     label=f"{lab}'s own texts")
        ax3.axhline(0.9, color="grey", ls="--", lw=1)
        ax3.axhline(0.05, color="grey", ls=":", lw=1)
        ax3.set_xscale("log", base=2)
        ax3.set_xticks(tokens, [str(t) for t in tokens])
        ax3.set_ylim(0, 1)
        ax3.set_xlabel("text length (tokens)")
        ax3.set_ylabel("share flagged neither")
        ax3.set_title('"Neither" by text length')
        ax3.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    fig.tight_layout()
    for ext in ("png", "svg"):
        save_figure(fig, path.with_suffix(f".{ext}"))
    plt.close(fig)


MODERN_PROSE = Path(__file__).with_name("modern_prose.jsonl")  # 16 passages of today's prose, written for it


def modern_prose(judge) -> dict:
    """How many passages of today's prose (no author the judge saw, of no period its books
    are of) the judge answers "neither"; a model without an open set answers none so."""
    rows = [json.loads(line) for line in MODERN_PROSE.read_text().splitlines() if line.strip()]
    scores = judge.score([r["text"] for r in rows])
    labels = [s.label for s in scores]
    return {"passages": len(rows), "neither": labels.count(NEITHER) / len(rows),
            "labels": {lab: labels.count(lab) for lab in dict.fromkeys(labels)},
            # a model without an open set has no P(neither) to be confident by
            "confident": [r["id"] for r, s in zip(rows, scores)
                          if s.label != NEITHER and s.p_neither is not None and s.p_neither < 0.2]}


def validate(run_dir: str | Path, seeds: int = 1, per_work: int = 60, data_dir: str | None = None,
             progress: bool = True, readme: str | None = None) -> dict:
    from ..judge.core import Judge
    from .card import summary_markdown, write_card

    run_dir = check_run_dir(run_dir)
    config = load_run_config(run_dir)
    if data_dir:
        config.data_dir = data_dir
    if not any(config.heldout.get(lab) for lab in config.author_labels):
        raise WhowroteError(f"validate: {run_dir} held out no works of its authors, so there is nothing it never "
                            f"saw to probe; train with --heldout LABEL=ID (the authors and cpu presets do)")
    if seeds < 1 or per_work < 1:
        raise WhowroteError("validate: --seeds and --per-work must be at least 1")
    if readme:
        readme_section(readme, "validity")  # checked before minutes of work
    t0 = time.perf_counter()
    judge = Judge.load(run_dir)
    from ..data.prepare import prepare
    from ..text.topics import topic_words

    prep = prepare(config, judge.tokenizer, spec=judge.normalise)  # as the run was trained
    passages = held_out_passages(judge, config, per_work, prep=prep)
    base_scores = judge.score([p["text"] for p in passages])  # as written: every probe and the seeds compare with it
    base = [s.label for s in base_scores]
    files = RunFiles(run_dir)
    names = read_json(files.config).get("top_names") or {}
    words = topic_words(dict(zip(prep.labels, prep.texts)))  # from the training books (names masked)
    validity = {"format": VALIDITY_FORMAT, "run": run_dir.name, "passages": len(passages),
                "passages_per_work": per_work, "part": "test",
                "probes": run_probes(judge, config, passages, base_scores, names, words=words),
                "order": order_probes(judge, config, passages, base, words, training_books(config)),
                "words_inserted": {lab: words[lab] for lab in config.author_labels if lab in words},
                "modern_prose": modern_prose(judge)}
    if seeds > 1:
        validity["seeds"] = seed_agreement(run_dir, config, passages, base, seeds, per_work, progress)
    validity["seconds"] = round(time.perf_counter() - t0, 1)
    write_json(files.validity, validity)
    files.plots.mkdir(exist_ok=True)
    plot_validity(validity, read_json(files.report), files.plot("validity.png"))
    write_card(run_dir)
    if readme:
        update_readme_section(readme, "validity", readme_figures(run_dir, Path(readme)) + summary_markdown(run_dir))
    return validity


def training_books(config, heldout: bool = False) -> dict[str, list[str]]:
    """Each author's training books as published (the Markov chains' source); with `heldout`,
    the works the run held out instead (an author without any is left out)."""
    from ..text.books import load

    table = config.heldout if heldout else config.sources
    return {lab: [load(src, config.data_dir).text for src in table[lab]] for lab in config.author_labels if table.get(lab)}


def readme_figures(run_dir: Path, page: Path) -> str:
    """Copy the run's figures and report into run/ beside the page (a page of docs/; a README
    at the root gets docs/run/) and link them from the page."""
    import os
    import shutil

    folder = page.resolve().parent
    docs = folder / "run" if folder.name == "docs" else folder / "docs" / "run"
    docs.mkdir(parents=True, exist_ok=True)
    rel = lambda name: os.path.relpath(docs / name, folder)  # noqa: E731
    links, files = [], RunFiles(run_dir)
    for src, title in ((files.plot("training_k3_shrink.png"), "loss and accuracy per step, raw and smoothed (k=3)"),
                       (files.plot("validity.png"), "validity probes and works never trained on")):
        if src.is_file():
            shutil.copyfile(src, docs / src.name)
            links.append(f"![{title}]({rel(src.name)})")
    for src in (files.report, files.validity):
        if src.is_file():
            shutil.copyfile(src, docs / src.name)
    return (("\n".join(links) + "\n\n") + f"Numbers: [{files.report.name}]({rel(files.report.name)}), "
            f"[{files.validity.name}]({rel(files.validity.name)}).\n\n")
