"""``python -m sandboxres VERB``: the same as the ``sandboxres`` command."""

import sys

from sandboxres._doors.cli import main

sys.exit(main())
