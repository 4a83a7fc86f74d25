"""``python -m sandboxres VERB``: the same as the ``sandboxres`` command."""

import sys

from ._cli import main

sys.exit(main())
