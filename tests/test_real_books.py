"""Integration on the real books in ../shared/corpora with the bundled MiniLM (skipped where
the folder is absent). One `cpu`-preset run (~3-4 minutes on 2 cores) is shared by the
tests that need a trained model."""

import json

import numpy as np
import pytest

from tests.conftest import SHARED_CORPORA, needs_corpora

pytestmark = [needs_corpora(), pytest.mark.books]


def test_real_books_clean_without_licence_or_markers():
    from whowrote.text import books
    from whowrote.text.normalise import Spec, normalise

    lg = books.load("12", str(SHARED_CORPORA))
    assert lg.had_markers and lg.text.startswith("THROUGH THE LOOKING-GLASS")
    for book in (lg, books.load("2148", str(SHARED_CORPORA))):
        assert "Project Gutenberg" not in book.text and "START OF" not in book.text and "\r" not in book.text
        text = normalise(book.text, Spec(names="keep"), track=False).text
        assert not set("\u2018\u2019\u201c\u201d\u00a0\ufeff_") & set(text)
    # Poe's vol. 1 from his own first tale: the memoirs by Lowell and Willis are cut
    v1 = books.load("2147@THE UNPARALLELED ADVENTURES OF ONE HANS PFAALL", str(SHARED_CORPORA)).text
    assert v1.startswith("THE UNPARALLELED ADVENTURES") and "James Russell Lowell" not in v1[:2000]


def test_the_generator_reads_the_game_of_logic_without_its_diagrams():
    from whowrote.generator.lm import prose
    from whowrote.text import books

    raw = books.load("4763", str(SHARED_CORPORA)).text
    text = prose(raw)
    assert "|---|" in raw and "---" not in text and "CHAPTER" not in text
    assert text.count("|") < raw.count("|") / 10  # what stays is a verse set in a box, its words kept
    assert "All crocodiles, when not hungry, are amiable; and all unamiable crocodiles are hungry." in text
    assert 0.5 < len(text) / len(raw) < 0.8  # the diagrams are a third of the book


def test_the_markup_rules_leave_every_authors_book_as_typography_2_did():
    # typography 3 (markup dropped) came after typography 2: the preset's books (the authors'
    # and all 64 background authors') must read the same under both, so no rule changed them silently
    from whowrote.config import resolve
    from whowrote.text import books
    from whowrote.text.normalise import TYPOGRAPHY_VERSION, Aligned, typography

    config = resolve("authors", data_dir=str(SHARED_CORPORA))
    sources = [s for group in (config.sources, config.heldout) for items in group.values() for s in items]
    assert TYPOGRAPHY_VERSION == 3 and len(sources) == 73
    changed = set()
    for source in sources:
        text = books.load(source, str(SHARED_CORPORA), download=False).text
        if typography(Aligned.of(text, False), version=3).text != typography(Aligned.of(text, False), version=2).text:
            changed.add(source)
    # only the markup typography 3 is for: Little Brother's "#" section marks, Douglass's "&mdash;"
    assert changed == {"30142@..Afterword by Bruce Schneier", "23"}


def test_real_split_copes_with_the_imbalance_and_never_leaks():
    from whowrote.config import resolve
    from whowrote.data.prepare import prepare
    from whowrote.model.bert import load_tokenizer

    config = resolve("cpu", data_dir=str(SHARED_CORPORA))
    prep = prepare(config, load_tokenizer(config.model))
    summary = prep.summary()
    assert 35_000 < summary["alice"]["tokens"] < 50_000 and 400_000 < summary["edgar"]["tokens"] < 500_000
    assert summary["edgar"]["heldout"]["works"] == ["2150"] and summary["edgar"]["heldout"]["tokens"] > 100_000
    for label, stream, parts in zip(prep.labels, prep.streams, prep.parts):
        assert all(summary[label]["disjoint_windows"][p] > 0 for p in ("train", "val", "test"))
        covered = [set(range(*stream.blocks[b])) for p in ("train", "val", "test") for b in parts[p]]
        assert sum(map(len, covered)) == len(set().union(*covered)) == len(stream.tokens)


@pytest.fixture(scope="module")
def cpu_run(tmp_path_factory):
    from whowrote.config import resolve
    from whowrote.pipeline import train

    config = resolve("cpu", data_dir=str(SHARED_CORPORA), output_dir=str(tmp_path_factory.mktemp("runs")))
    return train(config, name="cpu", progress=False)


def test_cpu_preset_attributes_held_out_blocks_and_unseen_poe(cpu_run):
    report = json.loads((cpu_run / "report.json").read_text())
    # in-book blocks, the study's measure (names masked, typos in training, spelling repaired):
    # measured 0.971 before the spelling repair and 0.956 with it (one run each, 384 windows);
    # balanced (Alice's 32 windows weigh half) 0.956 before, 0.947 with
    assert report["test"]["accuracy"] >= 0.95
    assert report["test"]["balanced_accuracy"] >= 0.93
    assert report["unseen"]["per_work"]["2150"]["own_label"] >= 0.9  # Poe's vol. 4, never trained on
    assert report["calibration"]["fitted_on"].startswith("held-out works")
    # the temperature is fitted by NLL on held-out works; it may come out at about 1 (with
    # normalise /7 this run's test ECE was 0.09848 either way), so ECE must not grow, not shrink
    assert report["calibration"]["test_after"]["ece"] <= report["calibration"]["test_before"]["ece"] + 1e-3
    validity = json.loads((cpu_run / "validity.json").read_text())
    assert validity["probes"]["names -> other author"]["changed"] <= 0.02
    rows = [json.loads(l) for l in (cpu_run / "metrics.jsonl").read_text().splitlines()]
    train_loss = [r["loss"] for r in rows if r["kind"] == "train"]
    assert np.mean(train_loss[:5]) > np.mean(train_loss[-5:])  # L_initial > L_final, as in the study


def test_saved_model_loads_offline_in_a_plain_pipeline(cpu_run):
    from transformers import pipeline

    from whowrote import Judge
    from whowrote.text.normalise import normalise

    clf = pipeline("text-classification", model=str(cpu_run / "model"), top_k=None)
    judge = Judge.load(cpu_run, precision="fp32")  # as the pipeline runs
    # pipeline knows no temperature, no authors' offsets and no char partner; BERT's logits are the same
    judge.temperature, judge.length_temperatures, judge.partner, judge.label_offsets = 1.0, [], None, None
    texts = ["Alice said to the Red Queen that she could not help it.", "Once upon a midnight dreary, the raven sat upon the bust."]
    for text in texts:  # pipeline on the normalised text = the judge on the text as given
        scores = {o["label"]: o["score"] for o in clf([normalise(text, judge.normalise).text])[0]}
        assert scores == pytest.approx(judge.score([text])[0].probs, rel=1e-4)


def test_judge_attributes_held_out_passages(cpu_run):
    from whowrote import Judge
    from whowrote.config import load_run_config
    from whowrote.data.prepare import prepare

    judge = Judge.load(cpu_run)
    prep = prepare(load_run_config(cpu_run), judge.tokenizer, spec=judge.normalise)
    for label_id, label in enumerate(prep.labels):
        ids, _ = prep.windows("test", limit_per_class=12)
        texts = [judge.tokenizer.decode(row[1:-1]) for row in ids[_ == label_id]]
        scores = judge.score(texts)
        right = sum(s.label == label for s in scores)
        assert right >= len(scores) - 1, (label, [s.probs for s in scores])


def test_a_background_book_quoting_poe_loses_the_quotation():
    # Leiber's The Big Time (32256) quotes The Purloined Letter: those words must not teach "neither"
    from whowrote.text import books
    from whowrote.text.overlap import Overlap

    poe = Overlap([books.load(v, str(SHARED_CORPORA), download=False).text for v in ("2147", "2148", "2149", "2150", "2151")])
    leiber = books.load("32256", str(SHARED_CORPORA), download=False).text
    spans = poe.spans(leiber)
    quoted = " ".join(leiber[s:e] for s, e in spans)
    assert "moss between the bricks" in quoted and sum(e - s for s, e in spans) < 0.01 * len(leiber)
