"""twinls: a Python language server with a warm, synced twin process."""

from .api import Twin
from .server.promise import Promise, TwinDied, TwinError, TwinUnavailable
from .twin.context import current

__all__ = ["Promise", "Twin", "TwinDied", "TwinError", "TwinUnavailable", "current"]
__version__ = "0.1.0"
