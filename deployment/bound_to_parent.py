"""Run a command that exits when its parent (supervisord) dies, as the gunicorn masters do.

    python -m deployment.bound_to_parent COMMAND [ARG...]

``prctl(PR_SET_PDEATHSIG)`` outlives ``exec``: set here, then the command replaces this process. Used
for the front's nginx (run with ``master_process off``: one process, so nothing of it can outlive
supervisord and hold the public port).
"""

from __future__ import annotations

import os
import signal
import sys

from shared.gunicorn_hooks import exit_with_parent


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    exit_with_parent(signal.SIGTERM)
    os.execvp(argv[0], argv)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
