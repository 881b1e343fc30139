-- The inspector: a live result (an example's value, a failed test's frames and their
-- locals) as a tree in a scratch buffer, in a floating window. <CR> (or `o`) on a line
-- expands it one level (asked of the server's `twinls.inspect`), `q` closes, `gd` on a
-- frame goes to its line. Rich views have text fallbacks: an image says its type and
-- size, HTML/markdown/LaTeX show as their first lines of text.
local compat = require('twinls.compat')

local M = {}

local FILETYPE = 'twinls-inspect'
local PAGE = 100

-- bufnr -> { client_id, root = node, lines = { [lnum] = node } }
M.trees = {}

local function one_line(text, width)
  text = tostring(text or ''):gsub('\n', '⏎')
  if #text > width then
    return text:sub(1, width - 1) .. '…'
  end
  return text
end

local function node_of(child)
  return {
    name = child.name,
    type = child.type or '',
    repr = child.repr or '',
    handle = child.handle ~= vim.NIL and child.handle or nil,
  }
end

local function text_node(text)
  return { text = text }
end

-- What an answer adds under its node: mime fallbacks, views, attributes, items, more.
local function children_of(answer, node)
  local kids = {}
  if answer.error and answer.error ~= vim.NIL then
    table.insert(kids, text_node('! ' .. answer.error))
  end
  if answer.gone then
    return kids
  end
  if type(answer.location) == 'table' then
    node.location = answer.location
    table.insert(kids, text_node(string.format('@ %s:%d  (gd: go there)', vim.fn.fnamemodify(vim.uri_to_fname(answer.location.uri), ':~:.'), answer.location.line + 1)))
  end
  for mime, data in pairs(type(answer.mime) == 'table' and answer.mime or {}) do
    if mime:match('^image/') and mime ~= 'image/svg+xml' then
      local padding = #(data:match('=*$'))
      local size = math.floor(#data * 3 / 4) - padding
      table.insert(kids, text_node(string.format('[%s: %d bytes, not shown in a terminal]', mime, size)))
    else
      table.insert(kids, text_node(string.format('[%s] %s', mime, one_line(data, 120))))
    end
  end
  for _, view in ipairs(answer.views or {}) do
    local text = view.error ~= nil and view.error ~= vim.NIL and ('! ' .. view.error) or ''
    if type(view.mime) == 'table' then
      for mime, data in pairs(view.mime) do
        text = text .. string.format('[%s] %s', mime, one_line(data, 100))
      end
    end
    table.insert(kids, text_node(string.format('view %s: %s', view.title or '?', text)))
    if type(view.child) == 'table' then
      table.insert(kids, node_of(view.child))
    end
  end
  for _, attr in ipairs(answer.attributes or {}) do
    table.insert(kids, node_of(attr))
  end
  for _, item in ipairs(answer.items or {}) do
    table.insert(kids, node_of(item))
  end
  if answer.more then
    local offset = (answer.offset or 0) + #(answer.items or {})
    table.insert(kids, { text = '… more (<CR>)', more = { handle = answer.handle, offset = offset } })
  end
  return kids
end

local function render(bufnr)
  local tree = M.trees[bufnr]
  if not tree then
    return
  end
  local lines, map = {}, {}
  local function walk(node, depth)
    local indent = string.rep('  ', depth)
    local line
    if node.text then
      line = indent .. '  ' .. node.text
    else
      local mark = node.handle and (node.open and '▾ ' or '▸ ') or '  '
      line = string.format('%s%s%s: %s  %s', indent, mark, node.name, node.type, one_line(node.repr, 200))
    end
    table.insert(lines, line)
    map[#lines] = node
    if node.open then
      for _, kid in ipairs(node.children or {}) do
        walk(kid, depth + 1)
      end
      if node.loading then
        table.insert(lines, indent .. '    (loading…)')
      end
    end
  end
  if tree.pending then
    lines = { tree.pending }
  else
    walk(tree.root, 0)
  end
  tree.lines = map
  vim.bo[bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
  vim.bo[bufnr].modifiable = false
end

local function ask(bufnr, handle, offset, done)
  local tree = M.trees[bufnr]
  local client = tree and vim.lsp.get_client_by_id(tree.client_id)
  if not client then
    return done({ error = 'the twinls client is gone', gone = true })
  end
  local args = { handle, { offset = offset or 0, limit = PAGE } }
  compat.request(client, 'workspace/executeCommand', { command = 'twinls.inspect', arguments = args }, function(err, answer)
    vim.schedule(function()
      if err then
        return done({ error = err.message or tostring(err) })
      end
      done(answer or { error = 'no answer' })
    end)
  end)
end

-- Expand (or fold) the node on the cursor's line; `… more` fetches the next page.
function M.toggle(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local tree = M.trees[bufnr]
  if not tree or not tree.lines then
    return
  end
  local lnum = vim.api.nvim_win_get_cursor(0)[1]
  local node = tree.lines[lnum]
  if not node then
    return
  end
  if node.more then
    local parent
    for _, n in pairs(tree.lines) do
      for i, kid in ipairs(n.children or {}) do
        if kid == node then
          parent = { n, i }
        end
      end
    end
    if not parent then
      return
    end
    node.text = '(loading…)'
    render(bufnr)
    ask(bufnr, node.more.handle, node.more.offset, function(answer)
      table.remove(parent[1].children, parent[2])
      for _, item in ipairs(answer.items or {}) do
        table.insert(parent[1].children, node_of(item))
      end
      if answer.more then
        local offset = (answer.offset or 0) + #(answer.items or {})
        table.insert(parent[1].children, { text = '… more (<CR>)', more = { handle = answer.handle, offset = offset } })
      end
      render(bufnr)
    end)
    return
  end
  if not node.handle then
    return
  end
  if node.open then
    node.open = false
    render(bufnr)
    return
  end
  node.open = true
  if node.children then
    render(bufnr)
    return
  end
  node.loading = true
  render(bufnr)
  ask(bufnr, node.handle, 0, function(answer)
    node.loading = false
    node.children = children_of(answer, node)
    render(bufnr)
  end)
end

-- gd on a frame (or anything below it): its file and line.
function M.goto_frame(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local tree = M.trees[bufnr]
  local node = tree and tree.lines[vim.api.nvim_win_get_cursor(0)[1]]
  if node and node.location then
    local loc = node.location
    vim.cmd('close')
    vim.cmd('edit ' .. vim.fn.fnameescape(vim.uri_to_fname(loc.uri)))
    vim.api.nvim_win_set_cursor(0, { loc.line + 1, 0 })
  end
end

local function window(bufnr)
  local width = math.min(math.max(60, math.floor(vim.o.columns * 0.7)), vim.o.columns - 4)
  local height = math.max(8, math.floor(vim.o.lines * 0.6))
  return vim.api.nvim_open_win(bufnr, true, {
    relative = 'editor',
    width = width,
    height = height,
    row = math.floor((vim.o.lines - height) / 2),
    col = math.floor((vim.o.columns - width) / 2),
    style = 'minimal',
    border = 'rounded',
  })
end

-- A new inspector buffer, shown in a floating window; `pending` is its text until a root.
function M.new(client_id, pending)
  local bufnr = vim.api.nvim_create_buf(false, true)
  vim.bo[bufnr].bufhidden = 'wipe'
  vim.bo[bufnr].filetype = FILETYPE
  M.trees[bufnr] = { client_id = client_id, pending = pending }
  local opts = { buffer = bufnr, nowait = true, silent = true }
  for _, key in ipairs({ '<CR>', 'o' }) do
    vim.keymap.set('n', key, function()
      M.toggle(bufnr)
    end, opts)
  end
  vim.keymap.set('n', 'gd', function()
    M.goto_frame(bufnr)
  end, opts)
  vim.keymap.set('n', 'q', '<cmd>close<CR>', opts)
  vim.api.nvim_create_autocmd('BufWipeout', {
    buffer = bufnr,
    callback = function()
      M.trees[bufnr] = nil
    end,
  })
  render(bufnr)
  window(bufnr)
  return bufnr
end

-- Show `handle` in `bufnr` (its root expanded).
function M.fill(bufnr, handle, title)
  local tree = M.trees[bufnr]
  if not tree then
    return
  end
  if not handle then
    tree.pending = 'twinls: this run has no live result (it passed, or parking is off)'
    return render(bufnr)
  end
  tree.pending = nil
  tree.root = { name = title or 'result', type = '', repr = '', handle = handle, open = true, loading = true }
  render(bufnr)
  ask(bufnr, handle, 0, function(answer)
    local root = tree.root
    root.loading = false
    root.type, root.repr = answer.type or '', answer.repr or ''
    root.children = children_of(answer, root)
    render(bufnr)
  end)
end

function M.open(client, handle, title)
  local bufnr = M.new(client.id)
  M.fill(bufnr, handle, title)
  return bufnr
end

-- :TwinInspect — run the test or example under the cursor and inspect its live result;
-- the window says "running…" until the run's answer comes.
function M.at_cursor()
  local client = compat.buffer_client(0)
  if not client then
    return
  end
  local p = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local bufnr = M.new(client.id, 'running…')
  compat.request(client, 'workspace/executeCommand', { command = 'twinls.runAt', arguments = { p.textDocument.uri, p.position } }, function(err, result)
    vim.schedule(function()
      if err then
        M.trees[bufnr].pending = 'twinls: ' .. (err.message or tostring(err))
        return render(bufnr)
      end
      local handle, title
      for _, t in ipairs(type(result) == 'table' and result.tests or {}) do
        if t.handle and t.handle ~= vim.NIL then
          handle, title = t.handle, t.nodeid
          break
        end
      end
      M.fill(bufnr, handle, title)
    end)
  end)
  return bufnr
end

-- The client-side `twinls.inspect` command: the Inspect lens, the failure's code action.
function M.from_command(command, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local args = command.arguments or {}
  if client and type(args[1]) == 'string' then
    M.open(client, args[1], type(args[2]) == 'table' and args[2].title or nil)
  end
end

return M
