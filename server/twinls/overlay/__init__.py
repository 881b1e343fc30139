"""The twin's in-memory overlay over the files on disk."""

from .entries import apply_entry
from .store import SKIP_DIRS, Divergence, Overlay, decode_source

__all__ = ["SKIP_DIRS", "Divergence", "Overlay", "apply_entry", "decode_source"]
