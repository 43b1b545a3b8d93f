"""The one exception type whowrote raises for bad input, and the exit codes it maps to.

The CLI (`whowrote ...`) catches `WhowroteError` and prints its message as one line on
stderr, then exits with its `exit_code`: users see a sentence, never a traceback.

Exit codes (documented in the README):
    0  success
    1  a batch finished but some records could not be scored (judge)
    2  bad input: usage, missing file or book, bad model or run folder, bad config
    3  training stopped: the loss became NaN/inf
  130  interrupted (Ctrl-C); a checkpoint was saved where possible
"""

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130


class WhowroteError(Exception):
    """An error whose message is fit to show a user as it is."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT):
        super().__init__(message)
        self.exit_code = exit_code
