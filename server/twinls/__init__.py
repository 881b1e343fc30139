"""Server side (the caller's process): twinls's public API, a language server with twins."""

from .api import Twin
from .server.promise import Promise, TwinDied, TwinError, TwinUnavailable
from .twin.context import current

__all__ = ["Promise", "Twin", "TwinDied", "TwinError", "TwinUnavailable", "current"]
__version__ = "0.1.0"
