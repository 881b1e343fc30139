import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

UNIT = Path(__file__).parent / "unit"


def pytest_collection_modifyitems(session, config, items):
    """tests/unit first: the fast layer fails in seconds, before the end-to-end suite."""
    items.sort(key=lambda item: UNIT not in Path(str(item.path)).parents)
