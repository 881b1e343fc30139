"""Body-only edits keep the collection zygote: live runs swap the new function bodies in.

Over a real LSP pipe with ``liveTests`` on: each unsaved edit of ``calc.py`` is
followed by a live run of the tests that executed what it changed, in the test
file's collection zygote. An edit of function bodies only is served by the
same zygote, its answer's ``warm`` saying ``calc.py`` was swapped; a signature,
module-level or import edit, a function the zygote ran while it collected
(a closure factory) and a body that needs a new cell (``super()``) each
replace it. Every step's result is compared with the same step in a session
with warm collection off (``warmMax: 0``: pytest collecting the new text
cold), failing lines included (an edit moves the functions below it).
"""

from __future__ import annotations

import asyncio
import textwrap
import time
from pathlib import Path
from typing import Any

from lsp_harness import lsp_session
from test_live import listen

T = 180.0

CALC = textwrap.dedent(
    """\
    LIMIT = 3


    def add(a, b):
        return a + b


    def make(k):
        def f(x):
            return x + k
        return f


    inc = make(1)


    def scale():
        return 2


    SCALE = scale()


    class Shape:
        def area(self):
            return 0


    def boom():
        raise ValueError("boom")
    """
)

TESTS = textwrap.dedent(
    """\
    import pytest

    from calc import SCALE, Shape, add, boom, inc, scale


    def test_add():
        assert add(1, 2) == 3


    def test_inc():
        assert inc(1) == 2


    def test_scale():
        assert scale() == SCALE


    def test_area():
        area = Shape().area()
        assert area == 0


    def test_boom():
        with pytest.raises(ValueError, match="boom"):
            boom()
        boom()
    """
)


def step(old: str, new: str, text: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


RAISE = "    raise RuntimeError('mutant')\n"
#: (what, replacements made to the step before's text, how the run is served):
#: "ahead": the first run of the zygote collected after the baseline (``Live.prewarm``)
#: with the file's text then, swapped; "same": the step before's zygote, its text the
#: one that zygote collected (nothing to swap); "swap": the step before's zygote, the new
#: bodies swapped in; "new": a new zygote collected the new text.
EDITS: list[tuple[str, list[tuple[str, str]], str]] = [
    ("break add", [("", RAISE)], "ahead"),
    ("fix add (the zygote's own text again)", [(RAISE, "")], "same"),
    ("break add, change boom's (its lines move)", [("", RAISE), ('"boom"', '"boom!"')], "swap"),
    ("a signature", [("def add(a, b):", "def add(a, b, c=0):")], "new"),
    ("a module-level statement", [("LIMIT = 3", "LIMIT = 4")], "new"),
    ("an import", [("LIMIT", "import os\nLIMIT")], "new"),
    ("a closure's body (its factory ran at import)", [("x + k", "x + k + 1")], "new"),
    ("the body of a function that ran at import", [("return 2", "return 3")], "new"),
    ("a body that needs a new cell", [("return 0", "return super().__hash__() * 0")], "new"),
    ("a method's body", [("* 0", "* 0 + 1")], "swap"),
]


def texts() -> list[tuple[str, str, str]]:
    """Each step's whole text of calc.py (an empty ``old``: before add's ``return``)."""
    out, text = [], CALC
    for what, replacements, how in EDITS:
        for old, new in replacements:
            text = step(
                old or "    return a + b", new + ("    return a + b" if not old else ""), text
            )
        out.append((what, text, how))
    return out


STEPS = texts()


def same(result: dict[str, Any]) -> list[dict[str, Any]]:
    """What a user sees of a run's tests: outcomes, messages, the failing file and line."""
    keys = ("nodeid", "outcome", "message", "line")
    seen = [
        {**{k: t.get(k) for k in keys}, "file": (t.get("uri") or "").rpartition("/")[2]}
        for t in result["tests"]
    ]
    return sorted(seen, key=lambda t: t["nodeid"])


async def live_steps(root: Path, options: dict[str, Any]) -> list[dict[str, Any]]:
    """Each step's live run result, in a session with ``options``."""
    (root / "calc.py").write_text(CALC)
    (root / "test_calc.py").write_text(TESTS)
    results = []
    async with lsp_session(root, init_options={"liveTests": True, **options}) as client:
        notes = listen(client)
        client.open("calc.py")
        await client.wait_for(lambda: notes, what="the baseline live run", timeout=T)
        if options.get("warmMax") != 0:  # test_calc.py collected ahead (``Live.prewarm``)
            for _ in range(int(T / 0.05)):
                st = await client.status()
                if any(z["ready"] for t in st["twins"] for z in t["zygotes"]):
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("no collection zygote ready after the baseline")
        for what, text, _ in STEPS:
            seen = len(notes)
            client.replace_all("calc.py", text)
            note = await client.wait_for(
                lambda seen=seen: next((n for n in notes[seen:] if n["reason"] == "edit"), None),
                what=f"the live run after: {what}",
                timeout=T,
            )
            assert note["result"]["outcome"] != "cancelled", what
            results.append(note["result"])
    return results


async def test_body_only_edits_keep_the_zygote_and_match_a_cold_collection(
    tmp_path: Path,
) -> None:
    (tmp_path / "cold").mkdir()
    (tmp_path / "warm").mkdir()
    cold = await live_steps(tmp_path / "cold", {"warmMax": 0})
    warm = await live_steps(tmp_path / "warm", {})
    calc = str((tmp_path / "warm" / "calc.py").resolve())

    previous: dict[str, Any] = {}
    for (what, _, how), a, b in zip(STEPS, warm, cold, strict=True):
        assert b["warm"] == [], what
        [served] = a["warm"]
        assert same(a) == same(b), what  # what a user sees: exactly a cold collection's
        if how == "ahead":
            assert served["run"] == 1 and served["swapped"] == [calc], what
        elif how in ("same", "swap"):
            assert served["zygote"] == previous["zygote"], what
            assert served["run"] == previous["run"] + 1, what
            assert served["swapped"] == ([calc] if how == "swap" else []), what
        else:
            assert served["zygote"] != previous["zygote"] and served["run"] == 1, what
            assert served["swapped"] == [], what
        previous = served

    outcome = {
        w: {t["nodeid"]: t["outcome"] for t in r["tests"]}
        for (w, _, _), r in zip(STEPS, warm, strict=True)
    }
    assert outcome[STEPS[0][0]]["test_calc.py::test_add"] == "failed"  # a break fails
    assert outcome[STEPS[1][0]]["test_calc.py::test_add"] == "passed"  # the fix passes
    moved = next(t for t in warm[2]["tests"] if t["nodeid"] == "test_calc.py::test_boom")
    assert moved["line"] == CALC.splitlines().index('    raise ValueError("boom")') + 1
    assert outcome[STEPS[6][0]]["test_calc.py::test_inc"] == "failed"  # the new closure body
    assert outcome[STEPS[7][0]]["test_calc.py::test_scale"] == "passed"  # SCALE recomputed
    assert outcome[STEPS[9][0]]["test_calc.py::test_area"] == "failed"  # the swapped method


def _parsed_ahead(path: str, text: str) -> bool:
    """In the twin: is ``text`` of ``path`` parsed and compiled for a swap already?"""
    from twinls.twin import warm_sessions
    from twinls.twin.context import current

    zygotes = warm_sessions.of(current().state)
    return (path, warm_sessions.crc(text)) in zygotes.texts


def test_an_edit_of_a_swappable_module_is_compiled_before_a_run_asks(tmp_path: Path) -> None:
    """Once edits of a module a zygote swaps pause, the twin parses and compiles its new
    text (and the zygote's text of it) in the background, so the live run that comes
    after the server's debounce does not spend that time on its way to the first test
    (``WarmSessions.ahead``). Through the Python API: no run is asked after the edit."""
    from twinls import Twin

    (tmp_path / "calc.py").write_text(CALC)
    (tmp_path / "test_calc.py").write_text(TESTS)
    calc, tests = str(tmp_path / "calc.py"), str(tmp_path / "test_calc.py")
    with Twin.start(tmp_path, size=1) as twin:
        spec = {"kind": "tests", "path": tests, "targets": [f"{tests}::test_add"]}
        assert twin.call("run.start", spec).result(T)["warm"]  # a zygote collected it
        for _ in range(int(T / 0.05)):
            if all(z["ready"] for z in twin.call("status").result(T)["zygotes"]):
                break
            time.sleep(0.05)
        broken = CALC.replace("return a + b", "return a - b")
        twin.edit(calc, broken)
        for _ in range(int(T / 0.05)):
            if twin.run_remotely(_parsed_ahead, calc, broken).result(T):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the edited module was not compiled ahead of a run")
        assert twin.run_remotely(_parsed_ahead, calc, CALC).result(T)  # the zygote's text too
        result = twin.call("run.start", spec).result(T)
        assert result["warm"]["swapped"] == [calc]  # one twin run: one zygote
        assert [t["outcome"] for t in result["tests"]] == ["failed"]
