"""Zygote (project interpreter): the first code it runs, passed as ``python -c`` source.

Read as text by the server (``launch.bootstrap_source``) and run by the
project's Python before anything of twinls is importable there. It makes
twinls and its pure-Python dependencies importable by name only (a finder per
top-level name, pointing at the folder that holds it), so nothing else of
twinls's environment leaks into the project's: its site-packages, its pytest,
its plugins stay the project's own. It must run on Python 3.10 to 3.13 and use
the standard library only.
"""

import importlib.machinery
import importlib.metadata
import json
import sys


class NamedFinder:
    """Finds exactly the top-level names it was given, each in its own folder."""

    def __init__(self, folders):
        self.folders = dict(folders)

    def find_spec(self, name, path=None, target=None):
        folder = self.folders.get(name)
        if folder is None or path is not None:
            return None
        return importlib.machinery.PathFinder.find_spec(name, [folder])

    def find_distributions(self, context=None):
        """The metadata of exactly these names (pytest's header asks for pluggy's version).

        Never every distribution of a folder: twinls's site-packages holds plugins
        (``pytest11`` entry points) that must not load into the project's runs.
        """
        context = context or importlib.metadata.DistributionFinder.Context()
        wanted = [context.name] if context.name is not None else list(self.folders)
        for name in wanted:
            folder = self.folders.get(name.replace("-", "_").lower())
            if folder is None:
                continue
            where = importlib.metadata.DistributionFinder.Context(name=name, path=[folder])
            yield from importlib.metadata.MetadataPathFinder.find_distributions(where)

    def invalidate_caches(self):
        pass


def boot(spec):
    """Install the finders, then hand over to the zygote's loop."""
    sys.dont_write_bytecode = True
    sys.meta_path.insert(0, NamedFinder(spec["own"]))
    fallback = None
    if importlib.machinery.PathFinder.find_spec("pytest") is None:
        # The project has no pytest: runs use twinls's, and status says so.
        fallback = NamedFinder(spec["fallback"])
        sys.meta_path.append(fallback)
    from twinls.twin import zygote

    zygote.main(spec, pytest_fallback=fallback is not None)


if __name__ == "__main__":
    boot(json.loads(sys.argv[1]))
