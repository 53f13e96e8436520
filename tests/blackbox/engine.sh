#!/bin/sh
# Black-box tests of the Data Engine commands: `tags` lists native and External Data paths with
# types; `template render` renders the worked examples for real records, escaped by context.
cd "$(dirname "$0")/../.." || exit 1
. tests/blackbox/lib.sh
GROUP=engine

hb init --community acme >/dev/null
hb project create beta --name Beta >/dev/null
hb user create --email zoe@example.com --first-name "Zoë" --last-name "O'Brien & Co" \
	--street1 "1 Main St & Co=3" --city Dublin >/dev/null
hb xdata group create shipping --on users --name Shipping >/dev/null
hb xdata field create shipping is_valid --label Valid --param validation_results.is_valid --type boolean >/dev/null
hb xdata group create jira --on feedback --name Jira >/dev/null
hb xdata field create jira key --label "Jira key" --param key --type string >/dev/null
hb feedback-type create beta bug --name Bug --prefix EXA --statuses New,Open >/dev/null
title=$(printf 'Crash "now" \\ on\nstart \360\237\222\245 }}')
hb feedback create beta bug --title "$title" --submitter zoe@example.com \
	--description "$(printf 'tab\there\001bell')" >/dev/null
hb xdata set EXA-0001 jira.key BETA-7 >/dev/null
hb xdata set zoe@example.com shipping.is_valid false >/dev/null

t_begin tags_lists_types
expect 0 hb --json tags --on feedback
same "$(json '{t["tag"]: t["type"] for t in j}["external.jira.key"]')" "string"
same "$(json '{t["tag"]: t["type"] for t in j}["submitter.external.shipping.is_valid"]')" "boolean"
same "$(json '{t["tag"]: t["type"] for t in j}["feedback.created_at"]')" "datetime"
t_end

t_begin render_slack_json
expect 0 hb template render --on feedback --feedback EXA-0001 --context json \
	--text '{"text":"New bug {{feedback.number}}: {{feedback.title}}","valid":{{submitter.external.shipping.is_valid}}}'
same "$OUT" '{"text":"New bug EXA-0001: Crash \"now\" \\ on\nstart 💥 }}","valid":false}'
t_end

t_begin render_tradegov_url
expect 0 hb template render --user zoe@example.com --context url \
	--text 'https://api.trade.gov/consolidated_screening_list/search?name={{user.first_name}} {{user.last_name}}'
same "$OUT" 'https://api.trade.gov/consolidated_screening_list/search?name=Zo%C3%AB%20O%27Brien%20%26%20Co'
t_end

t_begin render_shippo_form
expect 0 hb template render --user zoe@example.com --context form \
	--text 'name={{user.first_name}}&street1={{user.street1}}&city={{user.city}}&validate=true'
same "$OUT" 'name=Zo%C3%AB&street1=1+Main+St+%26+Co%3D3&city=Dublin&validate=true'
t_end

t_begin render_jira_control_chars
expect 0 hb template render --on feedback --feedback EXA-0001 --context json \
	--text '{"fields":{"summary":"{{feedback.title | truncate:10}}","description":"{{feedback.description}}","labels":[{{external.jira.key}}]}}'
same "$OUT" '{"fields":{"summary":"Crash \"...","description":"tab\there\u0001bell","labels":["BETA-7"]}}'
t_end

t_begin render_errors_have_positions
expect 2 hb template render --user zoe@example.com --context json --text "$(printf '{\n "a": {{ user.emial }}}')"
contains "$ERR" "line 2, column 10: unknown path 'user.emial' (did you mean 'user.email'?)"
expect 2 hb template render --user zoe@example.com --context header --text 'X-{{user.id}}: 1'
contains "$ERR" "header name"
t_end

t_begin render_macro_paths
cat >"$T_DIR/m.json" <<'JSON'
{"key":"notify","name":"Notify \"Slack\"","description":"Posts new bugs","on":"feedback",
 "feedback_type":"bug","project":"beta",
 "actions":[{"type":"webhook","method":"POST","url":"https://hooks.example.com/x",
  "content_type":"json","body":"{\"text\":\"{{macro.name}} ({{macro.key}}) run {{run.id}}\"}"}]}
JSON
expect 0 hb macro create --file "$T_DIR/m.json"
id=$(hb --json macro show notify | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
expect 0 hb template render --on feedback --feedback EXA-0001 --macro notify --context json \
	--text '{"m":{{macro.id}},"k":"{{macro.key}}","n":{{macro.name}},"d":"{{macro.description | upper}}","run":{{run.id}},"by":{{run.started_by}},"at":{{run.started_at}},"sel":"{{run.selection}}","total":{{run.total}}}'
same "$OUT" "{\"m\":$id,\"k\":\"notify\",\"n\":\"Notify \\\"Slack\\\"\",\"d\":\"POSTS NEW BUGS\",\"run\":null,\"by\":null,\"at\":null,\"sel\":\"\",\"total\":null}"
# without --macro the macro paths are empty too
expect 0 hb template render --user zoe@example.com --text '[{{macro.key}}|{{run.id}}|{{user.email}}]'
same "$OUT" '[||zoe@example.com]'
expect 2 hb template render --user zoe@example.com --macro nope --text '{{macro.key}}'
contains "$ERR" "no macro 'nope'"
t_end

t_begin tags_macro_run_paths
expect 0 hb --json tags
same "$(json '[(t["tag"], t["type"]) for t in j if t["tag"].split(".")[0] in ("macro", "run")]')" \
	"[('macro.id', 'integer'), ('macro.key', 'string'), ('macro.name', 'string'), ('macro.description', 'string'), ('run.id', 'integer'), ('run.started_by', 'string'), ('run.started_at', 'datetime'), ('run.selection', 'string'), ('run.total', 'integer')]"
t_end
