-- wrk script for bench/deliver.sh: POST the JSON body hookbridge renders for user i (the same
-- generated users, counting on past the last one), with about the same headers, and check that
-- every answer is 200 with both fields. wrk runs for a fixed time (-d), not a fixed number of
-- requests: its main thread sleeps for the whole duration whatever the script does. At the end
-- it prints "answers=N ok=N".
local threads = {}

setup = function(thread)
	table.insert(threads, thread)
end

init = function(args)
	sent, answered, ok = 0, 0, 0
end

request = function()
	local i = sent
	sent = sent + 1
	local body = string.format('{"email":"user%d@example.com","first_name":"First%d","last_name":"Last%d",'
		.. '"company":"Company %d","city":"City %d","country":"US"}', i, i, i, i % 977, i % 313)
	return wrk.format("POST", "/in", {
		["Content-Type"] = "application/json",
		["Idempotency-Key"] = "hbd_wrk_" .. (i + 1),
		["User-Agent"] = "wrk",
		["Accept"] = "*/*",
	}, body)
end

response = function(status, headers, body)
	answered = answered + 1
	if status == 200 and body:find('"id":"ABC-1"', 1, true) and body:find('"ok":true', 1, true) then
		ok = ok + 1
	end
end

done = function(summary, latency, requests)
	local a, k = 0, 0
	for _, t in ipairs(threads) do
		a = a + t:get("answered")
		k = k + t:get("ok")
	end
	io.write(string.format("answers=%d ok=%d\n", a, k))
end
