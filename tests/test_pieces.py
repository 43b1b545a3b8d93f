"""The one reading of a WordPiece vocabulary that the augmenters share: which pieces start
a word, which continue one."""

import numpy as np

from whowrote.data.pieces import word_pieces


def _tokenizer():
    from transformers import BertTokenizer

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##whole", "##some", "kitten", "a", "12", "##5", ",", "##s"]
    tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True)
    assert len(tokenizer) == len(vocab)
    return tokenizer


def test_pieces_that_start_and_continue_words():
    tok = _tokenizer()
    vocab = word_pieces(tok)
    assert len(vocab) == len(tok)
    starts = {p for p, s in zip(vocab.pieces, vocab.starts_word) if s}
    assert starts == {"un", "kitten", "a"}  # no special token, number or mark starts a word
    assert {p for p, c in zip(vocab.pieces, vocab.continues) if c} == {"##whole", "##some", "##5", "##s"}

    ids = np.array(tok("unwholesome kitten kittens a", add_special_tokens=False)["input_ids"])
    # a word ends where no "##" piece follows: "some", the first "kitten" and "a"; not "un" or "kitten" of "kittens"
    assert [vocab.pieces[i] for i in ids[vocab.ends_here(ids)]] == ["##some", "kitten", "##s", "a"]
    assert word_pieces(tok) is vocab  # built once per tokenizer
