"""The background authors: shared by author among training, calibration and test, every
fold spread over the years; quotations of the authors cut out of the background's books."""

import numpy as np
import pytest

from whowrote.config import resolve
from whowrote.data.split import LabelStream, build_stream, unseen_parts
from whowrote.errors import WhowroteError
from whowrote.text.background import BACKGROUND_BOOKS, BACKGROUND_SOURCES, ERAS, author_folds, background_roles, era
from whowrote.text.books import ebook_id
from whowrote.text.overlap import Overlap


def test_every_author_is_in_one_fold_and_every_fold_holds_every_era():
    folds = author_folds(BACKGROUND_SOURCES, 5)
    flat = [b for f in folds for b in f]
    assert sorted(flat) == sorted(BACKGROUND_SOURCES)  # each book once
    for fold in folds:
        eras = {era(BACKGROUND_BOOKS[ebook_id(b)][1]) for b in fold}
        assert eras == {name for name, _, _ in ERAS}


def test_roles_are_disjoint_and_each_author_is_tested_once_over_the_folds():
    tested = []
    for fold in range(5):
        train, calib, test = background_roles(BACKGROUND_SOURCES, 5, fold)
        assert not (set(train) & set(calib) or set(train) & set(test) or set(calib) & set(test))
        assert len(train) + len(calib) + len(test) == len(BACKGROUND_SOURCES)
        tested += test
    assert sorted(tested) == sorted(BACKGROUND_SOURCES)


def test_an_author_with_two_books_or_a_bad_fold_is_an_error_before_any_work():
    with pytest.raises(WhowroteError, match="two books"):
        author_folds(["1", "2", "3", "4"], 3, years={}, authors={"1": "A", "2": "A", "3": "B", "4": "C"})
    with pytest.raises(WhowroteError, match="author fold 5"):
        background_roles(BACKGROUND_SOURCES, 5, 5)
    with pytest.raises(WhowroteError, match="author_fold"):
        resolve("authors", author_fold=7)
    with pytest.raises(WhowroteError, match="both trained on as 'alice'"):
        resolve("authors", add_sources={"alice": [BACKGROUND_SOURCES[0]]})  # one book, two labels


def test_the_authors_preset_trains_calibrates_and_tests_on_different_authors():
    c = resolve("authors")
    train, held, calib = c.sources["neither"], c.heldout["neither"], c.calibration["neither"]
    assert set(calib) < set(held) and not set(train) & set(held)
    assert len(train) + len(held) == len(BACKGROUND_BOOKS) and len(train) >= 36
    other = resolve("authors", author_fold=1)
    assert set(other.heldout["neither"]) - set(other.calibration["neither"]) == set(calib)  # fold 1 tests fold 0's calibration


def test_calibration_works_are_named_not_alternated():
    stream = LabelStream("neither", np.zeros(60, np.int32), [(0, 20), (20, 40), (40, 60)], [20, 20, 20])
    parts = unseen_parts(stream, calib_works=[2])
    assert list(parts["calib"]) == [2] and list(parts["test"]) == [0, 1]
    assert list(unseen_parts(stream)["calib"]) == [0, 2]  # without: alternate works


def test_a_book_shorter_than_a_window_is_named(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    with pytest.raises(WhowroteError, match="91009 .* shorter than one window"):
        build_stream("neither", ["the queen " * 50, "the raven"], tok, 64, 30, ["91008", "91009"])


def test_quotations_of_eight_words_or_more_are_cut_and_counted():
    poe = "Once upon a midnight dreary, while I pondered, weak and weary, over many a quaint and curious volume"
    overlap = Overlap([poe])
    novel = ("He came in. Once upon a midnight dreary, while I pondered, weak and weary, he said, and sat down. "
             "Once upon a midnight he slept.")
    text, dropped = overlap.drop(novel)
    assert "pondered" not in text and dropped == 11 and "he said, and sat down" in text
    assert "Once upon a midnight he slept" in text  # four words shared is no quotation
    assert overlap.drop("Nothing quoted here at all, none of it.") == ("Nothing quoted here at all, none of it.", 0)
