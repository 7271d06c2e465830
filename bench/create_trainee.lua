-- A partner registers a new trainee of its institution (the first
-- argument) on every request:
-- each wrk thread numbers its own e-mail addresses, so none comes twice.
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("number", threads)
end

function init(args)
  institution = args[1]
  counter = 0
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"institution_id":"%s","given_name":"Ama","family_name":"Mensah","email":"bench-%d-%d@bench.example","nationality":"GH","gender":"female"}',
    institution, number, counter)
  return wrk.format("POST", "/api/v1/trainees", nil, body)
end
