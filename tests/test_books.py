import urllib.request
import warnings

import pytest

from tests.conftest import gutenberg_file
from whowrote.errors import WhowroteError
from whowrote.text import books


def test_clean_strips_header_footer_licence_bom_and_crlf():
    raw = gutenberg_file("Chapter one.\nIt was a dark night.")
    text, marked = books.clean(raw)
    assert marked
    assert text == "Chapter one.\nIt was a dark night."


@pytest.mark.parametrize("start,end", [
    ("*** START OF THE PROJECT GUTENBERG EBOOK X ***", "*** END OF THE PROJECT GUTENBERG EBOOK X ***"),
    ("***START OF THE PROJECT GUTENBERG EBOOK X***", "***END OF THE PROJECT GUTENBERG EBOOK X***"),
    ("*** START OF THIS PROJECT GUTENBERG ETEXT X ***", "End of the Project Gutenberg EBook of X"),
    ("*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*", "End of Project Gutenberg's X, by Y"),
])
def test_clean_knows_every_marker_variant(start, end):
    raw = f"Header licence text\n{start}\nBody words here.\n{end}\nLicence footer"
    text, marked = books.clean(raw)
    assert marked and text == "Body words here."


def test_produced_by_line_is_dropped():
    raw = ("*** START OF THIS PROJECT GUTENBERG EBOOK X ***\n\nProduced by Someone\nand Others\n\nReal text.\n"
           "*** END OF THIS PROJECT GUTENBERG EBOOK X ***")
    assert books.clean(raw)[0] == "Real text."


def test_locate_prefers_data_dir_then_cache(tmp_path, isolated_cache, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (isolated_cache / "books").mkdir(parents=True, exist_ok=True)
    (isolated_cache / "books" / "pg77.txt").write_text("cache")
    assert books.locate("77", str(data), download=False).read_text() == "cache"
    (data / "77-0.txt").write_text("data")
    assert books.locate("77", str(data), download=False).read_text() == "data"
    monkeypatch.setenv("WHOWROTE_DATA", str(data))
    assert books.locate("77", None, download=False).read_text() == "data"


def test_missing_book_offline_says_which_and_how(tmp_path):
    with pytest.raises(WhowroteError, match=r"#424242 .*--data-dir"):
        books.locate("424242", str(tmp_path), download=False)


def test_download_is_atomic_and_records_checksum(isolated_cache, monkeypatch):
    payload = gutenberg_file("Downloaded body.").encode()

    class Response:
        def __enter__(self): return self
        def __exit__(self, *a): return False
        def read(self): return payload

    monkeypatch.setattr(urllib.request, "urlopen", lambda req, timeout: Response())
    path = books.locate("31337", None, download=True)
    assert path == isolated_cache / "books" / "pg31337.txt" and path.read_bytes() == payload
    manifest = (isolated_cache / "books" / "MANIFEST.tsv").read_text()
    assert f"31337\tpg31337.txt\t{books.sha256_bytes(payload)}" in manifest
    assert not list(path.parent.glob("*.part"))


def test_download_failure_is_one_clear_error(monkeypatch):
    def fail(req, timeout):
        raise urllib.error.URLError("no network")
    monkeypatch.setattr(urllib.request, "urlopen", fail)
    monkeypatch.setattr(books.time, "sleep", lambda s: None)
    with pytest.raises(WhowroteError, match="#5555 is not available offline"):
        books.locate("5555", None, download=True)


def test_plain_text_without_markers_is_used_whole_with_warning(tmp_path):
    f = tmp_path / "essay.txt"
    f.write_text("Just an essay.\nNo markers at all.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        book = books.load(str(f))
    assert book.text == "Just an essay.\nNo markers at all." and not book.had_markers
    assert any("no Project Gutenberg" in str(w.message) for w in caught)


def test_binary_file_is_refused(tmp_path):
    f = tmp_path / "x.txt"
    f.write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(WhowroteError, match="binary"):
        books.load(str(f))


def test_a_source_can_name_the_part_of_the_book_by_its_author(tmp_path):
    (tmp_path / "pg77.txt").write_text(gutenberg_file("Memoir by a friend.\n\nTHE TALE\n\nThe tale itself.\n\nNOTES\n\nBy the editor."))
    assert books.load("77@THE TALE", str(tmp_path)).text == "THE TALE\n\nThe tale itself.\n\nNOTES\n\nBy the editor."
    assert books.load("77@THE TALE..NOTES", str(tmp_path)).text == "THE TALE\n\nThe tale itself."
    assert books.load("77@..NOTES", str(tmp_path)).text == "Memoir by a friend.\n\nTHE TALE\n\nThe tale itself."
    with pytest.raises(WhowroteError, match="no line starting with 'APPENDIX'"):
        books.load("77@APPENDIX", str(tmp_path))


def test_a_cache_that_cannot_be_written_is_its_own_error_at_once(tmp_path, monkeypatch):
    calls = []

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def read(self):
            return b"*** START OF THE PROJECT GUTENBERG EBOOK X ***\nText.\n*** END OF THE PROJECT GUTENBERG EBOOK X ***"

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: calls.append(1) or Response())
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("x")
    monkeypatch.setenv("WHOWROTE_CACHE", str(blocker))  # the cache folder cannot be made
    with pytest.raises(WhowroteError, match="downloaded but could not be written to the cache"):
        books.fetch("77")
    assert len(calls) == 1  # the download is not retried for a write error


def test_windows_1252_is_read_before_latin_1(tmp_path):
    path = tmp_path / "old.txt"
    path.write_bytes("\u201cWell,\u201d she said \u2014 caf\u00e9".encode("cp1252"))
    with pytest.warns(UserWarning, match="Windows-1252"):
        _, text = books.read_text(path)
    assert text == "\u201cWell,\u201d she said \u2014 caf\u00e9"
