-- The write scenarios of bench/run.sh, by the mode given as the first
-- argument:
--   trainee <institution>  a partner registers a new trainee of its
--                          institution (numbered e-mail addresses);
--   nominate <file>        nominates the trainee of each line
--                          "<cohort id> <trainee id>" into the cohort;
--   accept <file>          accepts the enrollment of each line
--                          "<cohort id> <enrollment id>".
-- Each wrk thread walks its own half of the file (or numbers its own
-- addresses), so no line comes twice.
local lines = {}
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("number", threads)
end

function init(args)
  mode, arg = args[1], args[2]
  counter = 0
  if mode ~= "trainee" then
    for line in io.lines(arg) do
      lines[#lines + 1] = line
    end
    counter = (number - 1) * math.floor(#lines / 2)
  end
end

function request()
  counter = counter + 1
  if mode == "trainee" then
    return wrk.format("POST", "/api/v1/trainees", nil, string.format(
      '{"institution_id":"%s","given_name":"Ama","family_name":"Mensah","email":"bench-%d-%d@bench.example","nationality":"GH","gender":"female"}',
      arg, number, counter))
  end
  local cohort, id = lines[(counter - 1) % #lines + 1]:match("(%S+) (%S+)")
  if mode == "accept" then
    return wrk.format("POST", "/api/v1/enrollments/" .. id .. "/transitions", nil,
      '{"to":"accepted"}')
  end
  return wrk.format("POST", "/api/v1/cohorts/" .. cohort .. "/enrollments", nil,
    '{"trainee_id":"' .. id .. '"}')
end
