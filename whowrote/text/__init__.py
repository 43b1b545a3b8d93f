"""Books to text: find, fetch and clean Gutenberg books (books.py), and the one
normalisation, typography and proper names, that training text and judged text share
(normalise.py). `whowrote data` lives in cli.py."""
