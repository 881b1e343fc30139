"""Canary for pytest's private API (twin/pytest_compat.py): a pytest release that moves it fails.

In process, no twin: each hook by name, then what twinls does with it, on a tiny module.
"""

from __future__ import annotations

import importlib
import inspect
import io
import sys

import pytest

from twinls.twin import pytest_compat


@pytest.mark.parametrize("module, name", pytest_compat.HOOKS)
def test_every_private_name_is_where_we_expect_it(module, name):
    assert hasattr(importlib.import_module(module), name), f"{module}.{name} moved"


@pytest.mark.parametrize("module", pytest_compat.WARM_MODULES)
def test_the_modules_a_twin_warms_exist(module):
    assert importlib.import_module(module).__name__ == module, f"{module} moved"


@pytest.mark.parametrize("name", pytest_compat.HOOK_METHODS)
def test_the_rewriting_hook_has_the_methods_we_replace_or_call(name):
    assert callable(getattr(pytest_compat.rewrite_hook_class(), name)), name


def test_should_rewrite_and_the_rewritten_names_are_as_we_call_them():
    hook = pytest_compat.rewrite_hook_class()
    assert list(inspect.signature(hook._should_rewrite).parameters) == [
        "self",
        "name",
        "fn",
        "state",
    ]
    assert "_rewritten_names" in inspect.getsource(hook.__init__)


def test_get_config_takes_the_arguments_fastconfig_passes():
    params = inspect.signature(pytest_compat.config_module().get_config).parameters
    assert list(params)[:2] == ["args", "plugins"] and "prog" in params


def test_default_plugins_are_importable_module_names():
    names = pytest_compat.default_plugins()
    assert "_pytest.python" in names and "_pytest.capture" in names


def test_asserts_are_rewritten_as_pytest_would(tmp_path, monkeypatch):
    """A module pytest would rewrite gets pytest's assertion message (a run child's view)."""
    path = tmp_path / "test_mod.py"
    source = b"def test_a():\n    x = 1\n    assert x == 2\n"
    path.write_bytes(source)
    config = pytest.Config.fromdictargs({}, [])  # a session's hook needs a config
    config._do_configure()
    try:
        from _pytest.assertion import install_importhook

        hook = install_importhook(config)
        hook.set_session(None)
        code = pytest_compat.rewrite_if_pytest_would(hook, "test_mod", str(path), source)
        assert code is not None
        namespace: dict = {}
        exec(code, namespace)
        with pytest.raises(AssertionError, match="assert 1 == 2"):
            namespace["test_a"]()
        assert "test_mod" in hook._rewritten_names
    finally:
        config._ensure_unconfigure()
        sys.meta_path[:] = [
            f for f in sys.meta_path if not isinstance(f, pytest_compat.rewrite_hook_class())
        ]


def test_capture_files_come_from_the_factory(monkeypatch):
    import _pytest.capture as capture

    monkeypatch.setattr(capture, "TemporaryFile", capture.TemporaryFile)
    made = []
    pytest_compat.capture_into(lambda *a, **k: made.append(1) or io.BytesIO())
    capture.TemporaryFile()
    assert made == [1]


def test_the_capture_manager_has_the_global_capture_methods_warm_collection_calls():
    from _pytest.capture import CaptureManager

    for name in ("stop_global_capturing", "start_global_capturing"):
        assert callable(getattr(CaptureManager, name)), name
    assert "_global_capturing" in inspect.getsource(CaptureManager.start_global_capturing)
