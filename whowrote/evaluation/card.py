"""The model card (RUN/README.md): what the model is, its held-out and validity numbers.

Built with `huggingface_hub.ModelCard`, so the YAML header carries a `model-index` with the
evaluation results (in-book test, unseen works, open set, validity probes) and the hub
renders them. It is rewritten from the run folder's files whenever they change (training,
`whowrote evaluate`, `whowrote validate`), and only names plots that exist.

    python -c "from whowrote.evaluation.card import write_card; write_card('runs/authors-20261127-120000')"
"""

from __future__ import annotations

from pathlib import Path

from ..files import atomic_write
from ..layout import RunFiles, read_json, read_model_meta
from ..model.metrics import share_text
from ..model.openset import NEITHER, describe
from ..text.normalise import Spec
from .goals import goals_table, seed_figures

PROJECT = "whowrote"


def _results(report: dict, validity: dict) -> list:
    from huggingface_hub import EvalResult

    def result(name: str, metric: str, value, label: str):
        return EvalResult(task_type="text-classification", task_name="authorship attribution",
                          dataset_type="gutenberg", dataset_name=name, metric_type=metric,
                          metric_value=round(float(value), 4), metric_name=label)

    out = []
    if report.get("test"):
        out.append(result("in-book held-out blocks", "accuracy", report["test"]["accuracy"], "in-book test accuracy"))
    unseen = report.get("unseen")
    if unseen:
        out.append(result("works never trained on", "accuracy", unseen["accuracy"], "unseen-work accuracy"))
        out.append(result("works never trained on", "ece", unseen["ece"], "unseen-work ECE"))
    for probe, row in (validity.get("probes") or {}).items():
        out.append(result(f"validity probe: {probe}", "label_change_rate", row["changed"], f"labels changed: {probe}"))
    return out


def _validity_table(validity: dict) -> str:
    probes = validity.get("probes") or {}
    if not probes:
        return "No validity report yet: `whowrote validate RUN` writes one.\n"
    lines = ["| probe | passages | labels changed [95% interval] | changed, by true label | mean shift of P(own label) "
             "| accuracy before → after | goal |", "|---|---|---|---|---|---|---|"]
    for name, row in probes.items():
        by = ", ".join(f"{lab} {v:.3f}" for lab, v in (row.get("changed_by_label") or {}).items())  # absent before it existed
        lines.append(f"| {name} | {row['passages']} | {share_text(row, 'changed')} | {by} | {row['mean_shift']:+.3f} | "
                     f"{row['accuracy_before']:.3f} → {row['accuracy_after']:.3f} | {row.get('goal', '')} |")
    seeds = validity.get("seeds")
    if seeds:
        by = seeds.get("agreement_by_label", {})
        lines += ["", f"Stability: {seeds['runs']} seeds (the same preset, other seeds) give the same label to "
                  f"{share_text(seeds, 'agreement')} of {seeds['passages']} held-out passages (goal >= 0.95)"
                  + (": " + ", ".join(f"{lab}'s passages {v:.3f}" for lab, v in by.items()) if by else "") + "."]
    modern = validity.get("modern_prose")  # absent in files written before it
    if modern:
        lines += ["", f"Today's prose ({modern['passages']} passages written for the check: email, news, recipe, ...; "
                  f"no author or period of the training books): {modern['neither']:.2f} answered neither ("
                  + ", ".join(f"{lab} {n}" for lab, n in modern["labels"].items()) + "); given an author with "
                  f"P(neither) < 0.2: {', '.join(modern['confident']) or 'none'}."]
    return "\n".join(lines) + "\n"


def _goals_section(report: dict, validity: dict, run_dir: Path) -> str:
    seeds = seed_figures(run_dir)
    table = goals_table(report, validity, seeds)
    each = "; \"seed +k\": its config with the seed k more (`whowrote validate --seeds`)" * bool(seeds)
    return (f"Goals at a glance (at {report.get('seq_len')} tokens; \"ours\" marks this project's own, the rest "
            f"are the issue's{each}; the tables below give this run's intervals and the texts behind them):\n\n{table}\n"
            if table else "")


def _unseen_table(report: dict) -> str:
    unseen = report.get("unseen")
    if not unseen:
        return "This run held out no works: its numbers are in-book only.\n"
    lines = ["| work never trained on | true label | passages | labelled its own label [95% interval] | flagged neither [95% interval] |",
             "|---|---|---|---|---|"]
    for w, r in unseen["per_work"].items():
        lines.append(f"| {r.get('work', w)} (#{w}) | {r['label']} | {r['passages']} | {share_text(r, 'own_label')} | {share_text(r, 'neither')} |")
    return "\n".join(lines) + f"\n\nOverall accuracy {unseen['accuracy']:.4f}, ECE {unseen['ece']:.4f} on {unseen['passages']} passages.\n"


def _length_table(report: dict) -> str:
    """Calibration and the open set by text length (report.json "unseen_by_length"); "" without it."""
    rows = report.get("unseen_by_length")
    if not rows:
        return ""
    labels = list(rows[0]["per_label"])
    authors = [lab for lab in labels if lab != NEITHER]

    def cell(r, lab, key, before=False):  # a work shorter than the text length has no texts of it
        pl = (r["before"] if before else r)["per_label"]
        return f"{pl[lab][key]:.3f}" if lab in pl else "-"
    whose = f" ({' / '.join(rows[0]['author_thresholds'])})" if rows[0].get("author_thresholds") else ""
    lines = ["Texts of other lengths: contiguous texts of the same unseen works (test half), cut into windows and "
             "scored as the judge scores a text (shorter than a window: disjoint pieces of its windows), with the "
             "temperature and threshold fitted for their length on such texts of the calibration half (a length "
             "with too few calibration texts uses the longest fitted one; a text between fitted lengths, values "
             "interpolated in log-length); before: the one-window temperature and threshold for every length.", "",
             f"| text tokens | texts | T | threshold{whose} | ECE before → after | "
             + ("unseen authors flagged before → after | " if NEITHER in labels else "")
             + " | ".join(f"{lab}: flagged, labelled {lab}" for lab in authors) + " |",
             "|---|---|---|---|---|" + "---|" * ((NEITHER in labels) + len(authors))]
    for r in rows:
        n = {lab: r["per_label"][lab]["passages"] for lab in r["per_label"]}
        taus = r.get("author_thresholds") or {"": r["threshold"]}
        lines.append(f"| {r['tokens']} | {r['texts']} | {r['temperature']:.3f} | {' / '.join(f'{t:.4f}' for t in taus.values())}"
                     f"{'' if r['fitted'] else ' (longest fitted)'} | {r['before']['ece']:.3f} → {r['ece']:.3f} | "
                     + (f"{cell(r, NEITHER, 'neither', True)} → {cell(r, NEITHER, 'neither')} | " if NEITHER in labels else "")
                     + " | ".join(f"{cell(r, lab, 'neither')}, {cell(r, lab, 'own_label')} ({n.get(lab, 0)})" for lab in authors)
                     + " |")
    return "\n".join(lines) + "\n"


def summary_markdown(run_dir: str | Path) -> str:
    """The validity evidence of a run as markdown: works and authors never trained on, the
    probes, the open set; for the model card and, via `whowrote validate --readme`, a README."""
    files = RunFiles(run_dir)
    run_dir = files.root
    report, validity, cfg = read_json(files.report), read_json(files.validity), read_json(files.config)
    env = cfg.get("device", "?")
    open_set = report.get("open_set", {})
    lines = [f"Run `{run_dir.name}` ({report.get('steps')} steps, {report.get('train_seconds') or 0:.0f} s of training on {env}); "
             f"passages of {report.get('seq_len')} tokens.", "", _goals_section(report, validity, files.root), _unseen_table(report)]
    per_label = (report.get("unseen") or {}).get("per_label", {})
    if "neither" in per_label:
        authors = [lab for lab in per_label if lab != "neither"]
        whose = "its author's" if open_set.get("per_author") else "each author's"
        lines += [f"Open set: \"neither\" when {describe(open_set)} "
                  f"(fitted so that at most {open_set.get('max_flagged', 0):.0%} of {whose} calibration passages are flagged). "
                  f"Authors never seen flagged: {share_text(per_label['neither'], 'neither')} (goal >= 0.90); "
                  + ", ".join(f"{a}'s unseen passages flagged: {share_text(per_label[a], 'neither')}" for a in authors)
                  + " (goal <= 0.05; in brackets the 95% Wilson interval, passages counted as independent draws, "
                  "which passages of one work are not).", ""]
    if report.get("repetition_check"):
        lines += [_repetition_line(report["repetition_check"]), ""]
    if report.get("coherence_check"):
        lines += [_coherence_line(report["coherence_check"]), ""]
    if report.get("order_check"):
        lines += [_order_line(report["order_check"]), ""]
    if report.get("keyword_check"):
        lines += [_keyword_line(report["keyword_check"]), ""]
    lengths = _length_table(report)
    if lengths:
        lines.append(lengths)
    lines += ["Validity probes (the test half of the same held-out works; labels changed against the unaltered passages):", "",
              _validity_table(validity)]
    return "\n".join(lines)


def _test_flagged(check: dict) -> str:
    """'alice 0.000, edgar 0.020, ...': the share of each label's unseen test windows a check turned to "neither"."""
    return ", ".join(f"{lab} {x:.3f}" for lab, x in check.get("test_flagged", {}).items())


def _repetition_line(check: dict) -> str:
    """The repetition check's fit, author by author, and what it flags of the test windows."""
    parts = [f"for {a}, over {fit['threshold']:.3f} (it flags {fit['own_flagged']:.3f} of {a}'s {fit['windows']} "
             f"calibration windows and {fit['loops_flagged']:.3f} of every label's windows looped"
             f"{')' if fit['kept'] else '; not kept)'}" for a, fit in check["authors"].items()]
    flagged = _test_flagged(check)
    return (f"Repetition check: \"neither\" when a text's windows say again more than the threshold of their runs of "
            f"{check['words']} words {'; '.join(parts)}. Of the unseen test windows it turned to \"neither\": {flagged}.")


def _coherence_line(check: dict) -> str:
    """The coherence check's fit, author by author, and what it flags of the test windows."""
    parts = [f"for {a}, over {fit['threshold']:.2f} (it flags {fit['own_flagged']:.3f} of {a}'s {fit['windows']} "
             f"calibration windows and {fit['chains_flagged']:.3f} of order-1 word chains made of every label's"
             f"{')' if fit['kept'] else '; not kept)'}" for a, fit in check["authors"].items()]
    flagged = _test_flagged(check)
    return (f"Coherence check: \"neither\" when the pretrained encoder's first layers read a text as a word chain "
            f"(log-odds) {'; '.join(parts)}; S keeps sigmoid(threshold - log-odds) of itself. Of the unseen test "
            f"windows it turned to \"neither\": {flagged}.")


def _order_line(check: dict) -> str:
    """The word-order check's fit, author by author, and what it flags of the test windows."""
    parts = []
    for author, fit in check["authors"].items():
        if fit["kept"]:
            parts.append(f"for {author}, a fall under {fit['threshold']:.3f} (it flags {fit['own_flagged']:.3f} of "
                         f"{author}'s {fit['windows']} calibration windows and {fit['salad_flagged']:.3f} of the same "
                         f"windows shuffled)")
        else:
            parts.append(f"none for {author} (a threshold at {check['max_flagged']:.0%} of its calibration windows "
                         f"would flag {fit['salad_flagged']:.3f} of them shuffled)")
    flagged = _test_flagged(check)
    return (f"Word-order check: \"neither\" when log S falls by less than the threshold with the text's words "
            f"shuffled: {'; '.join(parts)}. Of the unseen test windows it turned to \"neither\": {flagged}.")


def _keyword_line(check: dict) -> str:
    """The keyword check's fit, author by author, and what it flags of the test windows."""
    parts = []
    for author, fit in check["authors"].items():
        if fit["kept"]:
            parts.append(f"for {author}, a fall over {fit['threshold']:.3f} (it flags {fit['own_flagged']:.3f} of "
                         f"{author}'s {fit['windows']} calibration windows and {fit['stuffed_flagged']:.3f} of other "
                         f"authors' windows stuffed with its words and given to it)")
        else:
            parts.append(f"none for {author} (it would flag {fit['stuffed_flagged']:.3f} of the stuffed windows given to it)")
    flagged = _test_flagged(check)
    return (f"Keyword check: \"neither\" when log S falls by more than the threshold without the author's "
            f"{check['words']} most distinctive words: {'; '.join(parts)}. Of the unseen test windows it turned to "
            f"\"neither\": {flagged}.")


def _partner_line(report: dict) -> str:
    """The char partner's share of the judge, and each reader's accuracy on unseen works."""
    p = report.get("partner")
    if not p:
        return ""
    acc = p.get("unseen_accuracy")
    alone = (f" (accuracy on unseen works: BERT alone {acc['bert']:.3f}, char alone {acc['char']:.3f}, "
             f"mixed {acc['mixed']:.3f}, all labels, no open set)" if acc else "")
    return (f"\na char 2-5-gram model read beside BERT on every window (weight {p['weight']:.2f}; temperatures "
            f"BERT {p['bert_temperature']:.3f}, char {p['temperature']:.3f}; fitted on {p['fitted_on']}){alone},")


def _open_set_limit(background: str) -> str:
    if not background:
        return " Every text is given one of the labels: there is no \"neither\"."
    return (f" \"{background}\" reaches only as far as its books: text of another period or register"
            " than any book in training (today's prose, for 19th-century books) is often given to a label, so"
            " read a label there as \"nearer this author than the others\", not as authorship"
            " (whowrote's benchmarks/modern_prose.py measures it). More background authors make it flag more"
            f" of the authors it never saw (`whowrote train --add-source {background}=ID,...`).")


def write_card(run_dir: str | Path) -> Path:
    """RUN/README.md: a Hugging Face model card of the run, from what its folder holds."""
    from huggingface_hub import ModelCard, ModelCardData

    files = RunFiles(run_dir)
    cfg = read_json(files.config)
    report, validity = read_json(files.report), read_json(files.validity)
    data = ModelCardData(library_name="transformers", pipeline_tag="text-classification", model_name=files.root.name,
                         tags=["authorship-attribution", "stylometry", PROJECT], eval_results=_results(report, validity))
    body = _card_body(files, cfg.get("config", {}), cfg.get("books", []), report, validity)
    card = ModelCard.from_template(data, template_str="---\n{{ card_data }}\n---\n{{ body }}", body=body)
    atomic_write(files.card, str(card))
    return files.card


def _normalisation_steps(spec: Spec) -> str:
    """What the judge does to a text before tokenising it, in words."""
    repaired = "misspelt words repaired" + " (capitalised slips of common words too)" * spec.capitals
    return ", ".join([f"typography {spec.typography}"] + [repaired] * spec.spelling
                     + [f"proper names masked as {spec.placeholder!r}"
                        + " (lower-case ones too)" * spec.lower_names
                        + " (Title Case sentences read as their case allows)" * spec.title_case
                        + " (n't contractions never names)" * spec.contractions] * (spec.names == "mask"))


def _card_body(files: RunFiles, config: dict, books: list[dict], report: dict, validity: dict) -> str:
    run_dir = files.root
    meta = read_model_meta(files.model)
    steps = _normalisation_steps(Spec.from_dict(meta.get("normalise")))
    labels = report.get("labels") or list(config.get("sources", {}))
    background = config.get("background") or ""
    authors = [lab for lab in labels if lab != background]
    open_set = report.get("open_set", {})
    return f"""
# {run_dir.name}: who wrote it? {', '.join(authors)}{' or neither' if background else ''}

A `{config.get('model')}` encoder fine-tuned by {PROJECT} to tell who wrote a passage of
{config.get('seq_len')} tokens. Labels: {', '.join(f'`{i}` = {n}' for i, n in enumerate(labels))}.
{f'`{background}` was trained on other authors of the period and stands for "none of the authors".' if background else ''}

```python
from transformers import pipeline
clf = pipeline("text-classification", model="{run_dir / 'model'}")  # raw logits' softmax
```

`whowrote judge --model {run_dir}` also applies what `pipeline` does not: the training
text normalisation ({steps}), a text's opening heading lines set aside (a title, "Chapter 1"),{_partner_line(report)}
the temperature T = {meta.get('temperature', 1.0):.3f}{_offsets_text(meta.get('label_offsets'), labels, background)} and the "neither" threshold
({open_set.get('method', 'none')}{f", {describe(open_set)}" if open_set.get('method') == 'background' else ''}).
{_measures(report, validity, run_dir)}
## Training
{report.get('steps')} steps of {config.get('per_class')} windows per label, lr {config.get('lr')}, seed {config.get('seed')},
{report.get('train_seconds') or 0:.0f} s. Books (Gutenberg header and licence removed; {steps}):
{_sources_list(books)}

{_plot_links(files)}

## Limits
{len(labels)} labels; passages cut at fixed token windows; numbers on works never trained on
come from {len([b for b in books if b.get('role') == 'heldout'])} held-out work(s), so other works,
editions and authors may score differently. Names are masked by a capitalisation rule
(dictionary words opening a sentence are kept), so a name can slip through.{_open_set_limit(background)}
Text under 60% English words (another language, code tables, numbers) is flagged `not-english`.
"""


def _offsets_text(offsets: list[float] | None, labels: list[str], background: str) -> str:
    """The authors' offsets as the card gives them (none in older model folders)."""
    if not offsets or not any(offsets):
        return ""
    shifts = ", ".join(f"{lab} {o:+.2f}" for lab, o in zip(labels, offsets) if lab != background)
    return f", the authors' offsets that weigh their unseen works alike ({shifts})"


def _measures(report: dict, validity: dict, run_dir: Path) -> str:
    """The card's figures: goals, unseen works and lengths, in-book blocks, calibration, probes."""
    t, cal = report.get("test", {}), report.get("calibration", {})
    return f"""
## Goals at a glance
{_goals_section(report, validity, run_dir) or "No held-out numbers or validity report yet."}
## Works never trained on
{_unseen_table(report)}
{_length_table(report)}
## In-book held-out blocks (the study's measure)
| metric | value |
|---|---|
| accuracy | {t.get('accuracy', float('nan')):.4f} |
| balanced accuracy | {t.get('balanced_accuracy', float('nan')):.4f} |
| windows | {t.get('windows', 0)} ({', '.join(f'{k}: {v}' for k, v in t.get('windows_per_label', {}).items())}) |

## Calibration
T fitted on {cal.get('fitted_on', '?')}; ECE on the test windows {cal.get('test_before', {}).get('ece', float('nan')):.4f}
before, {cal.get('test_after', {}).get('ece', float('nan')):.4f} after (15 bins).

## Validity: does it judge style?
{_validity_table(validity)}"""


def _sources_list(books: list[dict]) -> str:
    return "\n".join(f"- `{b['label']}` ({b.get('role', 'train')}): #{b['source']} {b.get('author', '')} "
                     f"{b.get('title', '')} ({b.get('tokens', '?')} tokens, sha256 {b['sha256'][:12]}...)" for b in books)


def _plot_links(files: RunFiles) -> str:
    plots = sorted(files.plots.glob("*.png")) if files.plots.is_dir() else []
    return "\n".join(f"![{p.stem}]({p.relative_to(files.root).as_posix()})" for p in plots)
