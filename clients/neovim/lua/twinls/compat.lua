-- Small shims over the LSP client APIs that changed between Neovim 0.7 and 0.11+.
-- Everything version-dependent is decided here, by feature detection.
local M = {}

local lsp = vim.lsp
local uv = vim.uv or vim.loop

M.NAME = 'twinls'

-- 0.11 turned client methods into `client:request(...)` and warns on the dot form;
-- 0.7 only has the dot form (a closure over the client).
local method_calls = vim.fn.has('nvim-0.11') == 1

-- Pass no `bufnr` for workspace-wide work: the client then flushes the pending
-- (debounced) edits of every buffer, not just one, before sending the request.
function M.request(client, method, params, handler, bufnr)
  if method_calls then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

-- A synchronous request (for :checkhealth): result, err.
function M.request_sync(client, method, params, timeout_ms, bufnr)
  local response, err
  if method_calls then
    response, err = client:request_sync(method, params, timeout_ms, bufnr)
  else
    response, err = client.request_sync(method, params, timeout_ms, bufnr)
  end
  if not response then
    return nil, err or 'no answer'
  end
  return response.result, response.err
end

-- The health report functions: vim.health (0.10+) or require('health') (0.7–0.9).
function M.health()
  local vh = vim.health
  if vh and vh.start then
    return { start = vh.start, ok = vh.ok, warn = vh.warn, error = vh.error, info = vh.info }
  end
  local old = require('health')
  return {
    start = old.report_start,
    ok = old.report_ok,
    warn = old.report_warn,
    error = old.report_error,
    info = old.report_info,
  }
end

function M.stop(client)
  if method_calls then
    return client:stop()
  end
  return client.stop()
end

-- All live twinls clients, optionally only those attached to `bufnr`.
function M.clients(bufnr)
  if lsp.get_clients then -- 0.10+
    return lsp.get_clients({ name = M.NAME, bufnr = bufnr })
  end
  local found = {}
  for _, client in pairs(lsp.get_active_clients()) do -- 0.7 takes no filter
    if client.name == M.NAME and (bufnr == nil or lsp.buf_is_attached(bufnr, client.id)) then
      table.insert(found, client)
    end
  end
  return found
end

-- The twinls client serving `bufnr` (0 or nil: the current buffer), or nil.
function M.client(bufnr)
  if bufnr == nil or bufnr == 0 then
    bufnr = vim.api.nvim_get_current_buf()
  end
  return M.clients(bufnr)[1], bufnr
end

-- The twinls client serving `bufnr` (0 or nil: the current buffer); says so when none does.
function M.buffer_client(bufnr)
  local client, found = M.client(bufnr)
  if not client then
    vim.notify('twinls: no twinls client for this buffer', vim.log.levels.WARN)
  end
  return client, found
end

-- The current buffer's twinls client, else any: for commands about the server as
-- a whole (:TwinStatus, :TwinRestart). Says so when none runs.
function M.any_client()
  local client, bufnr = M.client(0)
  client = client or M.clients()[1]
  if not client then
    vim.notify('twinls: not running', vim.log.levels.WARN)
  end
  return client, bufnr
end

-- `vim.lsp.codelens.refresh` takes `{ bufnr = n }` from 0.10 on; 0.7 refreshes the
-- current buffer only, so switch to the buffer's window for the call.
function M.refresh_lenses(bufnr)
  if vim.fn.has('nvim-0.10') == 1 then
    return lsp.codelens.refresh({ bufnr = bufnr })
  end
  if bufnr == vim.api.nvim_get_current_buf() then
    return lsp.codelens.refresh()
  end
  local win = vim.fn.bufwinid(bufnr)
  if win ~= -1 then
    vim.api.nvim_win_call(win, function()
      lsp.codelens.refresh()
    end)
  end
end

-- Quickfix items for Location / LocationLink lists, in the client's encoding.
function M.locations_to_items(locations, client)
  return lsp.util.locations_to_items(locations, client.offset_encoding)
end

-- Directory that holds one of `markers`, searching upwards from `path`.
function M.find_root(path, markers)
  local dir = vim.fn.fnamemodify(path, ':p:h')
  local cur = dir
  while true do
    for _, marker in ipairs(markers) do
      if uv.fs_stat(cur .. '/' .. marker) then
        return cur
      end
    end
    local parent = vim.fn.fnamemodify(cur, ':h')
    if parent == cur then
      return dir
    end
    cur = parent
  end
end

return M
