"""Shared: code both the server and the twins import (frames, text, overlay, schemas)."""
