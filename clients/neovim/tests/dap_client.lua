-- A minimal DAP client over vim.uv TCP, for the headless e2e: it stands in for
-- nvim-dap (not installable here) to show that the address :TwinDebug answers with
-- really serves DAP. Content-Length framed JSON; requests answered by seq, events
-- queued. Bytes arrive in luv callbacks (a fast context) and are parsed in the main
-- loop, inside h.wait, where vim.fn.json_decode may run (0.7 has no vim.json there).
local h = require('harness')

local uv = vim.uv or vim.loop

local M = {}
M.__index = M

function M.connect(host, port, ms)
  local self = setmetatable({ raw = '', seq = 0, events = {}, responses = {}, closed = false, ms = ms }, M)
  self.sock = uv.new_tcp()
  local connected
  self.sock:connect(host, port, function(err)
    connected = err or true
  end)
  h.wait(ms, function()
    return connected
  end, string.format('a TCP connection to %s:%d', host, port))
  h.expect(connected == true, 'connecting to %s:%d: %s', host, port, tostring(connected))
  self.sock:read_start(function(err, data)
    if data then
      self.raw = self.raw .. data
    else
      self.closed = err or 'closed'
    end
  end)
  return self
end

function M:close()
  if not self.sock:is_closing() then
    self.sock:read_stop()
    self.sock:close()
  end
end

-- Take every whole message out of the bytes read so far.
function M:parse()
  while true do
    local head_end = self.raw:find('\r\n\r\n', 1, true)
    if not head_end then
      return
    end
    local length = tonumber(self.raw:sub(1, head_end):match('Content%-Length: *(%d+)'))
    if #self.raw < head_end + 3 + length then
      return
    end
    local body = self.raw:sub(head_end + 4, head_end + 3 + length)
    self.raw = self.raw:sub(head_end + 4 + length)
    local msg = vim.fn.json_decode(body)
    if msg.type == 'event' then
      table.insert(self.events, msg)
    elseif msg.type == 'response' then
      self.responses[msg.request_seq] = msg
    end
  end
end

-- Send a request; `arguments` nil sends an empty object.
function M:send(command, arguments)
  self.seq = self.seq + 1
  local body = vim.fn.json_encode({ seq = self.seq, type = 'request', command = command, arguments = arguments or vim.empty_dict() })
  self.sock:write(string.format('Content-Length: %d\r\n\r\n%s', #body, body))
  return self.seq
end

-- The body of the answer to request `seq` (it must have succeeded).
function M:response(seq, what)
  local answer = h.wait(self.ms, function()
    self:parse()
    return self.responses[seq] or (self.closed and { closed = self.closed })
  end, 'the answer to ' .. what)
  h.expect(not answer.closed, 'the debug adapter closed the connection before answering %s', what)
  h.expect(answer.success, '%s failed: %s', what, tostring(answer.message))
  return answer.body ~= vim.NIL and answer.body or {}
end

function M:request(command, arguments)
  return self:response(self:send(command, arguments), command)
end

-- The body of the next event named `name` (earlier ones of other names stay queued).
function M:event(name)
  local found = h.wait(self.ms, function()
    self:parse()
    for i, e in ipairs(self.events) do
      if e.event == name then
        return table.remove(self.events, i)
      end
    end
    return self.closed and { closed = self.closed }
  end, 'the DAP event ' .. name)
  h.expect(not found.closed, 'the debug adapter closed the connection before the %s event', name)
  return found.body ~= vim.NIL and found.body or {}
end

-- Wait for the session to end: a `terminated` (or `exited`) event, or the adapter
-- closing the connection without one (the caller says which it wants).
function M:ended()
  return h.wait(self.ms, function()
    self:parse()
    for _, e in ipairs(self.events) do
      if e.event == 'terminated' or e.event == 'exited' then
        return e.event
      end
    end
    return self.closed and 'closed'
  end, 'the Debug run to end')
end

return M
