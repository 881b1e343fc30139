"""Run child: a test or example run, forked from the warm twin per run."""
