-- Searches that stream into the quickfix list. Each request carries a
-- partialResultToken; the server sends `Location[]` batches as `$/progress` on it
-- and answers with an empty list, so the first hits show while the rest of a big
-- workspace is still being searched. (Neovim's own vim.lsp.buf.references sends
-- no token and gets everything at the end.)
local compat = require('twinls.compat')
local config = require('twinls.config')
local progress = require('twinls.progress')

local M = {}

local uv = vim.uv or vim.loop

-- The newest search: { title, qfid, count, batches, done, first_ms, ms, error }.
M.last = nil

local function key(loc)
  local uri = loc.uri or loc.targetUri
  local r = loc.range or loc.targetSelectionRange
  return uri .. ':' .. r.start.line .. ':' .. r.start.character
end

local function elapsed_ms(state)
  return math.floor((uv.hrtime() - state.started) / 1e6)
end

local function open_quickfix()
  local win = vim.api.nvim_get_current_win()
  vim.cmd('botright copen')
  vim.api.nvim_set_current_win(win)
end

-- Send `method` to the buffer's twinls client; `make_params(client, token)` builds
-- its params around the partial-result token. Returns the search's state table.
function M.stream(method, make_params, title, bufnr)
  local client = compat.buffer_client(bufnr)
  if not client then
    return nil
  end
  vim.fn.setqflist({}, ' ', { title = title, items = {} })
  local state = {
    title = title,
    qfid = vim.fn.getqflist({ id = 0 }).id,
    count = 0,
    batches = 0,
    done = false,
    started = uv.hrtime(),
  }
  M.last = state
  local seen = {}

  -- A batch, or the final answer of a server that ignored the token.
  local function add(locations, partial)
    if type(locations) ~= 'table' then
      return
    end
    if locations.uri or locations.targetUri then -- a lone Location
      locations = { locations }
    end
    local fresh = {}
    for _, loc in ipairs(locations) do
      local k = key(loc)
      if not seen[k] then
        seen[k] = true
        table.insert(fresh, loc)
      end
    end
    if #fresh == 0 then
      return
    end
    if partial then
      state.batches = state.batches + 1
    end
    vim.fn.setqflist({}, 'a', { id = state.qfid, items = compat.locations_to_items(fresh, client) })
    state.count = state.count + #fresh
    if not state.first_ms then
      state.first_ms = elapsed_ms(state)
      if config.options.open_quickfix then
        open_quickfix()
      end
    end
  end

  local token = progress.token()
  progress.listen(token, function(value)
    add(value, true)
  end)
  compat.request(client, method, make_params(client, token), function(err, result)
    progress.unlisten(token)
    if err then
      state.error = err.message or tostring(err)
      vim.notify('twinls: ' .. title .. ' failed: ' .. state.error, vim.log.levels.ERROR)
    else
      add(result, false)
      vim.fn.setqflist({}, 'a', { id = state.qfid, title = string.format('%s (%d)', title, state.count) })
      vim.notify(string.format('twinls: %s: %d found', title, state.count))
    end
    state.ms = elapsed_ms(state)
    state.done = true
    vim.api.nvim_exec_autocmds('User', { pattern = 'TwinlsSearchDone', modeline = false })
  end)
  return state
end

local function at_cursor(client, token)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.partialResultToken = token
  return params
end

function M.references()
  return M.stream('textDocument/references', function(client, token)
    local params = at_cursor(client, token)
    params.context = { includeDeclaration = true }
    return params
  end, 'References of ' .. vim.fn.expand('<cword>'))
end

function M.implementations()
  return M.stream('textDocument/implementation', at_cursor, 'Implementations of ' .. vim.fn.expand('<cword>'))
end

-- Every function or method called `name` in the workspace.
function M.implementors(name)
  if name == nil or name == '' then
    name = vim.fn.expand('<cword>')
  end
  if name == '' then
    vim.notify('twinls: which name? :TwinImplementors {name}', vim.log.levels.WARN)
    return nil
  end
  return M.stream('workspace/executeCommand', function(_, token)
    return {
      command = 'twinls.findImplementors',
      arguments = { name, { partialResultToken = token } },
    }
  end, 'Implementors of ' .. name)
end

return M
