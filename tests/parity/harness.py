"""Parity with pytest on real projects: ``twinls run FILE`` against ``python -m pytest FILE``.

For each project of ``projects.py``: download its pinned sdist (``pip download
--no-binary :all: --no-deps``), unpack it into a cache folder (never the repo),
make a venv holding twinls and the project (editable, so a deliberate break in
its source is what both runs import), then run every test file both ways and
compare the counts of pytest's closing line and the exit codes; then put each
deliberate break in, compare the files again, and take it out.

    python tests/parity/harness.py                 # every project, every file
    python tests/parity/harness.py --subset        # what CI runs (CI_SUBSET)
    python tests/parity/harness.py --project attrs --markdown

The cache folder is ``$TWINLS_PARITY_CACHE`` or ``~/.cache/twinls-parity``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from projects import CI_SUBSET, PROJECTS, Project  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CLOSING = re.compile(r"^=*\s*(.*?) in [\d.]+s(?: \([\d:]+\))?\s*=*$")
KEYS = {"warning": "warnings", "errors": "error"}
TIMEOUT = 900


def cache_dir() -> Path:
    return Path(os.environ.get("TWINLS_PARITY_CACHE", Path.home() / ".cache" / "twinls-parity"))


def closing_counts(stdout: str) -> dict[str, int] | None:
    """The counts of pytest's closing line (None: it printed none)."""
    for line in reversed(stdout.strip().splitlines()):
        m = CLOSING.match(line.strip())
        if m:
            if m.group(1) == "no tests ran":
                return {}
            found = re.findall(r"(\d+) ([a-z ]+?)(?=,|$)", m.group(1))
            return {KEYS.get(w, w): int(n) for n, w in found}
    return None


def sh(*argv: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(a) for a in argv], cwd=cwd, env=env, check=True, timeout=TIMEOUT)


def prepare(project: Project, base: Path) -> tuple[Path, Path]:
    """The unpacked project and its venv's python, made once and kept in the cache."""
    src = base / "src" / f"{project.name}-{project.version}"
    venv = base / "venvs" / f"{project.name}-{project.version}"
    python = venv / "bin" / "python"
    ready = venv / ".twinls-parity-ready"
    if not src.exists():
        downloads = base / "sdists"
        downloads.mkdir(parents=True, exist_ok=True)
        sh(
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-binary",
            ":all:",
            "--no-deps",
            "-d",
            downloads,
            project.sdist,
        )
        stem = project.name.replace("-", "[-_]")
        (archive,) = [
            p
            for p in downloads.iterdir()
            if re.match(rf"{stem}-{re.escape(project.version)}\.tar\.gz$", p.name, re.I)
        ]
        with tarfile.open(archive) as tar:
            top = tar.getnames()[0].split("/")[0]
            tar.extractall(base / "src", filter="data")
        (base / "src" / top).rename(src)
    # The venv holds an editable twinls: one made from another checkout (a worktree
    # since removed) would import that checkout's code, or none.
    if not ready.exists() or ready.read_text() != f"{REPO}\n":
        if venv.exists():
            shutil.rmtree(venv)
        sh(sys.executable, "-m", "venv", venv)
        sh(python, "-m", "pip", "install", "-q", "-e", REPO, "pytest", *project.deps)
        sh(python, "-m", "pip", "install", "-q", "-e", src)
        ready.write_text(f"{REPO}\n")
    return src, python


@dataclass
class Row:
    project: str
    file: str
    broken: bool
    pytest_exit: int
    twinls_exit: int
    pytest_counts: dict[str, int] | None
    twinls_counts: dict[str, int] | None
    pytest_seconds: float
    twinls_seconds: float

    @property
    def same(self) -> bool:
        return self.pytest_exit == self.twinls_exit and self.pytest_counts == self.twinls_counts


def compare(project: Project, src: Path, python: Path, file: str, broken: bool) -> Row:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    outcomes = {}
    for name, argv in (
        ("pytest", [python, "-m", "pytest", "-p", "no:cacheprovider", file]),
        ("twinls", [python, "-m", "twinls", "run", file]),
    ):
        start = time.monotonic()
        proc = subprocess.run(
            [str(a) for a in argv],
            cwd=src,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        outcomes[name] = (proc, time.monotonic() - start)
    (plain, t_plain), (ours, t_ours) = outcomes["pytest"], outcomes["twinls"]
    row = Row(
        project.name,
        file,
        broken,
        plain.returncode,
        ours.returncode,
        closing_counts(plain.stdout),
        closing_counts(ours.stdout),
        t_plain,
        t_ours,
    )
    if not row.same:
        log = cache_dir() / "diffs" / f"{project.name}-{file.replace('/', '_')}-{int(broken)}.txt"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(
            f"--- pytest\n{plain.stdout}\n{plain.stderr}\n--- twinls\n{ours.stdout}\n"
            f"{ours.stderr}\n"
        )
    return row


def test_files(project: Project, src: Path) -> list[str]:
    folder = src / project.tests
    files = sorted(
        str(p.relative_to(src))
        for p in folder.rglob("*.py")
        if p.name.startswith("test_") or p.name.endswith("_test.py")
    )
    return [f for f in files if f not in project.skip_files]


def run_project(project: Project, only: tuple[str, ...] | None, jobs: int) -> list[Row]:
    src, python = prepare(project, cache_dir())
    files = list(only) if only else test_files(project, src)
    with ThreadPoolExecutor(jobs) as pool:
        rows = list(pool.map(lambda f: compare(project, src, python, f, False), files))
    for br in project.breaks:
        target = src / br.path
        text = target.read_text()
        assert br.old in text, f"{project.name}: the break's line is not in {br.path}"
        target.write_text(text.replace(br.old, br.new, 1))
        try:
            with ThreadPoolExecutor(jobs) as pool:
                rows += list(pool.map(lambda f: compare(project, src, python, f, True), files))
        finally:
            target.write_text(text)
    return rows


def counts_text(counts: dict[str, int] | None) -> str:
    if counts is None:
        return "(no closing line)"
    return ", ".join(f"{n} {k}" for k, n in counts.items()) or "no tests ran"


def markdown(rows: list[Row]) -> str:
    out = [
        "| project | file | broken | pytest | twinls | exit (pytest/twinls) | same |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.project} | {r.file} | {'yes' if r.broken else ''}"
            f" | {counts_text(r.pytest_counts)} | {counts_text(r.twinls_counts)}"
            f" | {r.pytest_exit}/{r.twinls_exit}"
            f" | {'✓' if r.same else '✗'} |"
        )
    same = sum(r.same for r in rows)
    out.append("")
    out.append(
        f"{same} of {len(rows)} file runs match ({len({r.project for r in rows})} projects)."
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--subset", action="store_true", help="only what CI runs")
    p.add_argument("--project", action="append", help="only this project (repeatable)")
    p.add_argument("--jobs", type=int, default=2, help="files compared at once")
    p.add_argument("--markdown", action="store_true", help="print a table for docs/benchmarks.md")
    args = p.parse_args(argv)
    rows: list[Row] = []
    for project in PROJECTS:
        if args.subset and project.name not in CI_SUBSET:
            continue
        if args.project and project.name not in args.project:
            continue
        only = CI_SUBSET.get(project.name) if args.subset else None
        rows += run_project(project, only, args.jobs)
        for r in rows:
            if r.project == project.name:
                mark = "same" if r.same else "DIFFERENT"
                print(
                    f"{mark:9} {r.project} {r.file}{' (broken)' if r.broken else ''}: "
                    f"pytest {counts_text(r.pytest_counts)} exit {r.pytest_exit}; "
                    f"twinls {counts_text(r.twinls_counts)} exit {r.twinls_exit}",
                    flush=True,
                )
    results = cache_dir() / "results.json"
    results.write_text(json.dumps([asdict(r) for r in rows], indent=1))
    if args.markdown:
        print(markdown(rows))
    return 0 if all(r.same for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
