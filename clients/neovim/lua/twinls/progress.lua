-- `$/progress` for twinls clients: partial-result batches go to whoever asked for
-- them (by token); work-done bars are tracked for `statusline()` and then handed
-- to Neovim's default handler, so other progress UIs keep working.
local M = {}

-- Tokens we mint as partialResultToken; a batch that arrives after its request has
-- finished is dropped rather than fed to the default handler as a "progress".
local PREFIX = 'twinls-nvim-'
local counter = 0
local listeners = {} -- token -> function(value, ctx)
local bars = {} -- "client_id:token" -> { title, message, percentage, seq }
local bar_seq = 0

-- How many work-done bars have begun (for tests and curious users).
M.seen = 0

function M.token()
  counter = counter + 1
  return PREFIX .. counter
end

function M.listen(token, fn)
  listeners[token] = fn
end

function M.unlisten(token)
  listeners[token] = nil
end

local function changed()
  vim.api.nvim_exec_autocmds('User', { pattern = 'TwinlsProgress', modeline = false })
  vim.cmd('redrawstatus')
end

local function track(client_id, token, value)
  local key = client_id .. ':' .. tostring(token)
  if value.kind == 'begin' then
    M.seen = M.seen + 1
    bar_seq = bar_seq + 1
    bars[key] = { title = value.title, message = value.message, percentage = value.percentage, seq = bar_seq }
  elseif value.kind == 'report' and bars[key] then
    bars[key].message = value.message or bars[key].message
    bars[key].percentage = value.percentage or bars[key].percentage
  elseif value.kind == 'end' then
    bars[key] = nil
  end
end

function M.handler(err, result, ctx, config)
  local token, value = result.token, result.value
  local listener = listeners[token]
  if listener then
    listener(value, ctx)
    return
  end
  if type(token) == 'string' and token:sub(1, #PREFIX) == PREFIX then
    return
  end
  if type(value) == 'table' and value.kind then
    track(ctx.client_id, token, value)
  end
  local ret = vim.lsp.handlers['$/progress'](err, result, ctx, config)
  changed()
  return ret
end

-- Forget a client's bars (it exited, so no `end` will come).
function M.clear(client_id)
  local prefix = client_id .. ':'
  for key in pairs(bars) do
    if key:sub(1, #prefix) == prefix then
      bars[key] = nil
    end
  end
end

-- The newest running bar as one short line, or '' when twinls is idle.
-- Plain text (a literal '%'), for 'statusline' as `%{luaeval("require'twinls'.statusline()")}`.
function M.statusline()
  local newest
  for _, bar in pairs(bars) do
    if not newest or bar.seq > newest.seq then
      newest = bar
    end
  end
  if not newest then
    return ''
  end
  local parts = { 'twinls:', newest.title or '' }
  if newest.message and newest.message ~= '' then
    table.insert(parts, newest.message)
  end
  if newest.percentage then
    table.insert(parts, newest.percentage .. '%')
  end
  return table.concat(parts, ' ')
end

return M
