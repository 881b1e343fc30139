"""Server launcher inside the VS Code extension (the python-tools-extension-template layout).

``bundled/libs`` holds twinls and its dependencies, put there by
scripts/setup-vscode.sh, so a user installs only the extension: any Python 3.10+
runs this file and the server imports everything from the bundle. The twins
never see the bundle's site folder: they run in the project's interpreter (a
zygote, twin/launch.py) with only twinls's own packages importable by name.
"""

import os
import sys

if sys.version_info < (3, 10):
    sys.exit(f"twinls: the server needs Python 3.10 or newer, not {sys.version.split()[0]}")

LIBS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "libs")
sys.path.insert(0, LIBS)
sys.dont_write_bytecode = True  # the extension's folder stays as installed

from twinls.server import interpreter  # noqa: E402

interpreter.SERVER_IS_BUNDLED = True  # forking here would hand the twins the bundle's pytest

from twinls.cli import main  # noqa: E402

main()
