"""Books to text: find, fetch and clean Gutenberg books (books.py), and the one
normalisation that training text and judged text share (normalise.py: folding, typography,
then spelling.py's repair and names.py's proper-name masking). `whowrote data` lives in
commands/data.py."""
