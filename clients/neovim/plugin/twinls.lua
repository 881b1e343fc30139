-- Commands only: nothing starts until require('twinls').setup() is called.
if vim.g.loaded_twinls then
  return
end
vim.g.loaded_twinls = true

local function cmd(name, fn, opts)
  vim.api.nvim_create_user_command(name, fn, opts or {})
end

cmd('TwinImplementors', function(args)
  require('twinls').implementors(args.args)
end, { nargs = '?', desc = 'twinls: every function/method named NAME, into quickfix' })

cmd('TwinReferences', function()
  require('twinls').references()
end, { desc = 'twinls: references of the name under the cursor, streamed into quickfix' })

cmd('TwinImplementations', function()
  require('twinls').implementations()
end, { desc = 'twinls: overrides/subclasses of the name under the cursor, streamed into quickfix' })

cmd('TwinRunTest', function()
  require('twinls').run_test()
end, { desc = 'twinls: run the test or example under the cursor' })

cmd('TwinRunFile', function()
  require('twinls').run_file()
end, { desc = 'twinls: run the tests in this file' })

cmd('TwinRunFolder', function(opts)
  require('twinls').run_folder(opts.args)
end, { nargs = '?', complete = 'dir', desc = 'twinls: run the tests under a folder (default: the workspace)' })

cmd('TwinInspect', function()
  require('twinls').inspect()
end, { desc = 'twinls: run the test or example under the cursor and inspect its live result' })

cmd('TwinDebug', function()
  require('twinls.debug').at_cursor()
end, { desc = 'twinls: debug the test or example under the cursor (nvim-dap attaches)' })

cmd('TwinCancelRun', function()
  require('twinls').cancel_run()
end, { desc = 'twinls: stop the running test or example' })

cmd('TwinStatus', function()
  require('twinls').status()
end, { desc = 'twinls: server, pool and twin status' })

cmd('TwinRestart', function(args)
  require('twinls').restart(args.bang)
end, { bang = true, desc = 'twinls: restart the twins (with !: the whole server)' })

cmd('TwinLive', function(args)
  require('twinls').live(args.args)
end, { nargs = '?', complete = function()
  return { 'on', 'off' }
end, desc = 'twinls: toggle live tests (the tests each unsaved edit affects re-run)' })

cmd('TwinTests', function()
  require('twinls').tests()
end, { desc = 'twinls: every test of the workspace with its last outcome, into quickfix' })

cmd('TwinCoverage', function()
  require('twinls').coverage()
end, { desc = 'twinls: line coverage of the live runs: signs here, uncovered lines into quickfix' })
