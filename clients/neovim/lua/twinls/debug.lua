-- Debug runs: :TwinDebug (and the `Debug` lens) ask the server for `twinls.debug`, a
-- warm run child of the test or example under the cursor waiting under debugpy against
-- the unsaved text, then attach nvim-dap to the address it answers (adapter `twinls`,
-- registered here when nvim-dap is installed). Without nvim-dap the address is shown,
-- for any DAP client. See README.md (Debug runs).
local compat = require('twinls.compat')

local M = {}

-- The last answer: { host, port, pid, runId } (tests and statuslines read it).
M.last = nil

local function attach(where)
  local ok, dap = pcall(require, 'dap')
  if not ok then
    vim.notify(string.format(
      'twinls: the run waits for a debugger at %s:%d; any DAP client can attach. To attach from Neovim install nvim-dap: '
        .. 'the plugin registers its `twinls` adapter (see README.md, Debug runs)',
      where.host, where.port))
    return
  end
  dap.adapters.twinls = dap.adapters.twinls or function(callback, config)
    callback({ type = 'server', host = config.connect.host, port = config.connect.port })
  end
  dap.run({ type = 'twinls', name = 'twinls: Debug run', request = 'attach', connect = { host = where.host, port = where.port }, justMyCode = false })
end

local function ask(client, arguments)
  compat.request(client, 'workspace/executeCommand', { command = 'twinls.debug', arguments = arguments }, function(err, where)
    vim.schedule(function()
      if err then
        return vim.notify('twinls: debug: ' .. (err.message or tostring(err)), vim.log.levels.ERROR)
      end
      M.last = where
      attach(where)
    end)
  end)
end

-- :TwinDebug — the test or example under the cursor.
function M.at_cursor()
  local client = compat.buffer_client(0)
  if not client then
    return
  end
  local p = vim.lsp.util.make_position_params(0, client.offset_encoding)
  ask(client, { p.textDocument.uri, p.position })
end

-- The client-side `twinls.debug` command (the `Debug` lens).
function M.from_command(command, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if client then
    ask(client, command.arguments or {})
  end
end

return M
