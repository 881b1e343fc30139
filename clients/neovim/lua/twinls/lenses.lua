-- Code lenses (`▶ Run test`, `✓ 12 ms`, ...) through vim.lsp.codelens: refreshed
-- when the buffer is entered or edited, and when the server asks
-- (`workspace/codeLens/refresh`, sent after a run retitles them).
local compat = require('twinls.compat')
local config = require('twinls.config')

local M = {}

local group = vim.api.nvim_create_augroup('twinls_lenses', { clear = true })

-- Only when the server offers lenses: 0.7 reports an error for an unsupported method.
local function offers_lenses(bufnr)
  for _, client in ipairs(compat.clients(bufnr)) do
    if (client.server_capabilities or {}).codeLensProvider then
      return true
    end
  end
  return false
end

function M.refresh(bufnr)
  if vim.api.nvim_buf_is_loaded(bufnr) and offers_lenses(bufnr) then
    compat.refresh_lenses(bufnr)
  end
end

function M.attach(bufnr)
  vim.api.nvim_clear_autocmds({ group = group, buffer = bufnr })
  vim.api.nvim_create_autocmd({ 'BufEnter', 'CursorHold', 'InsertLeave', 'TextChanged' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.refresh(bufnr)
    end,
  })
  M.refresh(bufnr)
end

-- Handler for the server's `workspace/codeLens/refresh` request.
function M.on_refresh(_, _, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if client and config.options.lenses then
    for bufnr in pairs(client.attached_buffers or {}) do
      M.refresh(bufnr)
    end
  end
  return vim.NIL
end

return M
