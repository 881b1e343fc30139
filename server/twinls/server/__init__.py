"""Server: the LSP side, the twin pool, the terminal front doors; never runs jedi or user code."""
