"""Canary for jedi's private API (twin/queries/jedi_compat.py): an upgrade that moves it fails.

Also checks, in process and without a server, the two things the compat layer
adds: a memo journal that undoes what a limit-hit question left, and platform
branches decided as on the running platform.
"""

from __future__ import annotations

import subprocess
import sys

import jedi
import parso
import pytest

from twinls.twin.queries import jedi_compat


def test_private_names_are_where_we_expect_them():
    from jedi.inference import recursion

    for name in jedi_compat.LIMITS:
        assert isinstance(getattr(recursion, name), int)
    assert callable(jedi_compat.find_names) and callable(jedi_compat.find_defining_names)
    assert callable(jedi_compat.load_module_from_path)
    detector = recursion.ExecutionRecursionDetector.__init__
    assert detector.__code__.co_varnames[:2] == ("self", "inference_state")


def test_the_twins_warm_up_loads_the_grammars_a_jedi_state_loads():
    """``twin/warm.py`` generates them before forking, so no twin's first state pays it:
    in a fresh process, a state made after the warm-up generates no grammar of its own."""
    code = (
        "import jedi, parso\n"
        "from twinls.twin import warm\n"
        "from twinls.twin.queries import jedi_compat\n"
        "warm.preload()\n"
        "before = dict(parso.grammar._loaded_grammars)\n"
        "state = jedi_compat.CountingState(jedi.Project('.'), "
        "environment=jedi.InterpreterEnvironment())\n"
        "assert parso.grammar._loaded_grammars == before, 'the state generated a grammar'\n"
        "assert state.latest_grammar in before.values() and state.grammar in before.values()\n"
        "print(len(before))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 1


def test_each_name_starts_with_jedi_s_inference_counts_at_zero():
    """jedi answers nothing for a node inferred 300 times in one state, and says so only
    in its debug log; a name resolved in a file's state must not inherit the count of
    the names resolved before it (``tests/test_search_ask_position.py``)."""
    import inspect

    from jedi.inference import syntax_tree

    assert "inferred_element_counts" in inspect.getsource(syntax_tree._limit_value_infers)
    state = jedi_compat.CountingState(jedi.Project("."), environment=jedi.InterpreterEnvironment())
    state.inferred_element_counts["a node"] = 301
    state.begin()
    assert state.inferred_element_counts == {}


def test_the_memo_journal_undoes_only_what_was_added_meanwhile():
    project = jedi.Project(".")
    state = jedi_compat.CountingState(project, environment=jedi.InterpreterEnvironment())
    memo = state.memoize_cache["f"]
    memo["kept"] = 1
    state.begin()
    memo["added"] = 2
    state.memoize_cache["g"]["also"] = 3
    state.rollback()
    assert dict(memo) == {"kept": 1} and dict(state.memoize_cache["g"]) == {}
    state.begin()
    memo["committed"] = 4
    state.commit()
    memo["outside"] = 5
    state.rollback()  # nothing open: nothing dropped
    assert set(memo) == {"kept", "committed", "outside"}
    assert state.refused == 0


@pytest.mark.parametrize(
    "test, value",
    [
        ('sys.platform == "win32"', sys.platform == "win32"),
        ('sys.platform != "win32"', sys.platform != "win32"),
        ('sys.platform.startswith("linux")', sys.platform.startswith("linux")),
        ('os.name == "nt" or sys.platform == "darwin"', sys.platform in ("win32", "darwin")),
        ('not sys.platform in ("win32", "cygwin")', sys.platform not in ("win32", "cygwin")),
        ("sys.version_info >= (3, 8)", None),
        ("DEBUG", None),
    ],
)
def test_platform_tests_are_decided_here_and_nothing_else_is(test, value):
    node = parso.parse(f"if {test}:\n    pass\n").children[0].children[1]
    assert jedi_compat.platform_test(node) is value


def test_os_path_is_the_running_platforms_module():
    script = jedi.Script("import os\nos.path.join\n", path="x.py")
    (name,) = script.goto(2, 9, follow_imports=True)
    expected = "ntpath" if sys.platform == "win32" else "posixpath"
    assert name.module_path.stem == expected


def test_a_tree_module_keeps_its_code_lines():
    module = jedi.Script("x = 1\ny = 2\n")._get_module_context()
    assert jedi_compat.code_lines(module.get_value())[:2] == ["x = 1\n", "y = 2\n"]


def test_the_binding_lane_finds_jedis_path_and_stubs():
    """``search_path`` and ``typeshed_stub`` (jedi's ``_get_sys_path``, typeshed's stub map)."""
    import os

    root = os.path.dirname(os.path.abspath(__file__))
    path = jedi_compat.search_path(jedi.Project(root), jedi.InterpreterEnvironment())
    assert path[0] == root and set(sys.path[1:]) & set(path)
    stub = jedi_compat.typeshed_stub("json.decoder")
    assert stub is not None and stub.endswith(os.path.join("json", "decoder.pyi"))
    assert jedi_compat.typeshed_stub("no_such_module_here") is None


def test_a_node_whose_inference_jedi_capped_counts_as_refused():
    """jedi stops inferring a node after 300 inferences in one state and says so only in
    its debug log (the message ``jedi_compat`` counts); the name that hit it must count as
    cut short, so it is redone in a fresh state and, still short, counted and logged
    (issue 10: no limit of jedi may shrink an answer silently)."""
    import inspect

    from jedi import debug
    from jedi.inference import syntax_tree

    source = inspect.getsource(syntax_tree._limit_value_infers)
    assert jedi_compat.CAPPED_MESSAGE in source
    assert debug.warning is jedi_compat._counting_warning
    state = jedi_compat.CountingState(jedi.Project("."), environment=jedi.InterpreterEnvironment())
    state.begin()
    assert state.refused == 0
    debug.warning(jedi_compat.CAPPED_MESSAGE, "a node")
    debug.warning("another warning %s", "x")
    assert state.refused == 1
    state.begin()  # the next name starts from nothing refused
    assert state.refused == 0
