/*
 * kind.c - the descriptor tables of kind.h. Adding a column here means adding it in a
 * migration of every store back end too (the store tests check they agree).
 */
#include "model/kind.h"

#include <string.h>

#define S HB_TYPE_STRING
#define I HB_TYPE_INT
#define B HB_TYPE_BOOL
#define T HB_TYPE_TIME
#define ID {"id", NULL, I, HB_COL_SYSTEM, 0, NULL, 0, "record id"}
#define CREATED {"created_at", NULL, T, HB_COL_SYSTEM, 0, NULL, 0, "when it was created (UTC)"}
#define UPDATED {"updated_at", NULL, T, HB_COL_SYSTEM, 0, NULL, 0, "when it last changed (UTC)"}
#define COMMUNITY {"community_id", "community", I, HB_COL_SYSTEM | HB_COL_REF | HB_COL_HIDDEN, HB_K_COMMUNITY, NULL, 0, "community"}
#define KEY(help) {"key", NULL, S, HB_COL_REQUIRED | HB_COL_KEY | HB_COL_IMMUTABLE, 0, NULL, 64, help}
#define NAME(help) {"name", NULL, S, HB_COL_REQUIRED, 0, NULL, 200, help}
#define N(a) (sizeof(a) / sizeof((a)[0]))

static const hb_column community_cols[] = {
	ID,
	KEY("community key"),
	NAME("community name"),
	{"enhanced_integrations", NULL, B, 0, 0, NULL, 0, "webhooks, listeners and packages enabled", "0"},
	CREATED,
	UPDATED,
};

static const hb_column project_cols[] = {
	ID,
	COMMUNITY,
	KEY("project key"),
	NAME("project name"),
	{"status", NULL, S, 0, 0, "active|archived", 0, "active or archived", "active"},
	CREATED,
	UPDATED,
};

static const hb_column user_cols[] = {
	ID,
	COMMUNITY,
	{"email", NULL, S, HB_COL_REQUIRED | HB_COL_EMAIL, 0, NULL, 254, "email address"},
	{"first_name", NULL, S, 0, 0, NULL, 200, "first name"},
	{"last_name", NULL, S, 0, 0, NULL, 200, "last name"},
	{"username", NULL, S, 0, 0, NULL, 200, "user name"},
	{"phone", NULL, S, 0, 0, NULL, 64, "phone number"},
	{"company", NULL, S, 0, 0, NULL, 200, "company"},
	{"street1", NULL, S, 0, 0, NULL, 200, "street address, line 1"},
	{"street2", NULL, S, 0, 0, NULL, 200, "street address, line 2"},
	{"city", NULL, S, 0, 0, NULL, 200, "city"},
	{"state", NULL, S, 0, 0, NULL, 200, "state or region"},
	{"postal_code", NULL, S, 0, 0, NULL, 32, "postal code"},
	{"country", NULL, S, 0, 0, NULL, 64, "country"},
	CREATED,
	UPDATED,
};

static const hb_column participation_cols[] = {
	ID,
	{"project_id", "project", I, HB_COL_REQUIRED | HB_COL_REF | HB_COL_IMMUTABLE, HB_K_PROJECT, NULL, 0, "project key"},
	{"user_id", "user", I, HB_COL_REQUIRED | HB_COL_REF | HB_COL_IMMUTABLE, HB_K_USER, NULL, 0, "user email"},
	{"status", NULL, S, 0, 0, "candidate|invited|active|inactive|removed", 0, "participation status", "active"},
	{"team", NULL, S, 0, 0, NULL, 200, "team name"},
	{"score", NULL, I, 0, 0, NULL, 0, "score"},
	CREATED,
	UPDATED,
};

static const hb_column note_cols[] = {
	ID,
	{"user_id", "user", I, HB_COL_REQUIRED | HB_COL_REF | HB_COL_IMMUTABLE, HB_K_USER, NULL, 0, "user email"},
	{"body", NULL, S, HB_COL_REQUIRED | HB_COL_MULTILINE, 0, NULL, 0, "note text"},
	{"source", NULL, S, 0, 0, NULL, 200, "who or what wrote it"},
	CREATED,
};

static const hb_column feedback_type_cols[] = {
	ID,
	COMMUNITY,
	{"project_id", "project", I, HB_COL_REQUIRED | HB_COL_REF | HB_COL_IMMUTABLE, HB_K_PROJECT, NULL, 0, "project key"},
	KEY("feedback type key"),
	NAME("name"),
	{"plural_name", NULL, S, 0, 0, NULL, 200, "plural name"},
	{"prefix", NULL, S, HB_COL_REQUIRED, 0, NULL, 15, "ID prefix, e.g. EXA (at most 15 characters)"},
	{"digits", NULL, I, 0, 0, NULL, 0, "digits of the number (1-12, default 4)", "4"},
	{"start_number", NULL, I, 0, 0, NULL, 0, "first number (default 1)", "1"},
	{"next_number", NULL, I, HB_COL_SYSTEM | HB_COL_HIDDEN, 0, NULL, 0, "next number"},
	{"statuses", NULL, S, HB_COL_REQUIRED | HB_COL_JSON, 0, NULL, 0, "workflow statuses in order, e.g. \"New,Open,Closed\""},
	{"default_status", NULL, S, 0, 0, NULL, 100, "status of a new ticket (default: the first)"},
	CREATED,
	UPDATED,
};

static const hb_column feedback_cols[] = {
	ID,
	COMMUNITY,
	{"project_id", "project", I, HB_COL_REQUIRED | HB_COL_REF | HB_COL_IMMUTABLE, HB_K_PROJECT, NULL, 0, "project key"},
	{"type_id", "type", I, HB_COL_REQUIRED | HB_COL_REF | HB_COL_IMMUTABLE, HB_K_FEEDBACK_TYPE, NULL, 0, "feedback type key"},
	{"number", NULL, I, HB_COL_SYSTEM, 0, NULL, 0, "ticket number (EXA-0001)"},
	{"title", NULL, S, HB_COL_REQUIRED | HB_COL_MULTILINE, 0, NULL, 500, "title"},
	{"description", NULL, S, HB_COL_MULTILINE, 0, NULL, 0, "description"},
	{"severity", NULL, S, 0, 0, "low|medium|high|critical", 0, "severity"},
	{"status", NULL, S, 0, 0, NULL, 100, "workflow status"},
	{"submitter_id", "submitter", I, HB_COL_REQUIRED | HB_COL_REF, HB_K_USER, NULL, 0, "submitter's email"},
	{"tracking_id", NULL, S, 0, 0, NULL, 200, "internal tracking id"},
	CREATED,
	UPDATED,
};

static const hb_column reply_cols[] = {
	ID,
	{"feedback_id", "feedback", I, HB_COL_REQUIRED | HB_COL_REF | HB_COL_IMMUTABLE, HB_K_FEEDBACK, NULL, 0, "ticket number"},
	{"body", NULL, S, HB_COL_REQUIRED | HB_COL_MULTILINE, 0, NULL, 0, "reply text"},
	{"author", NULL, S, 0, 0, NULL, 200, "who wrote it"},
	CREATED,
};

static const hb_column xgroup_cols[] = {
	ID,
	COMMUNITY,
	{"project_id", "project", I, HB_COL_REF | HB_COL_IMMUTABLE, HB_K_PROJECT, NULL, 0, "project key (omit for a community-wide group)"},
	KEY("group key"),
	NAME("group name"),
	{"target", "on", S, HB_COL_REQUIRED | HB_COL_IMMUTABLE, 0, "users|feedback|projects", 0, "what values are stored against"},
	CREATED,
	UPDATED,
};

static const hb_column xfield_cols[] = {
	ID,
	{"group_id", "group", I, HB_COL_REQUIRED | HB_COL_REF | HB_COL_IMMUTABLE, HB_K_XGROUP, NULL, 0, "group key"},
	KEY("field key"),
	{"label", NULL, S, HB_COL_REQUIRED, 0, NULL, 200, "what people see"},
	{"param", NULL, S, HB_COL_REQUIRED, 0, NULL, 500, "where the value is found in an answer"},
	{"type", NULL, S, HB_COL_REQUIRED | HB_COL_IMMUTABLE, 0, "boolean|datetime|integer|string", 0, "value type"},
	{"favorite", NULL, B, 0, 0, NULL, 0, "shown first in summaries", "0"},
	{"position", NULL, I, HB_COL_SYSTEM | HB_COL_HIDDEN, 0, NULL, 0, "order within the group"},
	CREATED,
	UPDATED,
};

static const hb_column macro_cols[] = {
	ID,
	COMMUNITY,
	{"project_id", "project", I, HB_COL_REF | HB_COL_IMMUTABLE, HB_K_PROJECT, NULL, 0, "project key (omit for community level)"},
	{"feedback_type_id", "feedback_type", I, HB_COL_REF | HB_COL_IMMUTABLE, HB_K_FEEDBACK_TYPE, NULL, 0, "feedback type key (feedback macros)"},
	KEY("macro key"),
	NAME("macro name"),
	{"description", NULL, S, HB_COL_MULTILINE, 0, NULL, 2000, "description"},
	{"target", "on", S, HB_COL_REQUIRED | HB_COL_IMMUTABLE, 0, "users|feedback", 0, "records it runs on"},
	{"enabled", NULL, B, 0, 0, NULL, 0, "can be run", "1"},
	CREATED,
	UPDATED,
};

static const hb_column action_cols[] = {
	ID,
	{"macro_id", "macro", I, HB_COL_REQUIRED | HB_COL_REF | HB_COL_IMMUTABLE, HB_K_MACRO, NULL, 0, "macro key"},
	{"position", NULL, I, HB_COL_SYSTEM, 0, NULL, 0, "order within the macro"},
	{"type", NULL, S, HB_COL_REQUIRED, 0, "webhook|set_status|set_field|add_note|add_reply|set_team|set_score|remove_from_project", 0, "action type"},
	{"method", NULL, S, 0, 0, "GET|POST|PUT|PATCH|DELETE", 0, "HTTP method"},
	{"url", NULL, S, HB_COL_MULTILINE, 0, NULL, 8192, "URL template"},
	{"headers", NULL, S, HB_COL_MULTILINE, 0, NULL, 16384, "header templates, one per line"},
	{"content_type", NULL, S, 0, 0, "json|form|none", 0, "body encoding"},
	{"body", NULL, S, HB_COL_MULTILINE, 0, NULL, 262144, "body template"},
	{"capture_group_id", "capture_group", I, HB_COL_REF, HB_K_XGROUP, NULL, 0, "External Data group to capture into"},
	{"signing_secret", NULL, S, HB_COL_SECRET, 0, NULL, 200, "Standard Webhooks secret (whsec_…)"},
	{"timeout_ms", NULL, I, 0, 0, NULL, 0, "total timeout in milliseconds"},
	{"retry_schedule", NULL, S, HB_COL_JSON, 0, NULL, 0, "retry delays, e.g. [\"5s\",\"5m\"]"},
	{"params", NULL, S, HB_COL_JSON, 0, NULL, 0, "settings of a native action"},
};

static const hb_column apikey_cols[] = {
	ID,
	COMMUNITY,
	NAME("key name"),
	{"description", NULL, S, 0, 0, NULL, 2000, "description"},
	{"prefix", NULL, S, HB_COL_SYSTEM | HB_COL_IMMUTABLE, 0, NULL, 0, "public prefix of the key"},
	{"secret_hash", NULL, S, HB_COL_SYSTEM | HB_COL_SECRET, 0, NULL, 0, "SHA-256 of the secret"},
	{"role", NULL, S, HB_COL_REQUIRED, 0, "community-manager|project-manager", 0, "role"},
	{"projects", NULL, S, HB_COL_JSON, 0, NULL, 0, "projects a project manager key may use"},
	{"allow_ips", NULL, S, HB_COL_JSON, 0, NULL, 0, "CIDR ranges the key may be used from"},
	{"enabled", NULL, B, 0, 0, NULL, 0, "usable", "1"},
	{"last_used_at", NULL, T, HB_COL_SYSTEM, 0, NULL, 0, "last use"},
	{"use_count", NULL, I, HB_COL_SYSTEM, 0, NULL, 0, "number of uses", "0"},
	CREATED,
	UPDATED,
};

static const hb_column secret_cols[] = {
	ID,
	COMMUNITY,
	{"name", NULL, S, HB_COL_REQUIRED | HB_COL_KEY | HB_COL_IMMUTABLE, 0, NULL, 64, "secret name, used as {{secret.NAME}}"},
	{"value", NULL, S, HB_COL_REQUIRED | HB_COL_SECRET, 0, NULL, 8192, "the credential (never shown back)"},
	CREATED,
	UPDATED,
};

static const hb_column run_cols[] = {
	ID,
	COMMUNITY,
	{"macro_id", "macro", I, HB_COL_REQUIRED | HB_COL_REF | HB_COL_IMMUTABLE, HB_K_MACRO, NULL, 0, "macro key"},
	{"token", NULL, S, HB_COL_SYSTEM | HB_COL_HIDDEN, 0, NULL, 0, "random part of idempotency keys"},
	{"started_by", NULL, S, HB_COL_SYSTEM, 0, NULL, 0, "who or what started it"},
	{"selection", NULL, S, HB_COL_SYSTEM, 0, NULL, 0, "which records"},
	{"status", NULL, S, HB_COL_SYSTEM, 0, "creating|running|finished", 0, "progress"},
	{"total", NULL, I, HB_COL_SYSTEM, 0, NULL, 0, "records chosen"},
	CREATED,
	{"finished_at", NULL, T, HB_COL_SYSTEM, 0, NULL, 0, "when the last delivery settled"},
	{"spec", NULL, S, HB_COL_SYSTEM | HB_COL_HIDDEN | HB_COL_JSON, 0, NULL, 0, "how the records were chosen"},
	{"cursor", NULL, I, HB_COL_SYSTEM | HB_COL_HIDDEN, 0, NULL, 0, "how far creation got", "0"},
	{"lease_until", NULL, I, HB_COL_SYSTEM | HB_COL_HIDDEN, 0, NULL, 0, "creator's lease (Unix ms)", "0"},
};

static const hb_column delivery_cols[] = {
	ID,
	{"run_id", "run", I, HB_COL_SYSTEM | HB_COL_REF, HB_K_RUN, NULL, 0, "run id"},
	{"record_id", "record", I, HB_COL_SYSTEM, 0, NULL, 0, "user or feedback ticket id"},
	{"position", "action", I, HB_COL_SYSTEM, 0, NULL, 0, "the macro action it sends"},
	{"status", NULL, S, HB_COL_SYSTEM, 0, "waiting|pending|sending|succeeded|failed|skipped", 0, "state"},
	{"attempts", NULL, I, HB_COL_SYSTEM, 0, NULL, 0, "attempts made", "0"},
	{"due_at", NULL, I, HB_COL_SYSTEM | HB_COL_HIDDEN, 0, NULL, 0, "next attempt due (Unix ms); 0 unless pending or sending"},
	{"last_status", NULL, I, HB_COL_SYSTEM, 0, NULL, 0, "HTTP status of the last answer"},
	{"last_error", NULL, S, HB_COL_SYSTEM, 0, NULL, 0, "why the last attempt failed"},
	CREATED,
	UPDATED,
	{"lease_until", NULL, I, HB_COL_SYSTEM | HB_COL_HIDDEN, 0, NULL, 0,
	 "while sending: when its lease runs out (Unix ms)"},
};

static const hb_column attempt_cols[] = {
	ID,
	{"delivery_id", "delivery", I, HB_COL_SYSTEM | HB_COL_REF, HB_K_DELIVERY, NULL, 0, "delivery id"},
	{"number", NULL, I, HB_COL_SYSTEM, 0, NULL, 0, "1 for the first attempt"},
	{"started_at", NULL, T, HB_COL_SYSTEM, 0, NULL, 0, "when it was sent"},
	{"duration_ms", NULL, I, HB_COL_SYSTEM, 0, NULL, 0, "milliseconds until the answer or error"},
	{"request", NULL, S, HB_COL_SYSTEM | HB_COL_JSON, 0, NULL, 0, "request sent (secrets masked)"},
	{"status", NULL, I, HB_COL_SYSTEM, 0, NULL, 0, "HTTP status of the answer"},
	{"response", NULL, S, HB_COL_SYSTEM | HB_COL_JSON, 0, NULL, 0, "answer headers and body"},
	{"error_class", NULL, S, HB_COL_SYSTEM, 0, NULL, 0, "kind of failure"},
	{"error", NULL, S, HB_COL_SYSTEM, 0, NULL, 0, "what went wrong"},
	{"capture", NULL, S, HB_COL_SYSTEM | HB_COL_JSON, 0, NULL, 0, "outcome per External Data field"},
};

static const hb_column filter_cols[] = {
	ID,
	COMMUNITY,
	KEY("filter key"),
	NAME("filter name"),
	{"target", "on", S, HB_COL_REQUIRED | HB_COL_IMMUTABLE, 0, "users|feedback", 0, "records it chooses"},
	{"project_id", "project", I, HB_COL_REF | HB_COL_IMMUTABLE, HB_K_PROJECT, NULL, 0, "project key (omit for community level)"},
	{"expression", NULL, S, HB_COL_REQUIRED | HB_COL_MULTILINE, 0, NULL, 16384, "the filter, e.g. user.country = \"US\""},
	CREATED,
	UPDATED,
};

static const hb_column view_cols[] = {
	ID,
	COMMUNITY,
	KEY("view key"),
	NAME("view name"),
	{"target", "on", S, HB_COL_REQUIRED | HB_COL_IMMUTABLE, 0, "users|feedback", 0, "records it shows"},
	{"columns", NULL, S, HB_COL_REQUIRED | HB_COL_JSON, 0, NULL, 0, "columns in order: [{\"path\": …, \"heading\": …}]"},
	CREATED,
	UPDATED,
};

static const hb_column package_cols[] = {
	ID,
	COMMUNITY,
	KEY("package key"),
	NAME("package name"),
	{"target", "on", S, HB_COL_REQUIRED | HB_COL_IMMUTABLE, 0, "users|feedback", 0, "records it holds"},
	{"project_id", "project", I, HB_COL_REF | HB_COL_IMMUTABLE, HB_K_PROJECT, NULL, 0, "project key (omit for community level)"},
	{"filter", NULL, S, HB_COL_MULTILINE, 0, NULL, 16384, "rows: a filter expression or @SAVED (omit for every record)"},
	{"view_id", "view", I, HB_COL_REF, HB_K_VIEW, NULL, 0, "columns: a saved view key (omit for every field)"},
	{"format", NULL, S, 0, 0, "json|csv", 0, "format served when none is asked", "json"},
	CREATED,
	UPDATED,
};

#define KIND(id_, name_, table_, cols_, scope_, lookup_, lname_)                                 \
	[id_] = {id_, name_, table_, cols_, N(cols_), scope_, lookup_, lname_}

/* scope_col / lookup_col are indexes into the column arrays above. */
static const hb_kind kinds[HB_K__COUNT] = {
	KIND(HB_K_COMMUNITY, "community", "communities", community_cols, -1, 1, "key"),
	KIND(HB_K_PROJECT, "project", "projects", project_cols, 1, 2, "key"),
	KIND(HB_K_USER, "user", "users", user_cols, 1, 2, "email"),
	KIND(HB_K_PARTICIPATION, "participation", "participations", participation_cols, 1, 2, "user"),
	KIND(HB_K_NOTE, "note", "user_notes", note_cols, -1, -1, NULL),
	KIND(HB_K_FEEDBACK_TYPE, "feedback type", "feedback_types", feedback_type_cols, 2, 3, "key"),
	KIND(HB_K_FEEDBACK, "feedback ticket", "feedback", feedback_cols, 3, 4, "number"),
	KIND(HB_K_REPLY, "reply", "feedback_replies", reply_cols, -1, -1, NULL),
	KIND(HB_K_XGROUP, "External Data group", "xdata_groups", xgroup_cols, 1, 3, "key"),
	KIND(HB_K_XFIELD, "External Data field", "xdata_fields", xfield_cols, 1, 2, "key"),
	KIND(HB_K_MACRO, "macro", "macros", macro_cols, 1, 4, "key"),
	KIND(HB_K_ACTION, "macro action", "macro_actions", action_cols, 1, 2, "position"),
	KIND(HB_K_APIKEY, "API key", "api_keys", apikey_cols, -1, 4, "prefix"),
	KIND(HB_K_SECRET, "secret", "secrets", secret_cols, 1, 2, "name"),
	KIND(HB_K_RUN, "run", "runs", run_cols, -1, -1, NULL),
	KIND(HB_K_DELIVERY, "delivery", "deliveries", delivery_cols, -1, -1, NULL),
	KIND(HB_K_ATTEMPT, "delivery attempt", "delivery_attempts", attempt_cols, -1, -1, NULL),
	KIND(HB_K_FILTER, "filter", "filters", filter_cols, 1, 2, "key"),
	KIND(HB_K_VIEW, "view", "views", view_cols, 1, 2, "key"),
	KIND(HB_K_PACKAGE, "data package", "packages", package_cols, 1, 2, "key"),
};

const hb_kind *hb_kind_get(hb_kind_id id)
{
	return (unsigned)id < HB_K__COUNT ? &kinds[id] : NULL;
}

int hb_kind_col(const hb_kind *k, const char *name)
{
	/* rows are read and set by column name on hot paths: the first byte rules out most
	   columns before a whole comparison */
	for (size_t i = 0; i < k->ncols; i++) {
		const hb_column *c = &k->cols[i];
		if ((c->name[0] == name[0] && strcmp(c->name, name) == 0) ||
		    (c->input && c->input[0] == name[0] && strcmp(c->input, name) == 0))
			return (int)i;
	}
	return -1;
}

const char *hb_col_public_name(const hb_column *c)
{
	return c->input ? c->input : c->name;
}

bool hb_col_choice_ok(const hb_column *c, const char *s, size_t n)
{
	if (!c->choices)
		return true;
	const char *p = c->choices;
	while (*p) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && memcmp(p, s, n) == 0)
			return true;
		if (!bar)
			break;
		p = bar + 1;
	}
	return false;
}
