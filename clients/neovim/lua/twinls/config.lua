-- Options for `require('twinls').setup()`, with their defaults.
local M = {}

M.defaults = {
  -- How to start the server (stdio).
  cmd = { 'twinls' },
  filetypes = { 'python' },
  -- The workspace root is the nearest folder holding one of these (else the file's folder).
  root_markers = { 'pyproject.toml', 'setup.py', 'setup.cfg', '.git' },
  -- Server options (initializationOptions); nil leaves the server's default.
  pool = nil, -- number of twins
  exclude = nil, -- list of globs the index skips
  run_timeout = nil, -- seconds before a test/example run is killed
  features = nil, -- companion mode: { completion = false, hover = false, ... } turns providers off
  python = nil, -- the project's interpreter for the twins (default: VIRTUAL_ENV, .venv, ...)
  live_tests = nil, -- re-run the tests each unsaved edit affects (:TwinLive toggles)
  live_max = nil, -- run children live runs may use at once (default: cores - 1, at least 1)
  cache = nil, -- false: the server keeps no search answers in ~/.cache/twinls (default: on)
  init_options = {}, -- anything else for initializationOptions
  -- Client side.
  lenses = true, -- show `▶ Run test` lenses and keep them fresh
  -- A `⚙ Debug` lens beside each run lens (:TwinDebug works either way). Off by default:
  -- with two lenses on a line, vim.lsp.codelens.run() asks which one to run.
  debug_lens = false,
  open_quickfix = true, -- open the quickfix window when a search finds its first result
  notify_runs = true, -- a one-line message for each finished run
  capabilities = nil, -- merged over Neovim's own client capabilities
  on_attach = nil, -- function(client, bufnr)
  handlers = {}, -- extra LSP handlers for the twinls client
}

M.options = vim.deepcopy(M.defaults)

function M.set(opts)
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  if type(M.options.cmd) == 'string' then
    M.options.cmd = { M.options.cmd }
  end
  return M.options
end

-- initializationOptions as the server names them.
function M.init_options()
  local o = M.options
  return vim.tbl_extend('force', {
    pool = o.pool,
    exclude = o.exclude,
    runTimeout = o.run_timeout,
    features = o.features,
    python = o.python,
    liveTests = o.live_tests,
    liveMax = o.live_max,
    cache = o.cache,
    inspector = true, -- this client shows live results (inspect.lua): the server adds Inspect lenses
    debugLens = o.debug_lens, -- Debug lenses (debug.lua); off by default, see debug_lens
  }, o.init_options or {})
end

return M
