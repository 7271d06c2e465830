-- Sends one request per line of the file given as the first argument,
-- each line "<cohort id> <record id>": a nomination of the trainee into the
-- cohort ("nominate"), or the acceptance of the enrollment ("accept"), as
-- the second argument says. Each wrk thread walks its own half of the
-- file, so no line comes twice.
local lines = {}
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("offset", threads)
end

function init(args)
  mode = args[2]
  for line in io.lines(args[1]) do
    lines[#lines + 1] = line
  end
  counter = (offset - 1) * math.floor(#lines / 2)
end

function request()
  counter = counter % #lines + 1
  local cohort, id = lines[counter]:match("(%S+) (%S+)")
  if mode == "accept" then
    return wrk.format("POST", "/api/v1/enrollments/" .. id .. "/transitions", nil,
      '{"to":"accepted"}')
  end
  return wrk.format("POST", "/api/v1/cohorts/" .. cohort .. "/enrollments", nil,
    '{"trainee_id":"' .. id .. '"}')
end
