"""Server: the pieces of a server's run state, one job each (``lsp/runs.py`` ties them).

``scope`` what a run's target covers; ``latest`` the latest result of every test and
example; ``failures`` the diagnostics failing tests published; ``flight`` the runs in
flight; ``history`` each lens's last run and the runs' wall times; ``refresh``
``workspace/codeLens/refresh``, throttled; ``answer`` a run's result as the command
answers it (URIs for paths).
"""
