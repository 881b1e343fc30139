-- :checkhealth twinls — is the server there, which version, and for each running client
-- (one per root_dir) and each of its workspace folders: the interpreter its twins run in
-- (version, where it came from, whose pytest)
-- and whether the twins are alive. Version differences of the health API live in compat.
local compat = require('twinls.compat')
local config = require('twinls.config')

local M = {}

local function server_version(cmd)
  local out = vim.fn.system(vim.list_extend(vim.deepcopy(cmd), { '--version' }))
  if vim.v.shell_error ~= 0 then
    return nil, out
  end
  return vim.trim(out)
end

local function report_interpreter(h, root, interp)
  if interp.error and interp.error ~= vim.NIL then
    h.error(string.format('root %s: no twin can start: %s', root, interp.error))
    return
  end
  local version = type(interp.version) == 'string' and interp.version:match('^%S+') or '?'
  local pytest = type(interp.pytest) == 'table' and interp.pytest.source or '?'
  h.ok(
    string.format(
      'root %s: Python %s (%s: %s), pytest from %s',
      root,
      version,
      tostring(interp.source),
      tostring(interp.path),
      tostring(pytest)
    )
  )
  if pytest == 'twinls' then
    h.warn(string.format('root %s has no pytest: runs use twinls\'s own; install pytest into its environment', root))
  end
end

local function report_client(h, client)
  local root = client.config and client.config.root_dir or '?'
  local status, err = compat.request_sync(
    client,
    'workspace/executeCommand',
    { command = 'twinls.status', arguments = {} },
    20000
  )
  if not status then
    h.error(string.format('root %s: no status from the server (%s)', root, vim.inspect(err)))
    return
  end
  -- Each workspace folder of the client has its own interpreter (the server's
  -- interpreters_by_root); an older server names only the first folder's.
  local server = status.server or {}
  local by_root = type(server.interpreters_by_root) == 'table' and server.interpreters_by_root or {}
  if next(by_root) == nil then
    by_root = { [root] = server.interpreter or {} }
  end
  local roots = vim.tbl_keys(by_root)
  table.sort(roots)
  for _, folder in ipairs(roots) do
    report_interpreter(h, folder, by_root[folder])
  end
  local pool = status.pool or {}
  local line = string.format('root %s: %s of %s twins live', root, tostring(pool.live), tostring(pool.size))
  if (pool.live or 0) >= 1 then
    h.ok(line)
  else
    h.error(line)
  end
end

function M.check()
  local h = compat.health()
  h.start('twinls')
  local cmd = config.options.cmd or { 'twinls' }
  if vim.fn.executable(cmd[1]) == 1 then
    h.ok(string.format('server found: %s', vim.fn.exepath(cmd[1])))
    local version, err = server_version(cmd)
    if version then
      h.ok('server version: ' .. version)
    else
      h.warn('the server did not say its version: ' .. tostring(err))
    end
  else
    h.error(
      string.format('server not found: %q is not executable', cmd[1]),
      { 'pipx install twinls (or pip install --user twinls)', 'or set `cmd` in require("twinls").setup()' }
    )
  end
  local clients = compat.clients()
  if #clients == 0 then
    h.warn('no twinls client is running: open a Python file in a project')
  end
  for _, client in ipairs(clients) do
    report_client(h, client)
  end
end

return M
