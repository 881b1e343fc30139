-- Test and example runs. The server does the showing that LSP can carry (failures
-- as diagnostics, lens titles); this adds a one-line message from the structured
-- result and keeps that result in `last` for anyone who wants the details.
local compat = require('twinls.compat')
local config = require('twinls.config')

local M = {}

-- The newest run's result (see the server's run result: kind, outcome, tests, ...),
-- or { error = message } when the server refused the run.
M.last = nil

local FAILED = { failed = true, error = true }

local function ms(seconds)
  if type(seconds) ~= 'number' then
    return ''
  end
  if seconds < 1 then
    return string.format(' (%d ms)', math.floor(seconds * 1000 + 0.5))
  end
  return string.format(' (%.1f s)', seconds)
end

local function first_line(text)
  for line in tostring(text or ''):gmatch('[^\n]+') do
    line = vim.trim(line)
    if line ~= '' then
      return line
    end
  end
  return ''
end

-- pytest's closing-line categories, in its order.
local CATEGORIES = {
  'failed', 'passed', 'skipped', 'deselected', 'xfailed', 'xpassed', 'warnings', 'error',
  'subtests passed', 'subtests failed', 'subtests skipped',
}
local SINGULAR = { warnings = 'warning' }
local PLURAL = { error = 'errors', warnings = 'warnings' }

-- pytest's closing line from a result's summary ('1 failed, 2 passed, 1 deselected').
function M.counts(summary)
  local parts = {}
  for _, key in ipairs(CATEGORIES) do
    local n = type(summary) == 'table' and summary[key] or 0
    if type(n) == 'number' and n > 0 then
      local word = n == 1 and (SINGULAR[key] or key) or (PLURAL[key] or key)
      table.insert(parts, n .. ' ' .. word)
    end
  end
  return table.concat(parts, ', ')
end

-- One line for a finished run.
function M.summary(result)
  local tests = result.tests or {}
  local ok = not FAILED[result.outcome]
  local mark = ok and '✓' or '✗'
  if #tests == 0 then -- deselected, not found, a usage or config error: pytest's words
    local why = result.message ~= vim.NIL and first_line(result.message) or ''
    local counts = M.counts(result.summary)
    return string.format('%s %s', result.outcome == 'deselected' and '⊘' or mark, why ~= '' and why or (counts ~= '' and counts or 'no tests ran'))
  end
  if #tests == 1 and result.kind ~= 'file' and result.kind ~= 'folder' then
    local t = tests[1]
    local line = string.format('%s %s %s', mark, t.name or t.nodeid or '?', t.outcome or result.outcome)
    if t.value ~= nil and t.value ~= vim.NIL and not FAILED[t.outcome] then
      line = string.format('%s %s = %s', mark, t.name or '?', first_line(t.value))
    elseif FAILED[t.outcome] and t.message and t.message ~= vim.NIL then
      line = line .. ': ' .. first_line(t.message)
    end
    return line .. ms(t.duration or result.duration)
  end
  local counts = M.counts(result.summary)
  local name = vim.fn.fnamemodify(vim.uri_to_fname(result.uri or 'file:///?'), ':t')
  local line = string.format('%s %s: %s', mark, name, counts ~= '' and counts or result.outcome or '?')
  for _, t in ipairs(tests) do
    if FAILED[t.outcome] then
      line = line .. ' — ' .. (t.name or t.nodeid or '?')
      break
    end
  end
  return line .. ms(result.duration)
end

-- Run a server command that returns a run result.
function M.execute(client, command, arguments)
  compat.request(client, 'workspace/executeCommand', { command = command, arguments = arguments }, function(err, result)
    if err then
      M.last = { error = err.message or tostring(err) }
      vim.notify('twinls: ' .. command .. ' failed: ' .. M.last.error, vim.log.levels.ERROR)
      return
    end
    if type(result) ~= 'table' then
      return
    end
    M.last = result
    require('twinls.live').remember(result)
    if config.options.notify_runs then
      local level = FAILED[result.outcome] and vim.log.levels.WARN or vim.log.levels.INFO
      vim.notify('twinls: ' .. M.summary(result), level)
    end
    vim.api.nvim_exec_autocmds('User', { pattern = 'TwinlsRunDone', modeline = false })
  end)
end

local function current()
  return compat.buffer_client(0)
end

-- :TwinRunTest — the test or example under the cursor.
function M.at_cursor()
  local client = current()
  if client then
    local p = vim.lsp.util.make_position_params(0, client.offset_encoding)
    M.execute(client, 'twinls.runAt', { p.textDocument.uri, p.position })
  end
end

-- :TwinRunFile — every test in the current file.
function M.file()
  local client, bufnr = current()
  if client then
    M.execute(client, 'twinls.runFile', { vim.uri_from_bufnr(bufnr) })
  end
end

-- :TwinRunFolder [DIR] — every test under DIR (default: the whole workspace).
function M.folder(dir)
  local client = current()
  if client then
    local args = {}
    if dir and dir ~= '' then
      args = { vim.uri_from_fname(vim.fn.fnamemodify(dir, ':p'):gsub('/$', '')) }
    end
    M.execute(client, 'twinls.runFolder', args)
  end
end

function M.cancel()
  local client = current()
  if client then
    compat.request(client, 'workspace/executeCommand', { command = 'twinls.cancelRun', arguments = {} }, function() end)
  end
end

-- Client-side handler for the lens commands (vim.lsp.codelens.run calls it), so a
-- lens run's result is shown too.
function M.lens(command, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if client then
    M.execute(client, command.command, command.arguments)
  end
end

return M
