"""`python -m whowrote ...` (also what `accelerate launch -m whowrote train` runs)."""

import sys

from .cli import main

sys.exit(main())
