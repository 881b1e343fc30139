"""Test and example runs: a child forked from the warm twin per run."""
