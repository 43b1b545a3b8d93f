"""The background authors of "neither", and how they are shared out by author among roles.

Sixty-four other authors (one book each, Project Gutenberg numbers, 1726-2008) teach the
judge what "neither" looks like. A book of one of them is used in one role only: it trains
"neither", or fits the temperature and thresholds (calibration), or measures them (test),
so every figure on the test authors is on authors that neither training nor calibration saw.
`author_folds` cuts the authors into K folds spread over the years (each fold holds every
era); fold f is the test fold, fold f+1 the calibration fold and the rest train. Running all
K folds scores every author once by a model that never saw them (cross-validation).

    python -m whowrote.text.background 5 0      # the test, calibration and training books of fold 0 of 5
"""

from __future__ import annotations

from ..errors import WhowroteError
from .books import ebook_id

# Gutenberg number -> (author, year of first publication), as ../shared/corpora/MANIFEST.tsv
BACKGROUND_BOOKS: dict[str, tuple[str, int]] = {
    "98": ("Charles Dickens", 1859), "2701": ("Herman Melville", 1851), "43": ("Robert Louis Stevenson", 1886),
    "236": ("Rudyard Kipling", 1894), "1260": ("Charlotte Brontë", 1847), "550": ("George Eliot", 1861),
    "41": ("Washington Irving", 1820), "829": ("Jonathan Swift", 1726), "55": ("L. Frank Baum", 1900),
    "289": ("Kenneth Grahame", 1908), "708": ("George MacDonald", 1872), "25564": ("Charles Kingsley", 1863),
    "10007": ("J. Sheridan Le Fanu", 1872), "209": ("Henry James", 1898), "308": ("Jerome K. Jerome", 1889),
    "82": ("Walter Scott", 1819), "619": ("Anthony Trollope", 1855), "107": ("Thomas Hardy", 1874),
    "36": ("H. G. Wells", 1898), "155": ("Wilkie Collins", 1868), "2166": ("H. Rider Haggard", 1885),
    "2814": ("James Joyce", 1914), "269": ("Saki", 1914), "8164": ("P. G. Wodehouse", 1919),
    "5758": ("W. W. Jacobs", 1896), "5164": ("Richard Marsh", 1897), "767": ("Anne Brontë", 1847),
    "271": ("Anna Sewell", 1877), "60": ("Baroness Orczy", 1905), "755": ("Isabella L. Bird", 1879),
    "8954": ("Mary Elizabeth Braddon", 1862), "1327": ("Elizabeth von Arnim", 1898),
    "1429": ("Katherine Mansfield", 1922), "940": ("James Fenimore Cooper", 1826),
    "2944": ("Ralph Waldo Emerson", 1841), "215": ("Jack London", 1903), "2776": ("O. Henry", 1906),
    "6373": ("Bret Harte", 1870), "140": ("Upton Sinclair", 1906), "416": ("Sherwood Anderson", 1919),
    "62": ("Edgar Rice Burroughs", 1912), "23": ("Frederick Douglass", 1845), "514": ("Louisa May Alcott", 1868),
    "203": ("Harriet Beecher Stowe", 1852), "160": ("Kate Chopin", 1899), "24": ("Willa Cather", 1913),
    "32": ("Charlotte Perkins Gilman", 1915), "11030": ("Harriet Jacobs", 1861),
    "4047": ("Anna Katharine Green", 1878), "32154": ("Philip K. Dick", 1953), "28346": ("Harry Harrison", 1960),
    "32256": ("Fritz Leiber", 1958), "30142": ("Cory Doctorow", 2008), "18492": ("Alan E. Nourse", 1959),
    "19471": ("Lester del Rey", 1957), "23335": ("Randall Garrett", 1962), "17870": ("Murray Leinster", 1962),
    "31979": ("Frederik Pohl", 1955), "30971": ("Poul Anderson", 1963), "24395": ("James H. Schmitz", 1962),
    "50847": ("Evelyn E. Smith", 1952), "51193": ("Katherine MacLean", 1951), "32664": ("Leigh Brackett", 1951),
    "24370": ("Mack Reynolds", 1962),
}
# Parts of a book that another writer wrote are cut by its source's @FROM..UNTIL
# (text/books.py): Little Brother ends with afterwords by Schneier and Huang, then a bibliography.
BOOK_PARTS = {"30142": "30142@..Afterword by Bruce Schneier"}
BACKGROUND_SOURCES = [BOOK_PARTS.get(b, b) for b in BACKGROUND_BOOKS]  # what the authors preset reads
# (label, first year, last year): where "neither" is weak shows by era
ERAS = (("before 1870", 0, 1869), ("1870-1920", 1870, 1920), ("after 1920", 1921, 9999))


def era(year: int | None) -> str:
    """The era a year of first publication falls in ("unknown" without one)."""
    for name, first, last in ERAS:
        if year is not None and first <= year <= last:
            return name
    return "unknown"


def author_folds(books: list[str], k: int, years: dict[str, int] | None = None,
                 authors: dict[str, str] | None = None) -> list[list[str]]:
    """`books` (one per author) in `k` folds, each spread over the years: sorted by year, the
    books are dealt to the folds in turn. Two books of one author, or one book twice, is an
    error, as an author in two folds would be seen by the model that is tested on them."""
    years = years if years is not None else {b: y for b, (_, y) in BACKGROUND_BOOKS.items()}
    authors = authors if authors is not None else {b: a for b, (a, _) in BACKGROUND_BOOKS.items()}
    seen: dict[str, str] = {}
    for book in books:
        who = authors.get(ebook_id(book), f"book {book}")
        if who in seen:
            raise WhowroteError(f"background: {who} has two books ({seen[who]} and {book}); author folds need one "
                                f"book per author, or the author would sit in two folds")
        seen[who] = book
    if not 3 <= k <= len(books):
        raise WhowroteError(f"background: {k} author folds need 3..{len(books)} (a test, a calibration and a training fold)")
    ordered = sorted(books, key=lambda b: (years.get(ebook_id(b), 0), b))
    return [ordered[i::k] for i in range(k)]


def background_roles(books: list[str], k: int, fold: int) -> tuple[list[str], list[str], list[str]]:
    """(training, calibration, test) books of fold `fold` of `k`: test = that fold,
    calibration = the next one, training = the rest."""
    if not 0 <= fold < k:
        raise WhowroteError(f"background: author fold {fold} is not in 0..{k - 1}")
    folds = author_folds(books, k)
    test, calib = folds[fold], folds[(fold + 1) % k]
    train = [b for i, f in enumerate(folds) if i not in (fold, (fold + 1) % k) for b in f]
    return train, calib, test


if __name__ == "__main__":
    import sys

    k, f = (int(a) for a in (sys.argv[1:3] if len(sys.argv) > 2 else (5, 0)))
    for role, ids in zip(("train", "calibration", "test"), background_roles(BACKGROUND_SOURCES, k, f)):
        print(f"{role} ({len(ids)}):", ", ".join("{} {}".format(*BACKGROUND_BOOKS[ebook_id(b)]) for b in ids))
