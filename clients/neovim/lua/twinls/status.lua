-- :TwinStatus — what the server and each twin hold, and whether the twins' copies
-- of the open documents match the server's (same text hashes).
local compat = require('twinls.compat')

local M = {}

-- The newest `twinls.status` result.
M.last = nil

local function differing(a, b)
  local n = 0
  for path, hash in pairs(a or {}) do
    if (b or {})[path] ~= hash then
      n = n + 1
    end
  end
  for path in pairs(b or {}) do
    if (a or {})[path] == nil then
      n = n + 1
    end
  end
  return n
end

function M.format(s)
  local server, pool = s.server or {}, s.pool or {}
  local lines = {
    string.format(
      'twinls server pid %s, seq %s, %s, roots: %s',
      tostring(server.pid),
      tostring(server.seq),
      tostring(server.encoding),
      table.concat(server.roots or {}, ', ')
    ),
    string.format('pool: %s of %s twins live', tostring(pool.live), tostring(pool.size)),
  }
  -- One line per workspace folder: its twins' interpreter (server.interpreters_by_root).
  local by_root = type(server.interpreters_by_root) == 'table' and server.interpreters_by_root or {}
  local folders = vim.tbl_keys(by_root)
  table.sort(folders)
  if #folders == 0 and type(server.interpreter) == 'table' then
    by_root, folders = { ['?'] = server.interpreter }, { '?' }
  end
  for _, folder in ipairs(folders) do
    local interp = by_root[folder]
    local version = type(interp.version) == 'string' and interp.version:match('^%S+') or '?'
    local pytest = type(interp.pytest) == 'table' and interp.pytest.source or '?'
    local where = #folders > 1 and (folder .. ': ') or ''
    table.insert(
      lines,
      string.format(
        '%spython %s (%s: %s), pytest from %s',
        where,
        version,
        tostring(interp.source),
        tostring(interp.path),
        pytest
      )
    )
  end
  if type(pool.sizing) == 'table' and pool.sizing.reason then
    table.insert(lines, '  size: ' .. tostring(pool.sizing.reason))
  end
  if pool.gave_up and #pool.gave_up > 0 then
    lines[2] = lines[2] .. ', gave up on slots ' .. table.concat(pool.gave_up, ', ')
  end
  for _, t in ipairs(s.twins or {}) do
    local off = differing(server.hashes, t.hashes)
    table.insert(
      lines,
      string.format(
        '  twin %s: pid %s, up %d s, seq %s, %s overlay files, %s',
        tostring(t.slot),
        tostring(t.pid),
        math.floor(tonumber(t.uptime) or 0),
        tostring(t.seq),
        tostring(t.overlay_files),
        off == 0 and 'in sync' or (off .. ' documents differ')
      )
    )
  end
  return table.concat(lines, '\n')
end

function M.show()
  local client, bufnr = compat.any_client()
  if not client then
    return
  end
  local params = { command = 'twinls.status', arguments = {} }
  compat.request(client, 'workspace/executeCommand', params, function(err, result)
    if err then
      vim.notify('twinls: status failed: ' .. (err.message or tostring(err)), vim.log.levels.ERROR)
      return
    end
    M.last = result
    vim.notify(M.format(result))
  end, bufnr)
end

return M
