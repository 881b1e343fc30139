"""Canary for run/debugpy_compat.py: the pydevd internals a Debug run patches.

If debugpy changes these, breakpoints at lines only the editor has would move
(or a session end at once): this fails first, naming what moved.
"""

from __future__ import annotations

import inspect
import sys
import threading

import pytest

from twinls.run import debugpy_compat
from twinls.shared.overlay import Overlay

pytest.importorskip("debugpy")


@pytest.fixture
def pydevd():
    import debugpy._vendored.force_pydevd  # noqa: F401  (puts pydevd on sys.path)
    import pydevd_file_utils
    from _pydevd_bundle import pydevd_api

    saved = pydevd_api._get_code_lines, pydevd_file_utils.exists
    yield pydevd_api, pydevd_file_utils
    pydevd_api._get_code_lines, pydevd_file_utils.exists = saved


def test_breakpoint_lines_and_existence_come_from_the_overlay(tmp_path, pydevd):
    api, files = pydevd
    assert "_get_code_lines(translated_absolute_filename)" in inspect.getsource(api.PyDevdAPI)
    assert "pydevd_file_utils.exists(translated_absolute_filename)" in inspect.getsource(
        api.PyDevdAPI
    )
    disk = tmp_path / "calc.py"
    disk.write_text("x = 1\n")
    unsaved = str(tmp_path / "new.py")
    overlay = Overlay(roots=[str(tmp_path)])
    overlay.open(str(disk), "x = 1\n\n\ny = 2\n", 1)
    overlay.open(unsaved, "z = 3\n", 1)
    assert 4 not in set(api._get_code_lines(str(disk)))  # the disk's text: line 1 only
    assert not files.exists(unsaved)
    debugpy_compat.use_overlay(overlay)
    assert {1, 4} <= set(api._get_code_lines(str(disk)))  # the editor's
    assert files.exists(unsaved) and files.exists(str(disk))


def test_the_main_thread_mark(pydevd):
    import pydevd

    assert '"__pydevd_main_thread"' in inspect.getsource(pydevd.PyDB.has_user_threads_alive)
    done = threading.Event()

    def mark() -> None:
        debugpy_compat.mark_main_thread()
        assert hasattr(threading.current_thread(), "__pydevd_main_thread")
        done.set()

    threading.Thread(target=mark, daemon=True).start()
    assert done.wait(10)
    assert "pydevd" in sys.modules


def test_ending_the_session_sends_terminated(pydevd):
    import pydevd
    from _pydevd_bundle import pydevd_comm

    # stoptrace kills pydevd's threads; killing the writer queues the exit command,
    # which the JSON factory makes DAP's `terminated` event.
    assert "dispose_and_kill_all_pydevd_threads()" in inspect.getsource(pydevd.stoptrace)
    assert "make_exit_command" in inspect.getsource(pydevd_comm.WriterThread.do_kill_pydev_thread)
    from _pydevd_bundle.pydevd_net_command_factory_json import NetCommandFactoryJson

    assert "TerminatedEvent" in inspect.getsource(NetCommandFactoryJson.make_exit_command)
    assert pydevd.get_global_debugger() is None
    debugpy_compat.end_session()  # no session: nothing to end
