import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import os  # noqa: E402

from hypothesis import settings  # noqa: E402

from tests.support.mineru_offline import keep_mineru_offline  # noqa: E402

keep_mineru_offline()

# CI runs the fuzz tests with a fixed seed, so a red build is reproducible and a pass means the same
# examples passed; a developer's `make test` explores new random inputs every run (that is how the
# broken-TIFF and broken-PDF-tree 500s were found) — add each finding as a plain regression test.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
