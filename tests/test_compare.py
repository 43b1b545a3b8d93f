"""Baselines, the blocked k-fold protocol and the comparison report, on invented styles."""

import csv
import math

import numpy as np
import pytest

from tests.conftest import STYLE_A, STYLE_B, invented_text
from whowrote.baselines import BurrowsDelta, CharNgrams, WordNgrams


def _passages(style, n, seed):
    words = invented_text(style, n * 20, seed).split()
    return [" ".join(words[i * 20 : (i + 1) * 20]) for i in range(n)]


@pytest.mark.parametrize("cls", [CharNgrams, WordNgrams, BurrowsDelta])
def test_each_baseline_separates_two_invented_styles(cls):
    train = _passages(STYLE_A, 60, 1) + _passages(STYLE_B, 60, 2)
    y = np.array([0] * 60 + [1] * 60)
    test = _passages(STYLE_A, 20, 3) + _passages(STYLE_B, 20, 4)
    model = cls().fit(train, y, test[:5] + test[-5:], np.array([0] * 5 + [1] * 5))
    p = model.predict_proba(test)
    assert p.shape == (40, 2) and np.allclose(p.sum(axis=1), 1)
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


def test_kfold_split_on_books_tests_every_block_once_and_never_trains_on_it(tiny_config):
    import dataclasses

    from whowrote.data import prepare
    from whowrote.model import load_tokenizer

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
    code = main(["compare", "--run", str(run), "--lengths", "8", "16", "--folds", "3", "--seeds", "1",
                 "--bert-steps", "3", "--ensemble", "--out", str(out), "--readme", str(readme), "--quiet"])
    assert code == 0
    rows = list(csv.DictReader(open(out / "results_folds.csv")))
    assert len(rows) == 3 * 2 * 5  # folds x lengths x (3 baselines + BERT + ensemble)
    assert {r["fold"] for r in rows} == {"0", "1", "2"}
    summary = list(csv.DictReader(open(out / "results.csv")))
    assert len(summary) == 2 * 5 and all(float(r["fit_s_total"]) >= 0 for r in summary)
    assert all(int(float(r["test_alice_per_fold"])) > 0 for r in summary)
    md = (out / "results.md").read_text()
    assert "Balanced accuracy" in md and "Burrows' Delta" in md and "Goal" in md
    assert (out / "accuracy_vs_length.png").stat().st_size > 1000
    text = readme.read_text()
    assert "STALE-TABLE" not in text and "Balanced accuracy" in text and text.endswith("after\n")
    assert "](cmp/accuracy_vs_length.png)" in text
