"""Server: the LSP side, pygls handlers over the twin pool."""
