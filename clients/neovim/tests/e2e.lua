-- End-to-end checks of the plugin against the real server, in headless Neovim:
--   TWINLS_PLUGIN=clients/neovim TWINLS_CMD='["twinls"]' TWINLS_WORKSPACE=dir \
--   TWINLS_REPORT=out.json timeout 120 nvim --headless -u NONE -i NONE -c 'luafile e2e.lua'
-- The workspace is tests/editors/neovim_workspace.py's; the report is read by
-- tests/editors/test_neovim.py. Works on 0.7 (no -l, no vim.lsp.start) and 0.11.
-- Nothing may raise outside h.main: headless nvim would hang on the error.
local loaded, h = pcall(function()
  local plugin = assert(os.getenv('TWINLS_PLUGIN'), 'TWINLS_PLUGIN is not set')
  vim.opt.runtimepath:prepend(plugin)
  package.path = plugin .. '/tests/?.lua;' .. package.path
  vim.cmd('runtime! plugin/twinls.lua') -- -u NONE loads no plugins
  return require('harness')
end)
if not loaded then
  io.stderr:write(tostring(h) .. '\n')
  vim.cmd('cquit')
end

local ws, cmd -- the workspace folder and the server command, from the environment

local WAIT = 20000 -- ms for any one server answer (the first includes the twin's start)

local function open(rel)
  vim.cmd('edit ' .. vim.fn.fnameescape(ws .. '/' .. rel))
  vim.bo.filetype = 'python' -- -u NONE: no filetype detection
  return vim.api.nvim_get_current_buf()
end

-- 0-based line in `bufnr` holding `text` (plain), and the column where it starts.
local function find(bufnr, text)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    local col = line:find(text, 1, true)
    if col then
      return i - 1, col - 1
    end
  end
  h.fail('no line with %q in %s', text, vim.api.nvim_buf_get_name(bufnr))
end

local function cursor_at(bufnr, text, offset)
  local line, col = find(bufnr, text)
  vim.api.nvim_set_current_buf(bufnr)
  vim.api.nvim_win_set_cursor(0, { line + 1, col + (offset or 0) })
  return line
end

local function client()
  return require('twinls.compat').client(0)
end

local function position_params(bufnr, text, offset)
  cursor_at(bufnr, text, offset)
  return vim.lsp.util.make_position_params(0, client().offset_encoding)
end

local PROVIDERS = {
  ['textDocument/implementation'] = 'implementationProvider',
  ['textDocument/references'] = 'referencesProvider',
}

-- One server's answer to a request through Neovim's own API (no partial token).
local function request_sync(bufnr, method, params)
  -- 0.7 would wait out the whole timeout for a method no server offers.
  local provider = PROVIDERS[method]
  h.expect(not provider or client().server_capabilities[provider], 'the server offers no %s', provider)
  local responses, err = vim.lsp.buf_request_sync(bufnr, method, params, WAIT)
  h.expect(responses, '%s: no answer (%s)', method, tostring(err))
  local _, r = next(responses)
  h.expect(r, '%s: no client answered', method)
  h.expect(not r.err, '%s failed: %s', method, vim.inspect(r.err))
  return r.result
end

local function command_sync(bufnr, name, args)
  return request_sync(bufnr, 'workspace/executeCommand', { command = name, arguments = args or {} })
end

local function basename(uri_or_path)
  return vim.fn.fnamemodify((uri_or_path:gsub('^file://', '')), ':t')
end

-- Lines (0-based) per file name among LSP locations.
local function lines_by_file(locations)
  local found = {}
  for _, loc in ipairs(locations or {}) do
    local uri = loc.uri or loc.targetUri
    local range = loc.range or loc.targetSelectionRange
    local name = basename(uri)
    found[name] = found[name] or {}
    found[name][range.start.line] = true
  end
  return found
end

-- The same, from a quickfix list (lnum is 1-based there).
local function qf_lines(qfid)
  local found, n = {}, 0
  for _, item in ipairs(vim.fn.getqflist({ id = qfid, items = 1 }).items) do
    local name = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(item.bufnr), ':t')
    found[name] = found[name] or {}
    found[name][item.lnum - 1] = true
    n = n + 1
  end
  return found, n
end

-- 0-based line of `def area` in class `name` of shapes.py.
local function area_of(name)
  local bufnr = vim.fn.bufnr(ws .. '/shapes.py')
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local line = find(bufnr, 'class ' .. name)
  repeat
    line = line + 1
  until lines[line + 1] == nil or lines[line + 1]:find('def area', 1, true)
  return line
end

-- "a.py:1,4 b.py:0" — short enough for a failure message.
local function show(found)
  local names, parts = vim.tbl_keys(found), {}
  table.sort(names)
  for _, name in ipairs(names) do
    local lines = vim.tbl_keys(found[name])
    table.sort(lines)
    table.insert(parts, name .. ':' .. table.concat(lines, ','))
  end
  return #parts > 0 and table.concat(parts, ' ') or '(nothing)'
end

local function expect_line(found, file, line, what)
  local ok = found[file] and found[file][line]
  h.expect(ok, '%s: expected %s line %d (0-based); got %s', what, file, line, show(found))
end

-- A streamed search run through one of the plugin's commands.
local function streamed(ex_cmd)
  local search = require('twinls.search')
  search.last = nil
  vim.cmd(ex_cmd)
  local state = h.wait(WAIT, function()
    return search.last and search.last.done and search.last
  end, ex_cmd .. ' to finish')
  h.expect(not state.error, '%s failed: %s', ex_cmd, tostring(state.error))
  return state
end

local function expect_streamed(state, what)
  h.expect(state.batches >= 1, '%s: no $/progress batch arrived (the whole answer came at the end)', what)
  local first, last = state.first_ms, state.ms
  h.expect(first <= last, '%s: first result at %d ms, after the end at %d ms', what, first, last)
end

local function run(ex_cmd_or_fn)
  local runs = require('twinls.run')
  runs.last = nil
  if type(ex_cmd_or_fn) == 'string' then
    vim.cmd(ex_cmd_or_fn)
  else
    ex_cmd_or_fn()
  end
  local result = h.wait(WAIT, function()
    return runs.last
  end, 'the run result')
  h.expect(not result.error, 'the run failed: %s', tostring(result.error))
  return result
end

local function diagnostics_at(bufnr, line)
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.lnum == line then
      table.insert(found, d)
    end
  end
  return found
end

local function lens_at(bufnr, line)
  for _, lens in ipairs(vim.lsp.codelens.get(bufnr)) do
    if lens.range.start.line == line and lens.command then
      return lens
    end
  end
end

-- The title of the lens over `line` once it has run (it then says it runs again).
local function ran_lens_title(bufnr, line, what)
  return h.wait(WAIT, function()
    local lens = lens_at(bufnr, line)
    return lens and lens.command.title:find('Run again', 1, true) and lens.command.title
  end, what)
end

h.main(function()
  ws = assert(os.getenv('TWINLS_WORKSPACE'), 'TWINLS_WORKSPACE is not set')
  cmd = vim.fn.json_decode((assert(os.getenv('TWINLS_CMD'), 'TWINLS_CMD is not set')))
  local shapes, tests
  local info = h.report.info
  local v = vim.version()
  info.version = string.format('%d.%d.%d', v.major, v.minor, v.patch)

  h.check('attach', function()
    require('twinls').setup({ cmd = cmd, pool = 1, run_timeout = 30 })
    shapes = open('shapes.py')
    local c = h.wait(WAIT, client, 'the twinls client to attach to shapes.py')
    info.api = vim.lsp.enable and 'vim.lsp.enable' or (vim.lsp.start and 'vim.lsp.start' or 'vim.lsp.start_client')
    h.wait(WAIT, function()
      return c.initialized ~= false and c.server_capabilities and next(c.server_capabilities)
    end, 'initialize')
    info.encoding = c.offset_encoding
    local status = command_sync(shapes, 'twinls.status')
    h.expect(status.pool.live >= 1, 'no twin is live: %s', vim.inspect(status.pool))
    local enc = status.server.encoding
    h.expect(enc == c.offset_encoding, 'server speaks %s, client %s', enc, c.offset_encoding)
  end)

  h.check('status', function()
    local st = require('twinls.status')
    st.last = nil
    vim.cmd('TwinStatus')
    local s = h.wait(WAIT, function()
      return st.last
    end, ':TwinStatus')
    local text = st.format(s)
    h.expect(text:find('in sync', 1, true), ':TwinStatus does not show the twin in sync:\n%s', text)
  end)

  -- issue 13: :checkhealth twinls names the server, its version, the interpreter per root
  -- and whether the twins are alive (vim.health on 0.10+, require('health') on 0.7).
  h.check('checkhealth', function()
    vim.cmd('checkhealth twinls')
    local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
    info.checkhealth = text
    for _, want in ipairs({ 'server found:', 'server version: twinls ', 'Python 3.', 'twins live' }) do
      h.expect(text:find(want, 1, true), ':checkhealth twinls lacks %q:\n%s', want, text)
    end
    h.expect(not text:find('ERROR', 1, true), ':checkhealth twinls reports an error:\n%s', text)
    vim.cmd('tabclose') -- checkhealth opened its report in a tab
    vim.api.nvim_set_current_buf(shapes)
  end)

  h.check('implementors', function()
    local state = streamed('TwinImplementors area')
    local found, n = qf_lines(state.qfid)
    for _, owner in ipairs({ 'Shape', 'Square', 'Circle' }) do
      expect_line(found, 'shapes.py', area_of(owner), ':TwinImplementors area (' .. owner .. '.area)')
    end
    h.expect(n >= 3 + 30, ':TwinImplementors area: %d results, expected at least 33', n)
    expect_streamed(state, ':TwinImplementors')
    info.implementors = { count = n, batches = state.batches, first_ms = state.first_ms, ms = state.ms }
  end)

  h.check('implementation', function()
    local params = position_params(shapes, 'def area', #'def ')
    local result = request_sync(shapes, 'textDocument/implementation', params)
    local found = lines_by_file(result)
    expect_line(found, 'shapes.py', area_of('Square'), 'implementation of Shape.area (Square)')
    expect_line(found, 'shapes.py', area_of('Circle'), 'implementation of Shape.area (Circle)')
  end)

  h.check('references', function()
    local params = position_params(shapes, 'class Square', #'class ')
    params.context = { includeDeclaration = true }
    local found = lines_by_file(request_sync(shapes, 'textDocument/references', params))
    local tbuf = vim.fn.bufadd(ws .. '/test_shapes.py')
    vim.fn.bufload(tbuf)
    expect_line(found, 'test_shapes.py', find(tbuf, 'assert Square(2)'), 'references of Square')
  end)

  h.check('references_streamed', function()
    -- Shape is used in every module: the twin searches them a chunk at a time,
    -- so the quickfix list fills in several batches, the first well before the end.
    cursor_at(shapes, 'class Shape', #'class ')
    local state = streamed('TwinReferences')
    local found, n = qf_lines(state.qfid)
    expect_line(found, 'shape_07.py', 3, ':TwinReferences of Shape (subclass in shape_07.py)')
    h.expect(n >= 2 * 30, ':TwinReferences of Shape: %d results, expected at least 60', n)
    expect_streamed(state, ':TwinReferences')
    info.references = { count = n, batches = state.batches, first_ms = state.first_ms, ms = state.ms }
    h.expect(state.batches >= 2, ':TwinReferences of Shape: %d batch(es), expected several', state.batches)
  end)

  h.check('encoding', function()
    -- The quickfix column is a byte index, whatever encoding the client negotiated.
    cursor_at(shapes, 'class Square', #'class ')
    local state = streamed('TwinReferences')
    local line = vim.fn.readfile(ws .. '/uses.py')[3]
    local want = line:find('Square(', 1, true)
    for _, item in ipairs(vim.fn.getqflist({ id = state.qfid, items = 1 }).items) do
      if vim.api.nvim_buf_get_name(item.bufnr):sub(-#'uses.py') == 'uses.py' and item.lnum == 3 then
        h.expect(item.col == want, 'uses.py:3: quickfix column %d, expected byte column %d', item.col, want)
        return
      end
    end
    h.fail('no reference of Square on uses.py line 3: %s', show(qf_lines(state.qfid)))
  end)

  h.check('implementations_streamed', function()
    cursor_at(shapes, 'def area', #'def ')
    local state = streamed('TwinImplementations')
    local found, n = qf_lines(state.qfid)
    expect_line(found, 'shapes.py', area_of('Square'), ':TwinImplementations (Square)')
    h.expect(n >= 2 + 30, ':TwinImplementations: %d results, expected at least 32', n)
    expect_streamed(state, ':TwinImplementations')
  end)

  h.check('unsaved_edit', function()
    local disk = table.concat(vim.fn.readfile(ws .. '/shapes.py'), '\n')
    local n = vim.api.nvim_buf_line_count(shapes)
    local hexagon = { '', '', 'class Hexagon(Shape):', '    def area(self):', '        return 6' }
    vim.api.nvim_buf_set_lines(shapes, n, n, false, hexagon)
    -- The twin holds the buffer's text, byte for byte; the file is untouched.
    local text = table.concat(vim.api.nvim_buf_get_lines(shapes, 0, -1, false), '\n') .. '\n'
    local status = command_sync(shapes, 'twinls.status')
    local path = vim.fn.fnamemodify(ws .. '/shapes.py', ':p')
    h.expect(status.twins[1].hashes[path] == vim.fn.sha256(text), 'the twin does not hold the unsaved text of %s', path)
    h.expect(table.concat(vim.fn.readfile(ws .. '/shapes.py'), '\n') == disk, 'shapes.py was written to disk')
  end)

  h.check('unsaved_edit_search', function()
    local state = streamed('TwinImplementors area')
    local what = ':TwinImplementors area after an unsaved edit (Hexagon)'
    expect_line(qf_lines(state.qfid), 'shapes.py', area_of('Hexagon'), what)
  end)

  -- Language features (issue 14), each a named check; uses.py gets unsaved lines
  -- that use the unsaved class Hexagon, so every answer must come from the buffers.
  local uses
  h.check('lang_definition', function()
    uses = open('uses.py')
    h.wait(WAIT, client, 'the twinls client to attach to uses.py')
    local n = vim.api.nvim_buf_line_count(uses)
    vim.api.nvim_buf_set_lines(uses, n, n, false, { 'from shapes import Hexagon', 'hx = Hexagon()', 'hx.ar' })
    cursor_at(uses, 'hx = Hexagon()', #'hx = ')
    vim.lsp.buf.definition()
    local want = find(shapes, 'class Hexagon')
    h.wait(WAIT, function()
      return vim.api.nvim_get_current_buf() == shapes and vim.api.nvim_win_get_cursor(0)[1] - 1 == want
    end, 'vim.lsp.buf.definition() to jump to the unsaved class Hexagon (shapes.py line ' .. want .. ')')
  end)

  h.check('lang_completion', function()
    vim.api.nvim_set_current_buf(uses)
    local line = find(uses, 'hx.ar')
    vim.api.nvim_win_set_cursor(0, { line + 1, #'hx.ar' })
    -- The request omnifunc and vim.lsp.completion send (their menus need a typing user).
    local params = vim.lsp.util.make_position_params(0, client().offset_encoding)
    local result = request_sync(uses, 'textDocument/completion', params)
    local items = result.items or result
    local labels = {}
    for _, item in ipairs(items) do
      labels[item.label] = item
    end
    h.expect(labels.area, 'no completion "area" on an unsaved Hexagon: %s', vim.inspect(vim.tbl_keys(labels)))
    local edit = labels.area.textEdit
    h.expect(edit and edit.range.start.character == #'hx.', 'the item replaces %s, not the typed "ar"', vim.inspect(edit))
    local resolved = request_sync(uses, 'completionItem/resolve', labels.area)
    h.expect(resolved.detail and resolved.detail:find('area', 1, true), 'resolve gave no signature: %s', vim.inspect(resolved))
    info.completion_count = #items
  end)

  h.check('lang_rename', function()
    cursor_at(uses, 'hx = Hexagon()', #'hx = ')
    vim.lsp.buf.rename('Hexa')
    h.wait(WAIT, function()
      local s = table.concat(vim.api.nvim_buf_get_lines(shapes, 0, -1, false), '\n')
      local u = table.concat(vim.api.nvim_buf_get_lines(uses, 0, -1, false), '\n')
      return s:find('class Hexa(Shape)', 1, true) and u:find('hx = Hexa()', 1, true)
        and u:find('import Hexa\n', 1, true) and not u:find('Hexagon', 1, true)
    end, 'the rename of Hexagon to Hexa in both unsaved buffers')
    local disk = table.concat(vim.fn.readfile(ws .. '/shapes.py'), '\n')
    h.expect(not disk:find('Hexa', 1, true), 'the rename wrote shapes.py to disk')
  end)

  h.check('lang_incoming_calls', function()
    -- Square.area is called from test_shapes.py (on disk, not open): quickfix lists both.
    local line = area_of('Square')
    vim.api.nvim_set_current_buf(shapes)
    vim.api.nvim_win_set_cursor(0, { line + 1, #'    def ' })
    vim.fn.setqflist({}, 'r', { title = 'before', items = {} })
    vim.lsp.buf.incoming_calls()
    local tfile = vim.fn.readfile(ws .. '/test_shapes.py')
    local want = {}
    for i, text in ipairs(tfile) do
      if text:find('Square(', 1, true) and text:find('.area()', 1, true) then
        want[i] = true
      end
    end
    local found = h.wait(WAIT, function()
      local qf = vim.fn.getqflist({ title = 1, items = 1 })
      if qf.title == 'before' then
        return nil
      end
      local got = {}
      for _, item in ipairs(qf.items) do
        if vim.api.nvim_buf_get_name(item.bufnr):sub(-#'test_shapes.py') == 'test_shapes.py' then
          got[item.lnum] = true
        end
      end
      return vim.deep_equal(got, want) and got
    end, 'incoming calls of Square.area in the quickfix list (test_shapes.py lines ' .. vim.inspect(vim.tbl_keys(want)) .. ')')
    info.incoming_calls = vim.tbl_count(found)
    vim.cmd('cclose')
  end)

  h.check('lang_type_hierarchy', function()
    local line = find(shapes, 'class Shape:')
    vim.api.nvim_set_current_buf(shapes)
    vim.api.nvim_win_set_cursor(0, { line + 1, #'class ' })
    local names = {}
    if vim.lsp.buf.typehierarchy then -- 0.10+: subtypes into the quickfix list
      info.type_hierarchy = 'vim.lsp.buf.typehierarchy'
      vim.fn.setqflist({}, 'r', { title = 'before', items = {} })
      vim.lsp.buf.typehierarchy('subtypes')
      h.wait(WAIT, function()
        local qf = vim.fn.getqflist({ title = 1, items = 1 })
        if qf.title == 'before' or #qf.items == 0 then
          return nil
        end
        for _, item in ipairs(qf.items) do
          names[item.text] = true
        end
        return true
      end, 'subtypes of Shape in the quickfix list')
      vim.cmd('cclose')
    else -- 0.7: the same through the protocol
      info.type_hierarchy = 'request'
      local params = vim.lsp.util.make_position_params(0, client().offset_encoding)
      local items = request_sync(shapes, 'textDocument/prepareTypeHierarchy', params)
      h.expect(items and items[1] and items[1].name == 'Shape', 'prepareTypeHierarchy: %s', vim.inspect(items))
      for _, item in ipairs(request_sync(shapes, 'typeHierarchy/subtypes', { item = items[1] }) or {}) do
        names[item.name] = true
      end
    end
    local text = table.concat(vim.tbl_keys(names), ' ')
    for _, want in ipairs({ 'Square', 'Circle', 'Hexa', 'Shape07' }) do
      h.expect(text:find(want, 1, true), 'subtypes of Shape lack %s: %s', want, text)
    end
  end)

  h.check('lenses', function()
    tests = open('test_shapes.py')
    h.wait(WAIT, client, 'the twinls client to attach to test_shapes.py')
    h.expect(client().server_capabilities.codeLensProvider, 'the server offers no codeLensProvider')
    local line = find(tests, 'def test_circle')
    local lens = h.wait(WAIT, function()
      return lens_at(tests, line)
    end, 'a lens over test_circle')
    info.lens_title = lens.command.title
    h.expect(lens.command.command == 'twinls.runTest', 'lens over test_circle runs %s', lens.command.command)
    h.expect(lens_at(tests, find(tests, 'def example_square')), 'no lens over example_square')
  end)

  h.check('lens_run_failure', function()
    local def = find(tests, 'def test_circle')
    local assert_line = find(tests, 'assert area == 3.14')
    h.expect(lens_at(tests, def), 'no lens over test_circle to run')
    cursor_at(tests, 'def test_circle')
    local result = run(vim.lsp.codelens.run)
    h.expect(result.outcome == 'failed', 'test_circle: outcome %s, expected failed', tostring(result.outcome))
    info.run_message = require('twinls.run').summary(result)
    local d = h.wait(WAIT, function()
      return diagnostics_at(tests, assert_line)[1]
    end, 'a diagnostic on the failing assert (line ' .. assert_line .. ')')
    h.expect(d.source == 'twinls', 'diagnostic source %s', tostring(d.source))
    -- The server retitles the lens (✗ ...) and asks for a refresh.
    local title = h.wait(WAIT, function()
      local lens = lens_at(tests, def)
      return lens and lens.command.title:find('✗', 1, true) and lens.command.title
    end, 'the lens over test_circle to be retitled with ✗')
    info.lens_title_after = title
  end)

  h.check('run_test', function()
    cursor_at(tests, 'assert Square(2)')
    local result = run('TwinRunTest')
    h.expect(result.outcome == 'passed', ':TwinRunTest in test_square: outcome %s', tostring(result.outcome))
    h.expect(result.kind == 'test', ':TwinRunTest: kind %s', tostring(result.kind))
  end)

  h.check('run_example', function()
    cursor_at(tests, 'return Square(3)')
    local result = run('TwinRunTest')
    h.expect(result.kind == 'example', ':TwinRunTest in example_square: kind %s', tostring(result.kind))
    local t = (result.tests or {})[1] or {}
    h.expect(t.value == '9', 'example_square: value %s, expected 9', vim.inspect(t.value))
  end)

  -- Issue 17: :TwinInspect runs the example under the cursor and opens its live result;
  -- <CR> expands a line, one level at a time (asked of the parked run child).
  local function inspector_lines(bufnr)
    return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')
  end
  local function expand(bufnr, pattern)
    local line = h.wait(WAIT, function()
      for i, text in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
        if text:find(pattern) then
          return i
        end
      end
    end, 'a line matching ' .. pattern .. ' in the inspector: ' .. inspector_lines(bufnr))
    vim.api.nvim_win_set_cursor(0, { line, 0 })
    vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes('<CR>', true, false, true), 'x', false)
    return line
  end

  h.check('inspect_tree', function()
    local file = open('inspect_me.py')
    h.wait(WAIT, client, 'the twinls client on inspect_me.py')
    cursor_at(file, 'return {"shapes"')
    vim.cmd('TwinInspect')
    local bufnr = vim.api.nvim_get_current_buf()
    h.expect(vim.bo[bufnr].filetype == 'twinls-inspect', 'no inspector window (filetype %s)', vim.bo[bufnr].filetype)
    expand(bufnr, "^  ▸ 'shapes': list") -- level 1
    expand(bufnr, '^    ▸ 0: dict') -- level 2
    h.wait(WAIT, function()
      return inspector_lines(bufnr):find("\n        'sides': int  4", 1, true)
    end, 'the third level in the inspector: ' .. inspector_lines(bufnr))
    h.report.info.inspector = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
    vim.cmd('close')
  end)

  h.check('inspect_rich_view', function()
    local file = open('inspect_me.py')
    h.wait(WAIT, client, 'the twinls client on inspect_me.py')
    cursor_at(file, 'return Figure()')
    local bufnr = require('twinls').inspect()
    h.expect(bufnr and vim.bo[bufnr].filetype == 'twinls-inspect', 'no inspector buffer')
    h.wait(WAIT, function()
      return inspector_lines(bufnr):find('[image/png: 68 bytes, not shown in a terminal]', 1, true)
    end, 'the PNG fallback line: ' .. inspector_lines(bufnr))
    vim.cmd('close')
  end)

  -- Issue 17, :TwinDebug. nvim-dap cannot be installed here: first what a user without
  -- it sees (the address, a pointer to the documented nvim-dap config), then that the
  -- address serves DAP (tests/dap_client.lua stands in for nvim-dap), then the plugin's
  -- nvim-dap path with a stand-in `dap` module that resolves the plugin's adapter and
  -- attaches through it as nvim-dap would: a breakpoint on a line only the unsaved
  -- buffer has is hit, its locals read, and continue ends the run, which passes.
  local dap_client = require('dap_client')
  local debug_file, debug_test, debug_path
  local function debug_at_test(ex_cmd)
    local d = require('twinls.debug')
    d.last = nil
    cursor_at(debug_test, 'def test_total')
    vim.cmd(ex_cmd)
    return h.wait(WAIT, function()
      return d.last
    end, 'the Debug run to answer with its address')
  end

  -- initialize → attach → (initialized) → setBreakpoints → configurationDone; with a
  -- breakpoint line: stopped there, the frame and its locals, continue. Then the run ends.
  local function attach_over_dap(host, port, line)
    local dap = dap_client.connect(host, port, WAIT)
    local seen = {}
    local ok, err = pcall(function()
      local caps = dap:request('initialize', { adapterID = 'twinls', clientID = 'twinls-e2e', pathFormat = 'path', linesStartAt1 = true, columnsStartAt1 = true })
      h.expect(caps.supportsConfigurationDoneRequest, 'initialize: no capabilities in %s', vim.inspect(caps))
      seen.capabilities = caps
      local attach = dap:send('attach', { justMyCode = false })
      dap:event('initialized')
      local bps = dap:request('setBreakpoints', { source = { path = debug_path }, breakpoints = line and { { line = line } } or {} })
      seen.verified = line and bps.breakpoints[1].verified
      dap:request('configurationDone')
      dap:response(attach, 'attach')
      if line then
        local stopped = dap:event('stopped')
        seen.reason = stopped.reason
        local frame = dap:request('stackTrace', { threadId = stopped.threadId, levels = 1 }).stackFrames[1]
        seen.frame = { frame.source.path, frame.line, frame.name }
        local scope = dap:request('scopes', { frameId = frame.id }).scopes[1]
        seen.locals = {}
        for _, v in ipairs(dap:request('variables', { variablesReference = scope.variablesReference }).variables) do
          seen.locals[v.name] = v.value
        end
        dap:request('continue', { threadId = stopped.threadId })
      end
      seen.ended = dap:ended()
      h.expect(seen.ended == 'terminated', 'the Debug run ended with %s, not DAP\'s terminated event', seen.ended)
    end)
    dap:close()
    if not ok then
      error(err, 0)
    end
    return seen
  end

  h.check('debug_without_dap', function()
    debug_file = open('debug_me.py')
    h.wait(WAIT, client, 'the twinls client on debug_me.py')
    debug_path = vim.api.nvim_buf_get_name(debug_file)
    -- The unsaved edit: line 2 doubles the values, line 3 (on disk there is none) sums them.
    local line = find(debug_file, 'return sum(values)')
    vim.api.nvim_buf_set_lines(debug_file, line, line + 1, false, { '    doubled = [2 * v for v in values]', '    return sum(doubled)' })
    debug_test = open('test_debug_me.py')
    h.wait(WAIT, client, 'the twinls client on test_debug_me.py')
    h.expect(not pcall(require, 'dap'), 'nvim-dap is installed: this check is about Neovim without it')
    local said = {}
    local notify = vim.notify
    vim.notify = function(msg, ...)
      table.insert(said, msg)
      return notify(msg, ...)
    end
    local ok, where = pcall(debug_at_test, 'TwinDebug')
    vim.notify = notify
    if not ok then
      error(where, 0)
    end
    local address = string.format('%s:%d', where.host, where.port)
    local text = table.concat(said, '\n')
    info.debug_notice = text
    h.expect(text:find(address, 1, true), 'the user is not told the address %s: %q', address, text)
    h.expect(text:find('nvim-dap', 1, true) and text:find('README', 1, true), 'no pointer to the nvim-dap config: %q', text)
    info.debug_where = where
  end)

  h.check('debug_serves_dap', function()
    local where = h.expect(info.debug_where, 'no Debug run (debug_without_dap failed)')
    -- No breakpoint: the handshake alone, after which the run goes to its end.
    local seen = attach_over_dap(where.host, where.port, nil)
    info.debug_capabilities = vim.tbl_count(seen.capabilities)
  end)

  h.check('debug_nvim_dap', function()
    h.expect(debug_test, 'no debug buffers (debug_without_dap failed)')
    -- A stand-in for nvim-dap's API (dap.adapters, dap.run): dap.run resolves the
    -- adapter the plugin registered, as nvim-dap does for a `server` adapter.
    local ran = {}
    package.loaded.dap = {
      adapters = {},
      run = function(config)
        ran.config = config
        package.loaded.dap.adapters[config.type](function(adapter)
          ran.adapter = adapter
        end, config)
      end,
    }
    local ok, where = pcall(debug_at_test, 'TwinDebug')
    package.loaded.dap = nil
    if not ok then
      error(where, 0)
    end
    local config, adapter = ran.config, ran.adapter
    h.expect(config and config.type == 'twinls' and config.request == 'attach', 'dap.run got %s', vim.inspect(config))
    h.expect(adapter and adapter.type == 'server' and adapter.host == where.host and adapter.port == where.port,
      'the twinls adapter resolved to %s, the run waits at %s:%d', vim.inspect(adapter), where.host, where.port)
    local seen = attach_over_dap(adapter.host, adapter.port, 3)
    info.debug_seen = seen
    h.expect(seen.verified == true and seen.reason == 'breakpoint', 'breakpoint verified %s, stopped for %s', tostring(seen.verified), tostring(seen.reason))
    h.expect(seen.frame[1] == debug_path and seen.frame[2] == 3 and seen.frame[3] == 'total', 'stopped in %s', vim.inspect(seen.frame))
    h.expect(seen.locals.doubled == '[2, 4, 6]', 'the locals read %s', vim.inspect(seen.locals))
  end)

  -- The run goes on after `continue`: the lens over the test says it passed (on disk it fails).
  h.check('debug_result', function()
    h.expect(info.debug_seen, 'no Debug run stopped (debug_nvim_dap failed)')
    local def = find(debug_test, 'def test_total')
    local title = ran_lens_title(debug_test, def, 'the lens over test_total to show the Debug run\'s result')
    info.debug_lens = title
    h.expect(title:find('✓', 1, true), 'the Debug run of test_total did not pass: %q', title)
  end)

  h.check('unsaved_run', function()
    local line = find(tests, 'assert area == 3.14')
    vim.api.nvim_buf_set_lines(tests, line, line + 1, false, { '    assert area == 3' })
    cursor_at(tests, 'assert area == 3')
    local result = run('TwinRunTest')
    h.expect(result.outcome == 'passed', 'test_circle after an unsaved fix: outcome %s', tostring(result.outcome))
    h.wait(WAIT, function()
      return #diagnostics_at(tests, line) == 0
    end, 'the failure diagnostic to clear')
  end)

  h.check('run_file', function()
    local result = run('TwinRunFile')
    h.expect(result.kind == 'file', ':TwinRunFile: kind %s', tostring(result.kind))
    h.expect(#(result.tests or {}) >= 2, ':TwinRunFile ran %d tests', #(result.tests or {}))
    h.expect(result.outcome == 'passed', ':TwinRunFile: outcome %s', tostring(result.outcome))
  end)

  -- A folder run (the whole workspace), summed up in pytest's words.
  h.check('run_folder', function()
    local result = run('TwinRunFolder')
    h.expect(result.kind == 'folder', ':TwinRunFolder: kind %s', tostring(result.kind))
    -- Two pytest tests in test_shapes.py (the example is no pytest test), one in test_debug_me.py.
    h.expect(#(result.tests or {}) == 3, ':TwinRunFolder ran %d tests, expected 3', #(result.tests or {}))
    local line = require('twinls.run').summary(result)
    info.folder_message = line
    h.expect(line:find(' passed', 1, true), ':TwinRunFolder summary %q names no passed tests', line)
    h.expect(type(result.exitcode) == 'number', ':TwinRunFolder: exit code %s', tostring(result.exitcode))
  end)

  -- Neovim shows lens titles as raw text: no codicons, and a lens that ran says it runs again.
  h.check('lens_titles_plain', function()
    local def = find(tests, 'def test_circle')
    local title = ran_lens_title(tests, def, 'the lens over test_circle to say it runs again')
    info.lens_title_plain = title
    h.expect(not title:find('$(', 1, true), 'a codicon in a Neovim lens title: %q', title)
  end)

  h.check('progress', function()
    local p = require('twinls.progress')
    h.expect(type(p.statusline()) == 'string', 'statusline() is not a string')
    h.expect(p.seen > 0, 'no work-done progress was seen during the runs')
  end)

  -- issue 15: :TwinTests lists every test of the workspace with its last outcome.
  h.check('twin_tests', function()
    vim.fn.setqflist({}, 'r', { title = '', items = {} })
    vim.cmd('TwinTests')
    local items = h.wait(WAIT, function()
      local q = vim.fn.getqflist({ title = 1, items = 1 })
      return q.title == 'twinls: tests' and #q.items > 0 and q.items
    end, 'the :TwinTests quickfix list')
    local texts = {}
    for _, item in ipairs(items) do
      table.insert(texts, item.text)
    end
    local all = table.concat(texts, '\n')
    info.twin_tests = all
    h.expect(all:find('test_shapes.py::test_square', 1, true), ':TwinTests lacks test_square:\n%s', all)
    h.expect(all:find('✓ test_shapes.py::test_circle', 1, true), ':TwinTests lacks test_circle passed (its last run):\n%s', all)
    vim.cmd('cclose')
  end)

  -- issue 15: with :TwinLive on, an unsaved edit re-runs the tests it affects; the failure
  -- arrives as a diagnostic and clears when the edit is undone.
  h.check('live_diagnostics', function()
    local live = require('twinls.live')
    vim.cmd('TwinLive on')
    h.wait(WAIT, function()
      return live.on == true
    end, ':TwinLive on')
    h.expect(live.statusline():find('live', 1, true), 'statusline while live: %q', live.statusline())
    h.wait(WAIT * 3, function()
      return live.runs >= 1
    end, 'the first live run')
    local line = find(shapes, 'return self.side * self.side')
    vim.api.nvim_buf_set_lines(shapes, line, line + 1, false, { '        return self.side - self.side' })
    local tline = find(tests, 'assert Square(2).area() == 4')
    h.wait(WAIT * 3, function()
      return #diagnostics_at(tests, tline) > 0
    end, 'test_square failing live after the unsaved edit')
    local note = h.wait(WAIT * 3, function()
      local n = live.last
      return n and n.reason == 'edit' and n.result.outcome ~= 'cancelled' and n
    end, 'the live run of the edit')
    local ran = {}
    for _, t in ipairs(note.result.tests) do
      table.insert(ran, t.nodeid)
    end
    info.live_ran = ran
    h.expect(#ran == 1 and ran[1] == 'test_shapes.py::test_square', 'the live run ran %s, expected test_square only', vim.inspect(ran))
    vim.api.nvim_buf_set_lines(shapes, line, line + 1, false, { '        return self.side * self.side' })
    h.wait(WAIT * 3, function()
      return #diagnostics_at(tests, tline) == 0
    end, 'the live failure to clear after undoing the edit')
    vim.cmd('TwinLive off')
    h.wait(WAIT, function()
      return live.on == false
    end, ':TwinLive off')
  end)

  -- issue 15: :TwinCoverage shows the lines the live runs ran (signs on shapes.py) and
  -- lists the ones no test ran (Shape.area's raise) in quickfix.
  h.check('twin_coverage', function()
    -- Live on again records every test once (a baseline run): wait for it to end whole.
    local live = require('twinls.live')
    local before = live.runs
    vim.cmd('TwinLive on')
    h.wait(WAIT * 3, function()
      local n = live.last
      return live.runs > before and n.reason == 'baseline' and n.result.outcome ~= 'cancelled'
    end, 'the baseline live run after :TwinLive on')
    vim.api.nvim_set_current_buf(shapes)
    vim.fn.setqflist({}, 'r', { title = '', items = {} })
    vim.cmd('TwinCoverage')
    local items = h.wait(WAIT, function()
      local q = vim.fn.getqflist({ title = 1, items = 1 })
      return q.title == 'twinls: uncovered lines' and #q.items > 0 and q.items
    end, 'the :TwinCoverage quickfix list')
    local raise = find(shapes, 'raise NotImplementedError') + 1
    local listed = false
    for _, item in ipairs(items) do
      listed = listed or (item.bufnr == shapes and item.lnum == raise)
    end
    h.expect(listed, 'Shape.area\'s raise (line %d) is not in the uncovered list: %s', raise, vim.inspect(items))
    local placed = vim.fn.sign_getplaced(shapes, { group = 'twinls_coverage' })[1].signs
    local by_line = {}
    for _, sign in ipairs(placed) do
      by_line[sign.lnum] = sign.name
    end
    local square = find(shapes, 'return self.side * self.side') + 1
    h.expect(by_line[square] == 'TwinlsCovered', 'line %d (Square.area) sign: %s', square, tostring(by_line[square]))
    h.expect(by_line[raise] == 'TwinlsUncovered', 'line %d (the raise) sign: %s', raise, tostring(by_line[raise]))
    info.twin_coverage = { signs = #placed, uncovered = #items }
    vim.cmd('TwinLive off')
    h.wait(WAIT, function()
      return live.on == false
    end, ':TwinLive off')
  end)

  h.check('restart', function()
    local before = command_sync(shapes, 'twinls.status').twins[1].pid
    vim.cmd('TwinRestart')
    -- Calls in flight while the twin restarts may fail (TwinDied): ask again.
    -- (Polled in a plain loop: a request inside vim.wait's condition misbehaves on 0.7.)
    local last
    for _ = 1, WAIT / 100 do
      local ok, s = pcall(command_sync, shapes, 'twinls.status')
      last = ok and s or nil
      if last and last.pool.live >= 1 and last.twins[1] and last.twins[1].pid ~= before then
        return
      end
      vim.wait(100)
    end
    h.fail('no new live twin after :TwinRestart: %s', vim.inspect(last and last.pool))
  end)

  h.check('restart_server', function()
    vim.api.nvim_set_current_buf(shapes)
    local before = client().id
    vim.cmd('TwinRestart!')
    h.wait(WAIT, function()
      local c = client()
      return c and c.id ~= before and c.initialized ~= false
    end, 'a new twinls client on shapes.py after :TwinRestart!')
    h.wait(WAIT, function()
      return #require('twinls.compat').clients(tests) > 0
    end, 'the new client on test_shapes.py too')
    local status = command_sync(shapes, 'twinls.status')
    local path = vim.fn.fnamemodify(ws .. '/shapes.py', ':p')
    local text = table.concat(vim.api.nvim_buf_get_lines(shapes, 0, -1, false), '\n') .. '\n'
    h.expect(status.server.hashes[path] == vim.fn.sha256(text), 'the new server did not get the open buffer %s', path)
  end)
end, 230000)
