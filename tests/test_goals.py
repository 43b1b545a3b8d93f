"""The goals at a glance: each bound read against the run's own figures, met or not."""

import pytest

from whowrote.errors import WhowroteError
from whowrote.evaluation.goals import PROBE_GOALS, goal_text, goals_table

REPORT = {"unseen": {"ece": 0.04, "per_label": {
    "alice": {"own_label": 0.95, "neither": 0.0}, "edgar": {"own_label": 0.92, "neither": 0.07},
    "neither": {"own_label": 0.91, "neither": 0.91}}}}


def row(table: str, goal: str) -> list[str]:
    (line,) = [ln for ln in table.splitlines() if ln.startswith(f"| {goal} |")]
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_goal_texts_are_the_ones_validity_json_has_always_stored():
    assert goal_text("names -> other author") == "changed <= 0.02, shift within ±0.05"
    assert goal_text("names -> neutral") == "accuracy >= 0.95"
    assert goal_text("seeds") == "agreement >= 0.95"
    assert goal_text("word dropout 10%") == ""  # reported, no goal
    assert all(goal_text(p) for p in PROBE_GOALS)


def test_each_goal_is_met_or_not_by_the_runs_own_figures():
    validity = {"probes": {
        "names -> other author": {"changed": 0.0, "mean_shift": -0.06, "accuracy_after": 0.96},  # the shift fails
        "names -> neutral": {"changed": 0.0, "mean_shift": 0.0, "accuracy_after": 0.95},  # on the bound: met
        "typos 5%": {"changed": 0.049, "mean_shift": 0.0, "accuracy_after": 0.8}},
        "seeds": {"agreement": 0.96}}
    table = goals_table(REPORT, validity)
    assert row(table, 'authors never seen flagged "neither"')[2:] == ["0.910", "yes"]
    assert row(table, 'each author\'s unseen passages flagged "neither"')[2:] == ["alice 0.000, edgar 0.070", "**no**"]
    assert row(table, "ECE on unseen works")[3] == "yes"
    assert row(table, "names -> other author")[2:] == ["0.000, -0.060", "**no**"]
    assert row(table, "names -> neutral")[3] == "yes" and row(table, "typos 5%")[3] == "yes"
    assert row(table, "stability: seeds agree")[2:] == ["0.960", "yes"]
    assert "lower-case" not in table  # a probe not run has no row


def test_an_order_probe_with_figures_by_author_must_be_met_by_each_author():
    # the issue's bound is each author's: Carroll's shuffled passages given to Carroll, not both authors' mean
    shuffled = {"given_to_author": 0.12, "mean_s": 0.1,
                "by_author": {"alice": {"given_to_author": 0.30, "mean_s": 0.2}, "edgar": {"given_to_author": 0.05, "mean_s": 0.1}}}
    table = goals_table(REPORT, {"order": {"shuffled words": shuffled}})
    assert row(table, "shuffled words")[2:] == ["alice 0.300, edgar 0.050", "**no**"]
    shuffled["by_author"]["alice"]["given_to_author"] = 0.2  # on the bound: met
    assert row(goals_table(REPORT, {"order": {"shuffled words": shuffled}}), "shuffled words")[3] == "yes"
    del shuffled["by_author"]  # files without figures by author: the passages together, as before
    assert row(goals_table(REPORT, {"order": {"shuffled words": shuffled}}), "shuffled words")[2:] == ["0.120", "yes"]


def test_a_stuffed_share_is_shown_beside_the_same_passages_as_written():
    # the stuffed passages are other authors': some went to the author before any word was slipped in
    stuffed = {"given_to_author": 0.11, "mean_s": 0.1, "as_written": 0.2,
               "by_author": {"alice": {"given_to_author": 0.06, "mean_s": 0.1, "as_written": 0.1},
                             "edgar": {"given_to_author": 0.13, "mean_s": 0.1, "as_written": 0.3}}}
    table = goals_table(REPORT, {"order": {"keywords stuffed 10%": stuffed}})
    assert row(table, "keywords stuffed 10%")[2:] == ["alice 0.060 (0.100 as written), edgar 0.130 (0.300 as written)", "**no**"]


def test_a_run_without_held_out_numbers_has_no_goals_table():
    assert goals_table({}, {}) == ""


def test_markov_text_must_earn_more_the_more_order_it_keeps():
    order = {f"Markov order {k}": {"given_to_author": 1.0, "mean_s": s} for k, s in zip((1, 2, 3, 4), (0.1, 0.3, 0.6, 0.8))}
    table = goals_table(REPORT, {"order": order})
    assert row(table, "Markov order 1")[2:] == ["0.100", "yes"]
    assert row(table, "Markov order 1-4: mean S rises with the order")[1:] == ["increasing", "0.100, 0.300, 0.600, 0.800", "yes"]
    order["Markov order 3"]["mean_s"] = 0.9  # falls again at order 4
    assert row(goals_table(REPORT, {"order": order}), "Markov order 1-4: mean S rises with the order")[3] == "**no**"
    del order["Markov order 4"]
    assert "rises with the order" not in goals_table(REPORT, {"order": order})  # not every order measured


def test_other_seeds_are_columns_and_each_goal_counts_the_seeds_that_meet_it():
    seed1 = {"unseen": {**REPORT["unseen"], "ece": 0.06}}  # this seed misses the ECE goal
    seed2 = {"unseen": {**REPORT["unseen"], "ece": 0.03}}
    validity = {"probes": {"typos 5%": {"changed": 0.04}}, "seeds": {"agreement": 0.9}}
    table = goals_table(REPORT, validity, [(seed1, {"probes": {"typos 5%": {"changed": 0.06}}}), (seed2, {})])
    assert table.splitlines()[0] == "| goal | bound | this run | seed +1 | seed +2 | met |"
    assert row(table, "ECE on unseen works")[2:] == ["0.040", "0.060", "0.030", "2 of 3 **no**"]
    assert row(table, "authors never seen flagged \"neither\"")[5] == "3 of 3"
    # a seed without the probe is no figure, not a miss; agreement is measured across seeds, on this run
    assert row(table, "typos 5%")[2:] == ["0.040", "0.060", "-", "1 of 2 **no**"]
    assert row(table, "stability: seeds agree")[2:] == ["0.900", "-", "-", "0 of 1 **no**"]


def test_the_seed_runs_are_found_in_the_run_folder_in_seed_order(tmp_path):
    import json

    from whowrote.evaluation.goals import seed_figures
    from whowrote.layout import RunFiles

    files = RunFiles(tmp_path)
    for k, ece in ((10, 0.01), (2, 0.02), (1, 0.03)):
        seed = RunFiles(files.seed_run(k))
        seed.root.mkdir(parents=True)
        seed.config.write_text("{}")
        seed.report.write_text(json.dumps({"unseen": {**REPORT["unseen"], "ece": ece}}))
    (files.seeds / "seed3").mkdir()  # stopped before it wrote its config: not a run
    (files.seeds / "notes").mkdir()
    assert [p.name for p in files.seed_runs()] == ["seed1", "seed2", "seed10"]
    assert [r["unseen"]["ece"] for r, v in seed_figures(tmp_path)] == [0.03, 0.02, 0.01]
    assert seed_figures(tmp_path / "elsewhere") == []
    # a seed's report cut short: one sentence naming the folder and how to write it again, not a traceback
    RunFiles(files.seed_run(2)).report.write_text('{"unseen": {"ece"')
    with pytest.raises(WhowroteError, match=r"seed2: report.json or validity.json is not JSON .*whowrote evaluate"):
        seed_figures(tmp_path)


def test_a_looped_sentence_must_not_send_more_other_authors_to_an_author():
    looped = {"passages": 40, "given_to_an_author": 0.30, "as_written": 0.20, "rise": 0.10}
    assert row(goals_table(REPORT, {"order": {"one sentence looped": looped}}),
               "one sentence looped (ours)")[2:] == ["0.100", "**no**"]
    looped.update(given_to_an_author=0.22, rise=0.02)
    assert row(goals_table(REPORT, {"order": {"one sentence looped": looped}}), "one sentence looped (ours)")[3] == "yes"
