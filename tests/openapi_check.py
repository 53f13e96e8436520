#!/usr/bin/env python3
"""Check real API exchanges against docs/openapi.json, with a small JSON Schema checker.

usage: openapi_check.py OPENAPI.json ROUTES.txt EXCHANGES.jsonl [SCRIPT]

ROUTES.txt is `hookbridge serve --print-routes`; EXCHANGES.jsonl holds one recorded exchange a
line: {"method", "path", "status", "type", "body"} (body as text). Checks that
  * the document and the server's route table name the same operations;
  * every exchange's status is documented for its operation (404/405 for paths or methods the
    server does not have), and its body matches the documented schema and content type;
  * every documented operation was exercised at least once with a success status; an
    operation marked "x-tested-by": NAME is exercised by the script NAME (SCRIPT, default
    "api", names the script whose exchanges these are).
Prints one "PASS openapi:NAME" / "FAIL openapi:NAME: why" line per check (SCRIPT_openapi
for a script other than "api").
"""
import json
import re
import sys


def resolve(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        node = doc
        for part in ref[2:].split("/"):
            node = node[part]
    return node


def type_ok(t, v):
    if t == "null":
        return v is None
    if t == "boolean":
        return isinstance(v, bool)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "string":
        return isinstance(v, str)
    if t == "array":
        return isinstance(v, list)
    if t == "object":
        return isinstance(v, dict)
    raise ValueError("unknown type " + t)


DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def validate(doc, schema, v, where="$"):
    """Return a list of problems ("where: what")."""
    schema = resolve(doc, schema)
    errs = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(type_ok(t, v) for t in types):
            return [f"{where}: {json.dumps(v)[:60]} is not of type {types}"]
    if "const" in schema and v != schema["const"]:
        errs.append(f"{where}: {v!r} is not {schema['const']!r}")
    if "enum" in schema and v not in schema["enum"]:
        errs.append(f"{where}: {v!r} is not one of {schema['enum']}")
    if isinstance(v, str):
        if schema.get("format") == "date-time" and not DATE_TIME.match(v):
            errs.append(f"{where}: {v!r} is not a date-time")
        if "pattern" in schema and not re.search(schema["pattern"], v):
            errs.append(f"{where}: {v!r} does not match {schema['pattern']}")
    if isinstance(v, list):
        if "items" in schema:
            for i, item in enumerate(v):
                errs += validate(doc, schema["items"], item, f"{where}[{i}]")
        if "minItems" in schema and len(v) < schema["minItems"]:
            errs.append(f"{where}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(v) > schema["maxItems"]:
            errs.append(f"{where}: more than {schema['maxItems']} items")
    if isinstance(v, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in v:
                errs.append(f"{where}: lacks required '{name}'")
        for name, item in v.items():
            if name in props:
                errs += validate(doc, props[name], item, f"{where}.{name}")
            elif schema.get("additionalProperties") is False:
                errs.append(f"{where}: has undocumented '{name}'")
            elif isinstance(schema.get("additionalProperties"), dict):
                errs += validate(doc, schema["additionalProperties"], item, f"{where}.{name}")
    for key in ("oneOf", "anyOf"):
        if key in schema:
            results = [validate(doc, s, v, where) for s in schema[key]]
            good = sum(1 for r in results if not r)
            if (key == "oneOf" and good != 1) or (key == "anyOf" and good == 0):
                errs.append(f"{where}: matches {good} of the {key} schemas")
    return errs


def template_regex(path):
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "/?$")


def main():
    doc = json.load(open(sys.argv[1]))
    routes = set(tuple(line.split()) for line in open(sys.argv[2]) if line.strip())
    exchanges = [json.loads(line) for line in open(sys.argv[3]) if line.strip()]
    script = sys.argv[4] if len(sys.argv) > 4 else "api"
    results = []
    prefix = "openapi" if script == "api" else f"{script}_openapi"

    def check(name, problems):
        if problems:
            results.append(f"FAIL {prefix}:{name}: " + "; ".join(problems[:5]))
        else:
            results.append(f"PASS {prefix}:{name}")

    documented = set()
    owned = set()  # the operations this script must exercise
    for path, item in doc["paths"].items():
        for method in item:
            documented.add((method.upper(), path))
            if item[method].get("x-tested-by", "api") == script:
                owned.add((method.upper(), path))
    check("routes_documented", [f"{m} {p} is served but not documented" for m, p in sorted(routes - documented)])
    check("documented_routes_served", [f"{m} {p} is documented but not served" for m, p in sorted(documented - routes)])

    # a path matches the template with the most literal characters
    templates = sorted(doc["paths"], key=lambda p: -len(re.sub(r"\{[^}]+\}", "", p)))
    compiled = [(p, template_regex(p)) for p in templates]
    exercised = set()
    problems = []
    for x in exchanges:
        where = f"{x['method']} {x['path']} → {x['status']}"
        status = str(x["status"])
        path = x["path"].split("?")[0]
        tmpl = next((p for p, rx in compiled if rx.match(path)), None)
        op = doc["paths"].get(tmpl, {}).get(x["method"].lower()) if tmpl else None
        if op is None:
            # not an operation: the server must say 404 or 405 (or 431 for oversized headers)
            if status not in ("404", "405", "413", "431"):
                problems.append(f"{where}: undocumented operation answered {status}")
            elif status in ("404", "405", "413"):
                body = json.loads(x["body"])
                problems += [f"{where}: {p}" for p in validate(doc, doc["components"]["schemas"]["Error"], body)]
            continue
        resp = op["responses"].get(status)
        if resp is None:
            problems.append(f"{where}: status {status} is not documented for {x['method']} {tmpl}")
            continue
        resp = resolve(doc, resp)
        content = resp.get("content")
        if not content:
            if x["body"]:
                problems.append(f"{where}: documented without a body, answered {x['body'][:40]!r}")
        else:
            ctype = (x.get("type") or "").split(";")[0].strip()
            if ctype not in content:
                problems.append(f"{where}: content type {ctype!r}, documented {list(content)}")
                continue
            if ctype == "application/json":
                try:
                    body = json.loads(x["body"])
                except ValueError as err:
                    problems.append(f"{where}: body is not JSON ({err})")
                    continue
                problems += [f"{where}: {p}" for p in validate(doc, content[ctype]["schema"], body)]
        if status.startswith("2"):
            exercised.add((x["method"], tmpl))
    check("responses_match_schemas", problems)
    check("every_operation_exercised", [f"{m} {p} never answered with success" for m, p in sorted(owned - exercised)])
    print("\n".join(results))
    return 0 if all(r.startswith("PASS") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
