"""The typed boundaries: stubs match the twin's queries, the VS Code client matches the schema.

In process, no server: the twin's registry is loaded here (it imports jedi), the
client's ``protocol.ts`` is read as text.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from pathlib import Path
from typing import get_args, get_type_hints

import pytest

import twinls
from twinls.server import stubs
from twinls.shared import schema
from twinls.twin.queries import registry

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = ROOT / "clients" / "vscode" / "src" / "protocol.ts"
PACKAGE = Path(twinls.__file__).parent

#: Queries only the tests and the Python API call (probes), by name: no stub.
PROBES = {"read", "listdir", "sleep", "sleep.bulk", "search.index_status"}


def _stubs() -> dict[str, tuple[inspect.Signature, stubs.Query | stubs.Sharded]]:
    """Each stub function, and what it builds from placeholder arguments."""
    out = {}
    for name, fn in vars(stubs).items():
        if not inspect.isfunction(fn) or fn.__module__ != stubs.__name__ or name.startswith("_"):
            continue
        sig = inspect.signature(fn)
        built = fn(*[f"<{p}>" for p in sig.parameters])
        out[name] = (sig, built)
    return out


@pytest.fixture(scope="module")
def queries() -> dict[str, inspect.Signature]:
    registry.load_all()
    return {name: inspect.signature(fn) for name, fn in registry.QUERIES.items()}


def test_every_stub_names_a_twin_query_with_its_parameters(queries):
    for stub, (sig, built) in _stubs().items():
        assert built.name in queries, f"stubs.{stub} calls {built.name!r}, which no twin has"
        twin = list(queries[built.name].parameters.values())[1:]  # after ctx
        mine = list(sig.parameters.values())
        assert [(p.name, p.default) for p in mine] == [(p.name, p.default) for p in twin], stub
        sent = [built.items, *built.args] if isinstance(built, stubs.Sharded) else built.args
        assert list(sent) == [f"<{p.name}>" for p in mine], f"stubs.{stub} reorders its arguments"
        is_sharded = isinstance(built, stubs.Sharded)
        assert is_sharded == (twin[:1] != [] and twin[0].name == "files"), stub


def test_no_search_goes_to_the_interactive_twin(queries):
    """A bulk query's stub says ``interactive=False`` (issue 10: the interactive twin
    answers hovers while the others search; a search there would occupy it)."""
    for stub, (_, built) in _stubs().items():
        if isinstance(built, stubs.Query) and built.name in registry.BULK:
            assert not built.interactive, f"stubs.{stub} sends a search to the interactive twin"


def test_every_query_the_server_may_call_has_a_stub(queries):
    stubbed = {built.name for _, built in _stubs().values()}
    assert set(queries) - PROBES - stubbed == set()


def _string_calls(path: Path) -> list[str]:
    calls = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("call", "ask", "call_each", "call_sharded")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            calls.append(f"{path.name}:{node.lineno} {node.func.attr}({node.args[0].value!r})")
    return calls


def test_the_server_calls_queries_through_stubs_only():
    files = [*(PACKAGE / "server").rglob("*.py"), PACKAGE / "api.py", PACKAGE / "cli.py"]
    assert [c for f in files for c in _string_calls(f)] == []


def test_the_string_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('async def f(ls):\n    return await ls.ask("run.lenses", "x")\n')
    assert _string_calls(bad) == ["bad.py:2 ask('run.lenses')"]


# -- the VS Code client's protocol.ts ---------------------------------------------


def ts_fields(name: str) -> dict[str, bool]:
    """``interface name { field?: type; ... }`` in protocol.ts -> field -> optional."""
    text = PROTOCOL.read_text(encoding="utf-8")
    match = re.search(r"export interface " + name + r" \{\n(.*?)\n\}", text, re.S)
    assert match, f"protocol.ts has no interface {name}"
    body = re.sub(r"/\*\*.*?\*/", "", match.group(1), flags=re.S)
    fields = re.findall(r"^  (\w+)(\??):", body, re.M)
    return {field: bool(optional) for field, optional in fields}


def test_the_lens_argument_is_the_same_on_both_sides():
    python = {
        f.name: f.default is not dataclasses.MISSING
        for f in dataclasses.fields(schema.LensArgument)
    }
    assert ts_fields("LensArgument") == python


@pytest.mark.parametrize(
    "ts, typed",
    [
        ("ServerStatus", schema.ServerStatus),
        ("PoolStatus", schema.PoolStatus),
        ("LiveStatus", schema.LiveStatus),
    ],
)
def test_the_status_fields_are_the_same_on_both_sides(ts, typed):
    assert set(ts_fields(ts)) == set(get_type_hints(typed))


@pytest.mark.parametrize(
    "ts, typed",
    [
        ("RunResult", schema.RunResult),
        ("TestResult", schema.TestResult),
        ("SubtestResult", schema.SubtestResult),
        ("CoveredFile", schema.CoveredFile),
        ("CoveredUnit", schema.CoveredUnit),
    ],
)
def test_the_run_result_fields_are_the_same_on_both_sides(ts, typed):
    assert set(ts_fields(ts)) == set(get_type_hints(typed))


def test_the_fields_check_can_fail():
    assert set(ts_fields("SubtestResult")) != set(get_type_hints(schema.TestResult))


def test_status_is_built_with_every_field():
    """commands.py builds ``twinls.status`` from the TypedDicts, every field named."""
    source = (PACKAGE / "server" / "lsp" / "commands.py").read_text(encoding="utf-8")
    built = {
        node.func.id: {k.arg for k in node.keywords}
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    for typed in (schema.Status, schema.ServerStatus, schema.PoolStatus):
        assert built[typed.__name__] == set(get_type_hints(typed)), typed.__name__


def test_the_client_sends_only_options_the_server_knows():
    assert set(ts_fields("InitializationOptions")) <= set(
        get_type_hints(schema.InitializationOptions)
    )


def test_options_the_server_reads_are_in_the_schema():
    from twinls.server.lsp import options

    known = set(get_type_hints(schema.InitializationOptions))
    assert set(options.NUMBERS) | set(options.TWIN_SETTINGS) | {"pool", "exclude"} <= known


# -- lens arguments ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("file:///w/t.py", schema.LensArgument("file:///w/t.py")),
        ({"uri": "u", "line": 3, "mode": "doctest"}, schema.LensArgument("u", 3, mode="doctest")),
        ({"uri": "u", "nodeid": "t.py::A", "more": 1}, schema.LensArgument("u", nodeid="t.py::A")),
    ],
)
def test_a_lens_argument_is_structured(value, expected):
    assert schema.lens_argument(value) == expected


@pytest.mark.parametrize("value", [None, 3, {}, {"uri": 1}, {"uri": "u", "line": "x"}])
def test_a_bad_lens_argument_is_a_clear_error(value):
    with pytest.raises(ValueError, match="lens argument|a dict with a 'uri'"):
        schema.lens_argument(value)


def test_a_lens_payload_round_trips():
    arg = schema.LensArgument("u", 4, name="t", qualname="A::t", nodeid="x.py::A::t", kind="test")
    assert schema.lens_argument(schema.lens_payload(arg)) == arg
    assert schema.lens_payload(schema.LensArgument("u")) == {"uri": "u"}


def test_the_notice_codes_are_the_same_on_both_sides():
    text = PROTOCOL.read_text(encoding="utf-8")
    union = re.search(r"export type NoticeCode = (.*);", text)
    assert union, "protocol.ts has no NoticeCode"
    ts = set(re.findall(r"'(\w+)'", union.group(1)))
    assert ts == set(get_args(schema.NoticeCode))
    assert "code?: NoticeCode" in text


def test_the_client_knows_every_server_command_and_no_other():
    from twinls.server.lsp.app import create_server

    text = PROTOCOL.read_text(encoding="utf-8")
    block = re.search(r"export const ServerCommand = \{(.*?)\} as const;", text, re.S)
    assert block, "protocol.ts has no ServerCommand"
    client = set(re.findall(r"'(twinls\.\w+)'", block.group(1)))
    assert client == set(create_server().protocol.fm.commands)
