"""The real projects the parity suite runs (pinned sdists) and how each one is broken.

Each project brings a different pytest style. ``breaks`` are deliberate bugs put
into a function of the project (in the unpacked copy, never the repo), so the
comparison covers failures, not only passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Break:
    """Replace ``old`` by ``new`` in ``path`` (relative to the project's root)."""

    path: str
    old: str
    new: str


@dataclass(frozen=True)
class Project:
    name: str
    version: str
    style: str
    tests: str  # the folder of test files
    deps: tuple[str, ...] = ()  # what its tests need beyond pytest
    breaks: tuple[Break, ...] = ()
    skip_files: tuple[str, ...] = field(default=())  # files that need what cannot be had here

    @property
    def sdist(self) -> str:
        return f"{self.name}=={self.version}"


PROJECTS = (
    Project(
        "more-itertools",
        "10.5.0",
        "unittest.TestCase classes with self.subTest",
        "tests",
        breaks=(
            Break(
                "more_itertools/recipes.py",
                "    return list(islice(iterable, n))\n",
                "    return list(islice(iterable, n + 1))\n",
            ),
        ),
    ),
    Project(
        "pyparsing",
        "3.1.4",
        "large unittest suites, subTest in loops",
        "tests",
        skip_files=("tests/test_diagram.py",),  # needs railroad-diagrams and jinja2 extras
    ),
    Project(
        "attrs",
        "25.4.0",
        "hypothesis, conftest, addopts --strict-markers --strict-config --import-mode=importlib",
        "tests",
        deps=("hypothesis", "pympler", "cloudpickle"),
        skip_files=("tests/test_mypy.py",),
    ),
    Project(
        "packaging",
        "24.1",
        "heavy parametrization",
        "tests",
        deps=("pretend",),
        breaks=(
            Break(
                "src/packaging/version.py",
                "        return self.dev is not None or self.pre is not None\n",
                "        return self.pre is not None\n",
            ),
        ),
    ),
    Project(
        "pluggy",
        "1.5.0",
        "conftest fixtures, filterwarnings = error, addopts -r a",
        "testing",
        skip_files=("testing/benchmark.py",),  # needs pytest-benchmark
    ),
)

#: What CI runs: one project, its smallest files, and its break.
CI_SUBSET = {"more-itertools": ("tests/test_recipes.py",)}
