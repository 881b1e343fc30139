"""Server: ``python -m twinls``, the same as the ``twinls`` command."""

from .cli import main

main()
