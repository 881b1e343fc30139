-- Live tests: the server re-runs the tests each unsaved edit affects and sends
-- `twinls/runResults` (server/lsp/live.py); failures arrive as diagnostics as for any run.
-- This keeps the last outcome of every test for :TwinTests and the statusline,
-- toggles live mode (:TwinLive) and shows the line coverage live runs recorded
-- (:TwinCoverage: signs on the current buffer, a quickfix list of uncovered lines).
local compat = require('twinls.compat')
local config = require('twinls.config')

local M = {}

M.on = nil -- nil: the setup option's value until toggled
M.runs = 0 -- live runs received
M.last = nil -- the newest twinls/runResults params
-- node id -> { nodeid, name, outcome, uri, line, message, fileUri } of its newest result
M.tests = {}

local FAILED = { failed = true, error = true }

function M.enabled()
  if M.on == nil then
    return config.options.live_tests == true
  end
  return M.on
end

-- Remember a run result's tests (any run: lens, command or live).
function M.remember(result)
  for _, t in ipairs(result.tests or {}) do
    M.tests[t.nodeid] = t
  end
end

-- Handler for the server's `twinls/runResults` notification.
function M.handler(_, params)
  if type(params) ~= 'table' or type(params.result) ~= 'table' then
    return
  end
  M.runs = M.runs + 1
  M.last = params
  M.remember(params.result)
  vim.api.nvim_exec_autocmds('User', { pattern = 'TwinlsLiveRun', modeline = false })
end

-- A server command on the twinls client, its answer to handler(err, result).
local function command(name, arguments, handler)
  local client = compat.any_client()
  if not client then
    vim.notify('twinls: no twinls client', vim.log.levels.WARN)
    return
  end
  compat.request(client, 'workspace/executeCommand', { command = name, arguments = arguments }, handler)
end

-- :TwinLive [on|off] — flip (or set) live tests.
function M.toggle(arg)
  local want = not M.enabled()
  if arg == 'on' then
    want = true
  elseif arg == 'off' then
    want = false
  end
  command('twinls.toggleLiveTests', { want }, function(err, result)
    if err then
      vim.notify('twinls: toggleLiveTests failed: ' .. (err.message or tostring(err)), vim.log.levels.ERROR)
      return
    end
    M.on = type(result) == 'table' and result.liveTests == true
    vim.notify('twinls: live tests ' .. (M.on and 'on' or 'off'))
  end)
end

-- 'live', 'live ✓' or 'live ✗ 2' (failing tests) while on; '' while off.
function M.statusline()
  if not M.enabled() then
    return ''
  end
  local bad, any = 0, false
  for _, t in pairs(M.tests) do
    any = true
    if FAILED[t.outcome] then
      bad = bad + 1
    end
  end
  if not any then
    return 'live'
  end
  return bad > 0 and ('live ✗ ' .. bad) or 'live ✓'
end

local MARK = { passed = '✓', failed = '✗', error = '✗', skipped = '⊘', xfailed = '⊘', xpassed = '✓' }

-- The quickfix items for every known test (discovered or run), failures first.
function M.items(discovered)
  local seen, items = {}, {}
  local function add(t, outcome)
    if seen[t.nodeid] then
      return
    end
    seen[t.nodeid] = true
    local file_uri = (t.uri ~= nil and t.uri ~= vim.NIL and FAILED[outcome or ''] and t.uri) or t.fileUri or t.uri
    local text = string.format('%s %s', MARK[outcome or ''] or '·', t.nodeid)
    if FAILED[outcome or ''] and t.message and t.message ~= vim.NIL then
      text = text .. ': ' .. tostring(t.message):gsub('\n.*', '')
    end
    table.insert(items, {
      filename = file_uri and vim.uri_to_fname(file_uri) or '',
      lnum = (type(t.line) == 'number' and t.line or 0) + 1,
      text = text,
      type = FAILED[outcome or ''] and 'E' or nil,
      outcome = outcome or 'unknown',
    })
  end
  for _, t in pairs(M.tests) do
    add(t, t.outcome)
  end
  for _, t in ipairs(discovered or {}) do
    local known = M.tests[t.nodeid]
    add(known or t, known and known.outcome or nil)
  end
  table.sort(items, function(a, b)
    local fa, fb = a.type == 'E', b.type == 'E'
    if fa ~= fb then
      return fa
    end
    return a.text:sub(5) < b.text:sub(5)
  end)
  return items
end

-- :TwinTests — every test of the workspace (the server's discovery) with its last outcome.
function M.quickfix()
  command('twinls.discoverTests', {}, function(err, result)
    local discovered = {}
    if not err and type(result) == 'table' then
      for _, file in ipairs(result.files or {}) do
        for _, t in ipairs(file.tests or {}) do
          t.fileUri = file.uri
          table.insert(discovered, t)
        end
      end
    end
    vim.fn.setqflist({}, ' ', { title = 'twinls: tests', items = M.items(discovered) })
    vim.cmd('copen')
  end)
end

local COVERAGE_GROUP = 'twinls_coverage'
local signs_defined = false

local function define_signs()
  if signs_defined then
    return
  end
  vim.fn.sign_define('TwinlsCovered', { text = '▎', texthl = 'DiffAdd' })
  vim.fn.sign_define('TwinlsUncovered', { text = '▎', texthl = 'DiffDelete' })
  signs_defined = true
end

local function same_file(uri, bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  return name ~= '' and vim.fn.resolve(vim.uri_to_fname(uri)) == vim.fn.resolve(vim.fn.fnamemodify(name, ':p'))
end

local function line_text(fname, lnum)
  local bufnr = vim.fn.bufnr(fname)
  if bufnr > 0 and vim.api.nvim_buf_is_loaded(bufnr) then
    return (vim.api.nvim_buf_get_lines(bufnr, lnum - 1, lnum, false)[1] or '')
  end
  local ok, lines = pcall(vim.fn.readfile, fname, '', lnum)
  return ok and (lines[lnum] or '') or ''
end

-- Signs for one file's covered and uncovered lines (0-based lines, as the server says).
function M.place_coverage(bufnr, file)
  define_signs()
  vim.fn.sign_unplace(COVERAGE_GROUP, { buffer = bufnr })
  for _, pair in ipairs({ { file.covered or {}, 'TwinlsCovered' }, { file.uncovered or {}, 'TwinlsUncovered' } }) do
    for _, line in ipairs(pair[1]) do
      vim.fn.sign_place(0, COVERAGE_GROUP, pair[2], bufnr, { lnum = line + 1, priority = 5 })
    end
  end
end

-- The quickfix items for every uncovered line of every file (the current buffer's first).
function M.uncovered_items(files, bufnr)
  local items = {}
  local function add(file)
    local fname = vim.uri_to_fname(file.uri)
    for _, line in ipairs(file.uncovered or {}) do
      local text = line_text(fname, line + 1):gsub('^%s+', '')
      table.insert(items, { filename = fname, lnum = line + 1, text = 'not run: ' .. text })
    end
  end
  for _, file in ipairs(files) do
    if same_file(file.uri, bufnr) then
      add(file)
    end
  end
  for _, file in ipairs(files) do
    if not same_file(file.uri, bufnr) then
      add(file)
    end
  end
  return items
end

-- :TwinCoverage — the lines the tests live mode recorded ran (server: twinls.coverage):
-- signs on the current buffer, every uncovered line into quickfix.
function M.coverage()
  local bufnr = vim.api.nvim_get_current_buf()
  command('twinls.coverage', {}, function(err, result)
    if err or type(result) ~= 'table' then
      vim.notify('twinls: coverage failed: ' .. tostring(err and err.message or err), vim.log.levels.ERROR)
      return
    end
    local files = result.files or {}
    if #files == 0 then
      vim.notify('twinls: nothing recorded yet: turn live tests on (:TwinLive on)', vim.log.levels.WARN)
    end
    M.last_coverage = result
    for _, file in ipairs(files) do
      if same_file(file.uri, bufnr) then
        M.place_coverage(bufnr, file)
        vim.notify(string.format('twinls: %d of %d statements covered', #(file.covered or {}), file.statements or 0))
      end
    end
    vim.fn.setqflist({}, ' ', { title = 'twinls: uncovered lines', items = M.uncovered_items(files, bufnr) })
  end)
end

return M
