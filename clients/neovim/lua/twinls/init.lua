-- twinls for Neovim: `require('twinls').setup({ cmd = ..., pool = ..., ... })`.
-- The commands (:TwinImplementors, :TwinRunTest, ...) live in plugin/twinls.lua.
local M = {}

function M.setup(opts)
  require('twinls.config').set(opts)
  require('twinls.client').enable()
end

-- The client configuration (for nvim-lspconfig or a hand-made vim.lsp.start).
function M.client_config(opts)
  if opts then
    require('twinls.config').set(opts)
  end
  return require('twinls.client').make_config(nil)
end

function M.implementors(name)
  return require('twinls.search').implementors(name)
end

function M.references()
  return require('twinls.search').references()
end

function M.implementations()
  return require('twinls.search').implementations()
end

function M.run_test()
  return require('twinls.run').at_cursor()
end

function M.run_file()
  return require('twinls.run').file()
end

function M.run_folder(dir)
  return require('twinls.run').folder(dir)
end

-- Run the test or example under the cursor and open its live result in the inspector.
function M.inspect()
  return require('twinls.inspect').at_cursor() -- the inspector's buffer
end

function M.cancel_run()
  return require('twinls.run').cancel()
end

function M.status()
  return require('twinls.status').show()
end

-- Restart the twins (the server keeps its documents); with `full`, the whole client.
function M.restart(full)
  if full then
    return require('twinls.client').restart()
  end
  local compat = require('twinls.compat')
  local client, bufnr = compat.any_client()
  if not client then
    return
  end
  compat.request(client, 'workspace/executeCommand', { command = 'twinls.restart', arguments = {} }, function(err)
    if err then
      vim.notify('twinls: restart failed: ' .. (err.message or tostring(err)), vim.log.levels.ERROR)
    else
      vim.notify('twinls: restarting the twins')
    end
  end, bufnr)
end

function M.live(arg)
  return require('twinls.live').toggle(arg)
end

function M.tests()
  return require('twinls.live').quickfix()
end

function M.coverage()
  return require('twinls.live').coverage()
end

-- 'live ✓' / 'live ✗ N' while live tests are on, else ''.
function M.live_statusline()
  return require('twinls.live').statusline()
end

-- One short line of running work for the statusline ('' when idle).
function M.statusline()
  return require('twinls.progress').statusline()
end

return M
