"""Baselines, the blocked k-fold protocol and the comparison report, on invented styles."""

import csv
import math

import numpy as np
import pytest

from tests.conftest import STYLE_A, STYLE_B, invented_text
from whowrote.compare.baselines import BurrowsDelta, CharNgrams, WordNgrams
from whowrote.compare.protocol import calibrate, ensemble
from whowrote.compare.report import paired_difference, verdict
from whowrote.model.metrics import log_softmax


def _passages(style, n, seed):
    words = invented_text(style, n * 20, seed).split()
    return [" ".join(words[i * 20 : (i + 1) * 20]) for i in range(n)]


@pytest.mark.parametrize("cls", [CharNgrams, WordNgrams, BurrowsDelta])
def test_each_baseline_separates_two_invented_styles(cls):
    train = _passages(STYLE_A, 60, 1) + _passages(STYLE_B, 60, 2)
    y = np.array([0] * 60 + [1] * 60)
    test = _passages(STYLE_A, 20, 3) + _passages(STYLE_B, 20, 4)
    model = cls().fit(train, y)
    p = model.predict_proba(test)
    assert p.shape == (40, 2) and np.allclose(np.log(p), log_softmax(model.scores(test)))
    assert (p.argmax(axis=1) == np.array([0] * 20 + [1] * 20)).mean() >= 0.95


def test_burrows_delta_matches_a_hand_computed_example():
    # MFW = [y, x]; relative frequencies (y, x): t1 (.5,.5) t2 (.25,.75) | t3 (.75,.25) t4 (1,0)
    # mu = (.625, .375); sigma = sqrt(.078125) for both; centroids = (-/+ .25, +/- .25) / sigma
    train = ["x x y y", "x x x y", "x y y y", "y y y y"]
    delta = BurrowsDelta(n_words=2).fit(train, np.array([0, 0, 1, 1]))
    sigma = math.sqrt(0.078125)
    d = delta.delta(["x y"])[0]  # z = (-.125, +.125) / sigma
    assert d[0] == pytest.approx(0.125 / sigma) and d[1] == pytest.approx(0.375 / sigma)
    assert delta.predict_proba(["x y"]).argmax() == 0


def test_burrows_delta_weighs_every_label_the_same():
    # one "a" passage against nine "b" passages: unweighted, mu and sigma would be b's and the
    # lone a passage would sit nearer the b centroid than an equal share would put it
    train = ["x x x y"] + ["y y y x"] * 9
    y = np.array([0] + [1] * 9)
    delta = BurrowsDelta(n_words=2).fit(train, y)
    assert delta.mu == pytest.approx([0.5, 0.5])  # (x, y) frequencies: the mean of a's .75/.25 and b's .25/.75
    assert delta.predict_proba(["x x y"]).argmax() == 0 and delta.predict_proba(["y y x"]).argmax() == 1


def test_ensemble_weight_follows_the_better_validation_method():
    y = np.array([0, 1, 0, 1])
    sharp = np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.1, 0.9]])  # right and confident
    wrong = sharp[:, ::-1]
    _, w = ensemble(sharp, wrong, y, sharp, wrong)
    assert w == 1.0
    _, w = ensemble(wrong, sharp, y, wrong, sharp)
    assert w == 0.0


def test_calibration_is_one_temperature_on_log_scores():
    val = np.log(np.array([[0.6, 0.4]] * 4))
    val_y = np.array([0, 0, 0, 1])
    p_val, p_test = calibrate(val, val_y, val)
    assert p_val[:, 0] == pytest.approx(0.75, abs=1e-3)  # T sharpens 0.6 to the observed 3 of 4


def test_verdict_pairs_runs_and_needs_the_interval_above_zero():
    assert paired_difference([0.9, 0.8, 0.7], [0.8, 0.7, 0.6]) == pytest.approx((0.1, 0.1, 0.1))
    mean, lo, hi = paired_difference([0.9, 0.8], [0.8, 0.9])
    assert mean == pytest.approx(0.0) and lo < 0 < hi
    rows, summary = [], []
    for method, accs in (("whowrote BERT", [0.91, 0.85, 0.95]), ("char", [0.90, 0.84, 0.94])):
        rows += [{"protocol": "blocks", "length": 16, "method": method, "seed": 0, "fold": f, "balanced_accuracy": a}
                 for f, a in enumerate(accs)]
        summary.append({"protocol": "blocks", "length": 16, "method": method, "balanced_accuracy_mean": np.mean(accs)})
    # a gap of .01 on every fold: unpaired spreads (.05) would hide it; paired, it is certain
    assert verdict(rows, summary)[("blocks", 16)].startswith("met")
    rows[0]["balanced_accuracy"] = 0.80  # one fold where BERT loses clearly
    summary[0]["balanced_accuracy_mean"] = np.mean([0.80, 0.85, 0.95])
    assert verdict(rows, summary)[("blocks", 16)].startswith("NOT met")


def test_kfold_split_on_books_tests_every_block_once_and_never_trains_on_it(tiny_config):
    import dataclasses

    from whowrote.data.prepare import prepare
    from whowrote.model.bert import load_tokenizer

    tok = load_tokenizer(tiny_config.model)
    tested = [set(), set()]
    for fold in range(3):
        prep = prepare(dataclasses.replace(tiny_config, folds=3, fold=fold), tok)
        for label_id, parts in enumerate(prep.parts):
            assert not set(parts["test"]) & (set(parts["train"]) | set(parts["val"]))
            assert not tested[label_id] & set(parts["test"])
            tested[label_id] |= set(parts["test"])
    assert tested == [set(range(len(s.blocks))) for s in prep.streams]


def test_compare_command_writes_table_csv_plot_and_readme(tiny_config, tmp_path):
    import json

    from whowrote.cli import main

    run = tmp_path / "base"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"config": tiny_config.to_dict()}))
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- compare:start -->\nSTALE-TABLE\n<!-- compare:end -->\nafter\n")
    out = tmp_path / "cmp"
    code = main(["compare", "--run", str(run), "--protocol", "blocks", "--lengths", "8", "16", "--folds", "3", "--seeds", "1",
                 "--bert-steps", "3", "--ensemble", "--out", str(out), "--readme", str(readme), "--quiet"])
    assert code == 0
    rows = list(csv.DictReader(open(out / "results_folds.csv")))
    assert len(rows) == 3 * 2 * 5  # folds x lengths x (3 baselines + BERT + ensemble)
    assert {r["fold"] for r in rows} == {"0", "1", "2"}
    summary = list(csv.DictReader(open(out / "results.csv")))
    assert len(summary) == 2 * 5
    for s in summary:  # totals are the sums of the fold rows
        fold_rows = [r for r in rows if r["method"] == s["method"] and r["length"] == s["length"]]
        assert float(s["fit_s_total"]) == pytest.approx(sum(float(r["fit_s"]) for r in fold_rows))
        assert float(s["test_alice_per_fold"]) == pytest.approx(np.mean([int(r["test_alice"]) for r in fold_rows]))
    md = (out / "results.md").read_text()
    assert "Balanced accuracy" in md and "Burrows' Delta" in md and "Goal" in md
    assert (out / "accuracy_vs_length.png").stat().st_size > 1000
    text = readme.read_text()
    assert "STALE-TABLE" not in text and "Balanced accuracy" in text and text.endswith("after\n")
    assert "](cmp/accuracy_vs_length.png)" in text


def test_works_protocol_holds_out_whole_works_and_tests_on_them(open_set_books, tiny_model, tmp_path):
    from whowrote.compare.protocol import fold_configs, run_protocol
    from whowrote.config import resolve
    from whowrote.model.bert import load_tokenizer

    base = resolve("cpu", model=str(tiny_model), data_dir=str(open_set_books), sources={"alice": ["91001"], "edgar": ["91002"]},
                   heldout={"alice": ["91003"], "edgar": ["91004"]}, per_class=4, lr=3e-3, block_len=128, seq_len=32,
                   output_dir=str(tmp_path))
    folds = fold_configs(base, "works", 0, 0, 16)
    assert [c.heldout for c, _ in folds] == [{"alice": ["91001"], "edgar": ["91002"]}, {"alice": ["91003"], "edgar": ["91004"]}]
    for c, _ in folds:  # never a work on both sides
        assert not set(sum(c.sources.values(), [])) & set(sum(c.heldout.values(), []))
    rows = run_protocol(base, load_tokenizer(base.model), [16], 0, 1, ["char"], protocol="works", bert_steps=3,
                        max_test_windows=40, progress=False)
    assert [r["held_out"] for r in rows if r["method"].startswith("char")] == ["alice:91001 edgar:91002", "alice:91003 edgar:91004"]
    assert all(r["test_alice"] > 0 and r["test_edgar"] > 0 for r in rows)
