-- Starting twinls with Neovim's built-in client, by whichever API this Neovim has:
--   0.11+  vim.lsp.config + vim.lsp.enable (Neovim attaches buffers itself)
--   0.8+   vim.lsp.start from a FileType autocmd (reuses a client per root)
--   0.7    vim.lsp.start_client once per root + vim.lsp.buf_attach_client
local compat = require('twinls.compat')
local config = require('twinls.config')
local progress = require('twinls.progress')

local M = {}

local group = vim.api.nvim_create_augroup('twinls', { clear = true })

local function root_of(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' then
    return vim.fn.getcwd()
  end
  return compat.find_root(name, config.options.root_markers)
end

local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  -- Run results retitle the lenses; we handle the refresh request (below).
  caps.workspace = caps.workspace or {}
  caps.workspace.codeLens = { refreshSupport = true }
  return vim.tbl_deep_extend('force', caps, config.options.capabilities or {})
end

local function on_attach(client, bufnr)
  if config.options.lenses then
    require('twinls.lenses').attach(bufnr)
  end
  if config.options.on_attach then
    config.options.on_attach(client, bufnr)
  end
end

-- The client configuration shared by every start path.
function M.make_config(root_dir)
  local o = config.options
  local run = require('twinls.run')
  return {
    name = compat.NAME,
    cmd = o.cmd,
    root_dir = root_dir,
    init_options = config.init_options(),
    capabilities = capabilities(),
    handlers = vim.tbl_extend('force', {
      ['$/progress'] = progress.handler,
      ['workspace/codeLens/refresh'] = require('twinls.lenses').on_refresh,
      ['twinls/runResults'] = require('twinls.live').handler,
    }, o.handlers or {}),
    -- Lens commands run here so their results can be shown (Neovim drops them).
    commands = {
      ['twinls.runTest'] = run.lens,
      ['twinls.runExample'] = run.lens,
      ['twinls.runFile'] = run.lens,
      -- The Inspect lens and the failure's code action open the inspector (inspect.lua).
      ['twinls.inspect'] = require('twinls.inspect').from_command,
      ['twinls.debug'] = require('twinls.debug').from_command,
    },
    on_attach = on_attach,
    on_exit = function(_, _, client_id)
      vim.schedule(function()
        progress.clear(client_id)
      end)
    end,
  }
end

-- 0.7: one client per root, started on the first buffer that needs it.
local by_root = {}

local function attach_07(bufnr)
  local root = root_of(bufnr)
  local id = by_root[root]
  if not id or not vim.lsp.get_client_by_id(id) then
    id = vim.lsp.start_client(M.make_config(root))
    if not id then
      return
    end
    by_root[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
end

-- Attach `bufnr` (0.7 .. 0.10; 0.11 attaches by itself once enabled).
function M.attach(bufnr)
  if vim.bo[bufnr].buftype ~= '' then
    return
  end
  if vim.lsp.start then
    local cfg = M.make_config(root_of(bufnr))
    vim.lsp.start(cfg, { bufnr = bufnr })
  else
    attach_07(bufnr)
  end
end

local function matches(bufnr)
  return vim.tbl_contains(config.options.filetypes, vim.bo[bufnr].filetype)
end

function M.enable()
  vim.api.nvim_clear_autocmds({ group = group })
  if vim.lsp.config and vim.lsp.enable then
    local cfg = M.make_config(nil)
    cfg.filetypes = config.options.filetypes
    cfg.root_dir = function(bufnr, on_dir)
      on_dir(root_of(bufnr))
    end
    vim.lsp.config(compat.NAME, cfg)
    vim.lsp.enable(compat.NAME)
    return
  end
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = config.options.filetypes,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  -- Buffers that were already open when setup() ran.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and matches(bufnr) then
      M.attach(bufnr)
    end
  end
end

-- Stop every twinls client and start again for the buffers they served.
function M.restart()
  local buffers = {}
  for _, client in ipairs(compat.clients()) do
    for bufnr in pairs(client.attached_buffers or {}) do
      table.insert(buffers, bufnr)
    end
    compat.stop(client)
  end
  by_root = {}
  local function again()
    if #compat.clients() > 0 then
      return vim.defer_fn(again, 50)
    end
    for _, bufnr in ipairs(buffers) do
      if vim.api.nvim_buf_is_loaded(bufnr) then
        if vim.lsp.enable and vim.lsp.config then
          vim.api.nvim_exec_autocmds('FileType', { buffer = bufnr, modeline = false })
        else
          M.attach(bufnr)
        end
      end
    end
  end
  vim.defer_fn(again, 50)
end

return M
