-- Logs in the benchmark admin on every request.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function init(args)
  wrk.body = '{"email":"bench-admin@bench.example","password":"' .. args[1] .. '"}'
end
