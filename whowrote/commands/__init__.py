"""The command line's fronts, one module per command group, above every stage: each parses its
flags, calls the stages its command runs and prints the result; `whowrote/cli.py` assembles
them. No stage imports a front.

    whowrote train --help
"""
