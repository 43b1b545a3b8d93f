"""`whowrote data list | fetch | verify`: where each book comes from, getting it, checking it.

    whowrote data list --data-dir ../shared/corpora
    whowrote data fetch 12 2147               # into the cache ($WHOWROTE_CACHE)
    whowrote data verify --data-dir ../shared/corpora   # words, tokens, sha256 per book
"""

from __future__ import annotations

from ..config import DEFAULT_PRESET, resolve
from ..errors import EXIT_BAD_INPUT, EXIT_OK, WhowroteError
from ..text import books


def _sources(args) -> list[tuple[str, str]]:
    if args.ids:
        return [("-", s) for s in args.ids]
    config = resolve(args.preset)
    return [(label, s) for table in (config.sources, config.heldout) for label, srcs in table.items() for s in srcs]


def register(sub) -> None:
    p = sub.add_parser("data", help="list, fetch or verify the books")
    p.add_argument("action", choices=["list", "fetch", "verify"])
    p.add_argument("ids", nargs="*", help="ebook numbers or paths (default: the preset's books)")
    p.add_argument("--preset", help=f"whose books (default {DEFAULT_PRESET})")
    p.add_argument("--data-dir", help="folder of pg<ID>.txt files (or set WHOWROTE_DATA)")
    p.add_argument("--offline", action="store_true", help="never download")
    p.add_argument("--model", help="tokenizer for the token counts (default: the preset's model)")
    p.set_defaults(func=run)


def run(args) -> int:
    items = _sources(args)
    if args.action == "list":
        for label, source in items:
            try:
                where = books.locate(source, args.data_dir, download=False)
            except WhowroteError:
                where = "not local: will be downloaded from Project Gutenberg"
            print(f"{label}\t{source}\t{where}")
        return EXIT_OK
    if args.action == "fetch":
        for _, source in items:
            path = books.locate(source, args.data_dir, download=not args.offline)
            print(f"{source}\t{path}")
        return EXIT_OK
    from ..data.split import tokenize_cached
    from ..model.bert import load_tokenizer

    tokenizer = load_tokenizer(args.model or resolve(args.preset).model)
    bad = 0
    print("label\tsource\twords\ttokens\tsha256\tmanifest")
    for label, source in items:
        book = books.load(source, args.data_dir, download=not args.offline)
        expected = books.manifest(book.path.parent).get(source, {}).get("sha256")
        status = "-" if expected is None else ("ok" if expected == book.raw_sha256 else "MISMATCH")
        bad += status == "MISMATCH"
        tokens = len(tokenize_cached(book.text, tokenizer))
        print(f"{label}\t{source}\t{len(book.text.split())}\t{tokens}\t{book.raw_sha256}\t{status}")
    if bad:
        raise WhowroteError(f"{bad} book(s) differ from their MANIFEST.tsv sha256", EXIT_BAD_INPUT)
    return EXIT_OK
