-- Nominates a different trainee on every request, from the ids in
-- trainees.txt, into the cohort given as the first argument. Each wrk
-- thread walks its own stretch of the list, so no trainee comes twice.
local ids = {}
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("offset", threads)
end

function init(args)
  cohort = args[1]
  for line in io.lines("bench/trainees.txt") do
    ids[#ids + 1] = line
  end
  counter = (offset - 1) * math.floor(#ids / 4)
end

function request()
  counter = counter % #ids + 1
  local body = '{"trainee_id":"' .. ids[counter] .. '"}'
  return wrk.format("POST", "/api/v1/cohorts/" .. cohort .. "/enrollments", nil, body)
end
