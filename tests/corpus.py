"""Where the shared scanner corpus lies (it is read where it is, never copied into the repository).

RAMPART_CORPUS wins; otherwise ../shared/corpus beside the checkout, then the
workplace's fixed location, so that a clone anywhere on the machine (CI clones
into a temporary folder) still finds it.
"""

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
_CANDIDATES = [_ROOT.parent / "shared" / "corpus", Path("/work/shared/corpus")]


def corpus_path() -> Path:
    if os.environ.get("RAMPART_CORPUS"):
        return Path(os.environ["RAMPART_CORPUS"])
    return next((path for path in _CANDIDATES if (path / "index.json").is_file()), _CANDIDATES[0])


CORPUS = corpus_path()
