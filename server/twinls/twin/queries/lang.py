"""Twin: the language queries (definition, completion, rename, hierarchies, syntax).

Importing this module is what registers them (the twin's module list names it).
Each is an ordinary interactive query like ``search.hover``: short, against
the overlay, checking ``ctx`` for a cancel between steps.

Language features
=================

- **definition / declaration / typeDefinition** (`lang.definition`, `lang.declaration`,
  `lang.type_definition`): a fresh `jedi.Script` over the overlay text:
  `goto(follow_imports=True)` (into the project's and the interpreter's files, sources
  over stubs), `goto()` (stops at this module's binding, e.g. the import), `infer()`
- **completion, completionItem/resolve** (`lang.completion`, `lang.completion_resolve`):
  jedi's `complete`; the list is cheap (label, kind, the typed prefix's range as
  `textEdit`); resolve asks again for one item's signature and docstring (markdown if
  the client takes it). The twin keeps its last list per overlay generation; a resolve
  reaching another twin, or after an edit, completes again at the item's `data` position
- **signatureHelp** (`lang.signature_help`): jedi's `get_signatures`, the active
  argument from its `index`
- **documentHighlight** (`lang.highlight`): jedi's file-scoped `get_references`;
  definitions are `Write`
- **prepareRename / rename** (`lang.prepare_rename`, `lang.rename_in` (sharded)):
  refused (an LSP error the editor shows) for keywords, builtins and compiled names,
  names defined outside the workspace (the index's `indexable`), names jedi cannot
  resolve at the cursor; else `search.refs_plan`'s target and files, and per file
  `references.in_file` (the references engine) plus the attribute uses `x.name` jedi
  resolves to nothing ("unsure"): any unsure use refuses the rename, naming the first.
  The edit is one `TextDocumentEdit` per file, with the open document's version (`None`:
  the disk's)
- **callHierarchy prepare / incoming / outgoing** (`lang.call_item`, `lang.incoming_in`
  (sharded), `lang.outgoing`): incoming: `search.refs_plan` at the item, then per file
  the references engine's uses kept where called (`f(…)`, `x.f(…)`, `@f`) and grouped by
  the function, class or module around them; one batch per file, streamed on
  `partialResultToken`. Outgoing: the calls in the body (not in nested definitions),
  each resolved by jedi (`references.resolve`) to a funcdef/classdef
- **typeHierarchy prepare / supertypes / subtypes** (`lang.type_item`,
  `lang.supertypes`, `search.implementation`): supertypes: jedi's `py__bases__`, stubs
  converted to source; subtypes: the implementation search (transitive, streamed,
  unsaved classes included), each item detailed with its module and qualname
- **syntax diagnostics** (`lang.syntax_errors`): parso's error recovery (`iter_errors`,
  every error, at most 100), per document `syntaxDebounce` seconds (0.3) after its last
  edit

`lang.incoming_in` and `lang.rename_in` are search work, sharded like
`search.refs_in` and, like it, bulk queries of the search lane;
every other `lang.*` query is one short jedi call on the twin's worker. The
queries get their inference state through `places.jedi_state` (the world's
shared one, or a per-call session where the world makes them).

Items of both hierarchies carry `data = {path, line, character}` (the name's
position in the client's encoding), so any twin can answer the follow-ups.
On a definition's own name, prepare takes that definition (jedi's `goto` on an
overriding method's name goes to the overridden one).

**Diagnostics.** LSP replaces a document's diagnostics with each publish, so
`server/lsp/diagnostics.py`'s `Board` keeps each source's list per document (`tests`
from `server/lsp/lenses.py`, `syntax` from the checker) and every publish carries all
of them; a run's `SyntaxError` on a line the syntax check already marks is left
out. Each source clears only its own: fixing the syntax error keeps the test
failure, closing a document clears its syntax errors. Document sync calls
`ls.edit_listeners` with every applied entry; the checker's listener (re)starts
the document's debounce timer, and a check whose document changed meanwhile is
dropped (that edit's own timer follows).

**Companion mode** (`server/lsp/features.py`). `initializationOptions.features` maps a
feature name (`definition`, `declaration`, `typeDefinition`, `completion`,
`signatureHelp`, `documentHighlight`, `rename`, `callHierarchy`,
`typeHierarchy`, `hover`, `references`, `implementation`, `documentSymbol`,
`workspaceSymbol`, `codeLens`, `syntaxDiagnostics`) to `false` to turn it off:
at `initialize`, before pygls builds the capabilities, its handlers are removed,
so it is neither announced nor answered. The VS Code extension's
`twinls.features` setting (`auto`/`on`/`off` per feature, `clients/vscode/src/companion.ts`)
sends it; `auto` turns off what Pylance provides while Pylance is the Python
language server (installed, `python.languageServer` `Default` or `Pylance`) and
keeps references, implementation, type hierarchy and the lenses.

Known limits: completion, definition and signature help build a `jedi.Script`
per request (as jedi-language-server does; parso's in-memory cache keeps
unchanged files' trees), not the searches' shared inference state; call
hierarchy counts a call only where jedi resolves the callee (`obj.run()` on an
uninferable `obj` is not an incoming call of any `run`); rename does not touch
strings (`getattr(x, "name")`, `__all__` entries) and refuses rather than guess
on unsure attribute uses.
"""

from __future__ import annotations

from . import calls, completion, definition, highlight, rename, signature, syntax, type_hierarchy

__all__ = [
    "calls",
    "completion",
    "definition",
    "highlight",
    "rename",
    "signature",
    "syntax",
    "type_hierarchy",
]
