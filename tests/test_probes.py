"""The validity probes' word lists and insertion, on hand-written text."""

from whowrote.evaluation.probes import NEUTRAL_WORDS, insert_words
from whowrote.text.topics import topic_words

KITTENS = ("The kitten chased the chess pawn across the carpet while the kitten purred. "
           "She remarked that the pudding was wholesome, and the kitten agreed. ") * 6
TOMBS = ("The corpse lay within the sepulchre, and the chamber was utterly silent. "
         "A ghastly horror arose from the corpse in the chamber. ") * 6


def test_topic_words_are_each_labels_own_content_words():
    words = topic_words({"alice": [KITTENS], "edgar": [TOMBS]}, min_count=5)
    assert "kitten" in words["alice"][:3] and "corpse" in words["edgar"][:3]
    assert not set(words["alice"]) & set(words["edgar"])  # a word is distinctive of one side only
    for w in words["alice"] + words["edgar"]:
        assert w not in {"the", "and", "was", "from", "while", "that"}  # frequent words never count
        assert len(w) >= 4 and w.islower()
    # capitalised words are not cut into lower-case fragments ("Things" gives no "hings")
    assert "hings" not in topic_words({"a": ["Things " * 20 + KITTENS], "b": [TOMBS]}, min_count=5)["a"]


def test_insert_words_adds_the_share_asked_and_keeps_the_passage_in_order():
    text = " ".join(f"w{i}" for i in range(100))
    out = insert_words(text, NEUTRAL_WORDS, 0.05, seed=3).split()
    assert len(out) == 105 and [w for w in out if w.startswith("w")] == text.split()
    assert all(w in NEUTRAL_WORDS for w in out if not w.startswith("w"))
    assert insert_words(text, NEUTRAL_WORDS, 0.05, seed=3) == " ".join(out)  # deterministic for a seed


def test_a_looped_passage_says_its_first_sentence_over_and_over_at_the_passages_length():
    from whowrote.evaluation.probes import loop_first_sentence

    text = "The kitten slept by the fire. Alice sat down, and the Queen was curious! Was it a raven?"
    looped = loop_first_sentence(text)
    assert len(looped.split()) == len(text.split())
    assert looped.startswith("The kitten slept by the fire. The kitten slept by the fire. The kitten")
    assert loop_first_sentence("no stop at all here") == "no stop at all here"


def test_order_probes_keep_the_words_and_break_the_order():
    from collections import Counter

    from whowrote.evaluation.probes import markov_passages, reorder_sentences, shuffle_local, shuffle_words

    text = "Alice sat down. The Queen was curious! Was it a raven? The kitten slept by the fire, and dreamt."
    for fn in (shuffle_words, shuffle_local):
        out = fn(text, 3)
        assert Counter(out.split()) == Counter(text.split()) and out != text
    reordered = reorder_sentences(text, 1)
    assert sorted(reordered.split(". ")) != [] and set(reordered.split()) == set(text.split())
    assert "The Queen was curious!" in reordered and reordered != text
    source = ("one two three four five six seven eight nine ten " * 3).split()
    for order in (1, 2, 3):
        for passage in markov_passages([" ".join(source)], order, 3, 12, 0):
            words = passage.split()
            assert len(words) == 12
            pairs = set(zip(source, source[1:]))
            assert all(p in pairs for p in zip(words, words[1:]))  # every step is one the source takes
