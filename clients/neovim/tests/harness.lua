-- A tiny check runner for headless Neovim (0.7+): named checks that each pass or
-- fail with a message, a JSON report for the driver (pytest), and an exit that
-- never hangs (an uncaught error in headless nvim would wait forever).
local M = {}

local uv = vim.uv or vim.loop

M.report = { checks = {}, order = {}, info = {} }

function M.write()
  local f = assert(io.open(assert(os.getenv('TWINLS_REPORT'), 'TWINLS_REPORT is not set'), 'w'))
  f:write(vim.fn.json_encode(M.report))
  f:close()
end

-- Fail the current check with a message (no Lua position noise).
function M.fail(fmt, ...)
  error({ message = string.format(fmt, ...) }, 0)
end

function M.expect(cond, fmt, ...)
  if not cond then
    M.fail(fmt, ...)
  end
  return cond
end

-- Wait for `cond` (processing events meanwhile); fail with `what` on timeout.
function M.wait(ms, cond, what)
  local value
  local ok = vim.wait(ms, function()
    value = cond()
    return value
  end, 20)
  if not ok then
    M.fail('timed out after %d ms waiting for %s', ms, what)
  end
  return value
end

local function message_of(err)
  if type(err) == 'table' and err.message then
    return err.message
  end
  return debug.traceback(tostring(err), 2)
end

-- Run one named check; later checks still run when it fails.
function M.check(name, fn)
  local started = uv.hrtime()
  local ok, err = xpcall(fn, message_of)
  M.report.checks[name] = {
    ok = ok,
    message = ok and '' or err,
    ms = math.floor((uv.hrtime() - started) / 1e6),
  }
  table.insert(M.report.order, name)
  M.write()
  return ok
end

-- Run the whole script; always leave nvim, with status 0 only if it completed.
function M.main(fn, total_ms)
  -- A watchdog for waits that never return (fires inside vim.wait's event loop).
  vim.defer_fn(function()
    M.report.fatal = 'watchdog: the script ran longer than ' .. total_ms .. ' ms'
    M.write()
    vim.cmd('cquit')
  end, total_ms)
  local ok, err = xpcall(fn, function(e)
    return debug.traceback(tostring(e), 2)
  end)
  if not ok then
    M.report.fatal = err
  end
  M.report.completed = ok
  M.write()
  if ok then
    vim.cmd('qall!')
  else
    vim.cmd('cquit')
  end
end

return M
