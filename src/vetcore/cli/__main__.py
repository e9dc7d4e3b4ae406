"""``python -m vetcore.cli``: the same as the ``vetcore`` command."""

import sys

from vetcore.cli import command

sys.exit(command())
