// Node-RED settings for bench/deliver.sh: headless (no editor, no admin API, no HTTP-in
// routes), quiet, and `fs` handed to function nodes so the flow can write its result.
module.exports = {
	uiHost: "127.0.0.1",
	uiPort: Number(process.env.NR_PORT || 1880),
	httpAdminRoot: false,
	httpNodeRoot: false,
	disableEditor: true,
	credentialSecret: false,
	flowFilePretty: false,
	functionGlobalContext: { fs: require("fs") },
	logging: { console: { level: "warn", metrics: false, audit: false } },
	telemetry: { enabled: false },
	editorTheme: { projects: { enabled: false } },
};
