//! `GET /v1/openapi.json` of the real server: valid OpenAPI 3.1 by a real validator
//! (`@seriousme/openapi-schema-validator`, pinned in tools/), and the same contract as docs/protocol.md: every
//! endpoint, every field of its requests and answers, and every error code of the one document is in the other
//! (issue 19). No browser: the server and Node only.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use realname_e2e::server::{DemoServer, Options};
use realname_e2e::{Result, ensure, err, http, paths};
use serde_json::Value;

/// The served document.
fn served() -> Result<Value> {
    let server = DemoServer::start(&Options::default())?;
    let r = http::get(&server.url("/v1/openapi.json"))?;
    ensure!(r.status == 200, "/v1/openapi.json answered {}: {}", r.status, r.body);
    r.json()
}

fn protocol_md() -> Result<String> {
    Ok(std::fs::read_to_string(paths::root().join("docs/protocol.md"))?)
}

#[test]
fn openapi_json_passes_an_openapi_3_1_validator() -> Result<()> {
    let doc = served()?;
    ensure!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")), "not OpenAPI 3.1: {}", doc["openapi"]);
    let dir = paths::temp_dir("openapi")?;
    let file = dir.0.join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc)?)?;
    let cli = paths::tools_node_modules()?.join("@seriousme/openapi-schema-validator/bin/validate-api-cli.js");
    let out = Command::new("node").arg(&cli).arg(&file).output().map_err(|e| err!("cannot run node: {e}"))?;
    let report = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success(),
        "the OpenAPI 3.1 validator refused /v1/openapi.json:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_str(&report).map_err(|e| err!("validator output {report:?}: {e}"))?;
    ensure!(r["valid"] == true, "validator: {r}");
    // The validator must be able to fail: a document without `info` is refused.
    let mut broken = doc.clone();
    broken.as_object_mut().map(|o| o.remove("info"));
    std::fs::write(&file, serde_json::to_vec(&broken)?)?;
    let out = Command::new("node").arg(&cli).arg(&file).output().map_err(|e| err!("cannot run node: {e}"))?;
    ensure!(!out.status.success(), "the validator accepted a document without info");
    Ok(())
}

#[test]
fn openapi_json_and_protocol_md_name_the_same_endpoints_fields_and_error_codes() -> Result<()> {
    let (doc, md) = (served()?, protocol_md()?);
    let sections = sections(&md);
    let documented = endpoints(&sections);
    let mut problems = Vec::new();

    let described: BTreeSet<String> = doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .into_iter()
                .flatten()
                .filter(|(m, _)| HTTP_METHODS.contains(&m.as_str()))
                .map(move |(m, _)| format!("{} {path}", m.to_uppercase()))
        })
        .collect();
    let in_md: BTreeSet<String> = documented.keys().cloned().collect();
    for e in in_md.difference(&described) {
        problems.push(format!("endpoint {e} is in docs/protocol.md, not in /v1/openapi.json"));
    }
    for e in described.difference(&in_md) {
        problems.push(format!("endpoint {e} is in /v1/openapi.json, not in docs/protocol.md"));
    }

    // Fields: the JSON keys of each endpoint's section (its examples and inline `{…}` bodies, with the envelope's
    // own fields from section 3.1) against every property its request body and success answers can hold.
    let envelope = keys(sections.iter().find(|s| s.title.starts_with("3.1 ")).map(|s| s.body.as_str()).unwrap_or(""));
    for (endpoint, body) in &documented {
        let Some((method, path)) = endpoint.split_once(' ') else { continue };
        let op = &doc["paths"][path][method.to_lowercase()];
        if op.is_null() {
            continue;
        }
        let mut md_fields = keys(body);
        // "Response: as 4.5", "Response `201 Created`: same as 4.2": that section's examples.
        if let Some(n) = response_as(body)
            && let Some((_, other)) = documented.iter().find(|(e, _)| {
                sections.iter().any(|s| s.title.starts_with(&format!("{n} ")) && s.title.contains(&format!("`{e}`")))
            })
        {
            md_fields.extend(keys(&other[other.find("Response").unwrap_or(0)..]));
        }
        if md_fields.contains("envelope") {
            md_fields.extend(envelope.iter().cloned());
        }
        let api_fields = operation_fields(&doc, op);
        for f in md_fields.difference(&api_fields) {
            problems.push(format!("{endpoint}: field `{f}` is in docs/protocol.md, not in /v1/openapi.json"));
        }
        for f in api_fields.difference(&md_fields) {
            problems.push(format!("{endpoint}: field `{f}` is in /v1/openapi.json, not in docs/protocol.md"));
        }
    }

    // Error codes (section 6's table) and the error body's fields (its first table).
    let errors = sections.iter().find(|s| s.title.starts_with("6. ")).ok_or_else(|| err!("no section 6. Errors"))?;
    let md_codes: BTreeSet<String> = table_spans(&errors.body, 1).into_iter().filter(|c| is_name(c)).collect();
    let api_codes: BTreeSet<String> = resolve(&doc, &doc["components"]["schemas"]["ErrorCode"])["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect();
    ensure!(
        !md_codes.is_empty() && !api_codes.is_empty(),
        "no error codes found: docs {md_codes:?}, OpenAPI {api_codes:?}"
    );
    for c in md_codes.difference(&api_codes) {
        problems.push(format!("error code `{c}` is in docs/protocol.md, not in /v1/openapi.json"));
    }
    for c in api_codes.difference(&md_codes) {
        problems.push(format!("error code `{c}` is in /v1/openapi.json, not in docs/protocol.md"));
    }
    let md_error_fields: BTreeSet<String> = table_spans(&errors.body, 0).into_iter().filter(|c| is_name(c)).collect();
    let mut api_error_fields = BTreeSet::new();
    collect_properties(&doc, &doc["components"]["schemas"]["ErrorResponse"], &mut api_error_fields, 0);
    api_error_fields.remove("error");
    if md_error_fields != api_error_fields {
        problems.push(format!(
            "error body fields: docs/protocol.md {md_error_fields:?}, /v1/openapi.json {api_error_fields:?}"
        ));
    }
    // What travels outside the paths' bodies: the sealed step payloads (3.2), the result token's claims (7, its
    // table) and the webhook body (8, its top level), each against its component schema.
    let section =
        |prefix: &str| sections.iter().find(|s| s.title.starts_with(prefix)).map(|s| s.body.as_str()).unwrap_or("");
    let component = |names: &[&str], deep: bool| {
        let mut out = BTreeSet::new();
        for n in names {
            let schema = &doc["components"]["schemas"][*n];
            if deep {
                collect_properties(&doc, schema, &mut out, 0);
            } else {
                out.extend(
                    resolve(&doc, schema)["properties"].as_object().into_iter().flatten().map(|(k, _)| k.clone()),
                );
            }
        }
        out
    };
    let payloads = section("3.2 ");
    let mut md_payload = keys(payloads);
    md_payload.extend(table_spans(payloads, 0).into_iter().filter(|c| is_name(c)));
    let claims: BTreeSet<String> = table_spans(section("7. "), 0).into_iter().filter(|c| is_name(c)).collect();
    for (what, md, api) in [
        (
            "sealed step payloads (3.2)",
            md_payload,
            component(&["IdentityPayload", "CodePayload", "DocumentsPayload"], true),
        ),
        ("result token claims (7)", claims, component(&["ResultClaims"], false)),
        ("webhook body (8)", keys(section("8. ")), component(&["WebhookEvent"], false)),
    ] {
        ensure!(!api.is_empty(), "/v1/openapi.json has no schema for the {what}");
        for f in md.difference(&api) {
            problems.push(format!("{what}: field `{f}` is in docs/protocol.md, not in /v1/openapi.json"));
        }
        for f in api.difference(&md) {
            problems.push(format!("{what}: field `{f}` is in /v1/openapi.json, not in docs/protocol.md"));
        }
    }
    per_endpoint_errors(&doc, &sections, &documented, &mut problems)?;
    ensure!(problems.is_empty(), "docs/protocol.md and /v1/openapi.json differ:\n{}", problems.join("\n"));
    Ok(())
}

/// The error answers of each endpoint: section 6.1's row for it (with the rows for every endpoint, every `POST`
/// and every path with `{id}`) against the operation's error responses, each a status whose `examples` are keyed
/// by its codes. A code the endpoint's own section names must be in its row too.
fn per_endpoint_errors(
    doc: &Value,
    sections: &[Section],
    documented: &BTreeMap<String, String>,
    problems: &mut Vec<String>,
) -> Result<()> {
    let table = sections.iter().find(|s| s.title.starts_with("6.1 ")).ok_or_else(|| err!("no section 6.1"))?;
    let (mut every, mut post, mut id) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let mut rows: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in table.body.lines().filter(|l| l.starts_with('|')) {
        let cols: Vec<&str> = line.split('|').collect();
        let (Some(first), Some(second)) = (cols.get(1), cols.get(2)) else { continue };
        let codes = status_codes(second);
        let named: Vec<String> = code_spans(first).into_iter().filter(|c| is_endpoint(c)).collect();
        match first.trim() {
            "every endpoint" => every = codes,
            "every `POST`" => post = codes,
            "every path with `{id}`" => id = codes,
            _ => {
                for e in named {
                    if rows.insert(e.clone(), codes.clone()).is_some() {
                        problems.push(format!("6.1: {e} has two rows"));
                    }
                }
            }
        }
    }
    ensure!(
        !every.is_empty() && !post.is_empty() && !id.is_empty(),
        "6.1 lacks a row for every endpoint, every `POST` or every path with `{{id}}`"
    );
    for e in rows.keys().filter(|e| !documented.contains_key(*e)) {
        problems.push(format!("6.1 has a row for {e}, which section 4 does not document"));
    }
    for (endpoint, body) in documented {
        let Some((method, path)) = endpoint.split_once(' ') else { continue };
        let Some(row) = rows.get(endpoint) else {
            problems.push(format!("{endpoint} has no row in 6.1 (errors by endpoint)"));
            continue;
        };
        let mut md: BTreeSet<String> = row.iter().chain(&every).cloned().collect();
        if method == "POST" {
            md.extend(post.iter().cloned());
        }
        if path.contains("{id}") {
            md.extend(id.iter().cloned());
        }
        for c in status_codes(body).difference(&md) {
            problems.push(format!("{endpoint}: its section names `{c}`, its row in 6.1 does not"));
        }
        let op = &doc["paths"][path][method.to_lowercase()];
        let mut api = BTreeSet::new();
        for (status, resp) in op["responses"].as_object().into_iter().flatten() {
            // Errors only: not the answers (2xx) nor the status's `304 Not Modified`.
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let examples = &resolve(doc, resp)["content"]["application/json"]["examples"];
            let names: Vec<&String> = examples.as_object().into_iter().flatten().map(|(k, _)| k).collect();
            if names.is_empty() {
                problems.push(format!("{endpoint}: the {status} response of /v1/openapi.json names no error code"));
            }
            api.extend(names.into_iter().map(|n| format!("{status} {n}")));
        }
        for c in md.difference(&api) {
            problems.push(format!("{endpoint}: `{c}` is in docs/protocol.md 6.1, not in /v1/openapi.json"));
        }
        for c in api.difference(&md) {
            problems.push(format!("{endpoint}: `{c}` is in /v1/openapi.json, not in docs/protocol.md 6.1"));
        }
    }
    Ok(())
}

/// The `` `NNN code` `` spans of a text: an HTTP status and an error code.
fn status_codes(text: &str) -> BTreeSet<String> {
    code_spans(text)
        .into_iter()
        .filter(|c| {
            c.split_once(' ').is_some_and(|(s, n)| s.len() == 3 && s.chars().all(|d| d.is_ascii_digit()) && is_name(n))
        })
        .collect()
}

const HTTP_METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// A `##`/`###` section of the Markdown: its title (without the hashes) and its text.
struct Section {
    title: String,
    body: String,
}

fn sections(md: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    for line in md.lines() {
        if let Some(t) = line.strip_prefix("### ").or_else(|| line.strip_prefix("## ")) {
            out.push(Section { title: t.to_string(), body: String::new() });
        } else if let Some(s) = out.last_mut() {
            s.body.push_str(line);
            s.body.push('\n');
        }
    }
    out
}

/// The endpoints the protocol documents, each with its section's text: the `### 4.x `METHOD /path`` sections,
/// and the `METHOD /path` items of "Operations" (the demo-mode-only `/dev/` and `/demo/` endpoints are not part
/// of the API and not in the OpenAPI document, as protocol.md says).
fn endpoints(sections: &[Section]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for s in sections {
        if let Some(e) = code_spans(&s.title).into_iter().find(|c| is_endpoint(c)) {
            out.insert(e, s.body.clone());
        } else if s.title.ends_with("Operations") {
            for item in s.body.split("\n- ") {
                for e in code_spans(item).into_iter().filter(|c| is_endpoint(c)) {
                    if !(e.contains(" /dev/") || e.contains(" /demo/")) {
                        out.insert(e, item.to_string());
                    }
                }
            }
        }
    }
    out
}

/// A snake_case name (a field or an error code).
fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

/// The section number a "Response …: (same) as 4.N" sentence refers to.
fn response_as(body: &str) -> Option<String> {
    let at = body.find("Response")?;
    let sentence = body[at..].split(". ").next()?;
    let n = sentence.split(" as ").nth(1)?;
    let n: String = n.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    Some(n.trim_end_matches('.').to_string()).filter(|n| !n.is_empty())
}

fn is_endpoint(s: &str) -> bool {
    s.split_once(' ').is_some_and(|(m, p)| HTTP_METHODS.contains(&m.to_lowercase().as_str()) && p.starts_with('/'))
}

/// The `inline code` spans of a text.
fn code_spans(text: &str) -> Vec<String> {
    text.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

/// The JSON object keys in a section's examples: fenced code blocks and inline spans holding a `{…}` body.
fn keys(body: &str) -> BTreeSet<String> {
    let mut code = String::new();
    let mut fenced = false;
    for line in body.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if fenced {
            code.push_str(line);
            code.push('\n');
        }
    }
    let prose: String = body.split("```").step_by(2).collect::<Vec<_>>().join("\n");
    for span in code_spans(&prose) {
        if span.contains('{') {
            code.push_str(&span);
            code.push('\n');
        }
    }
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find('"') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('"') else { break };
        let (word, tail) = (&after[..j], &after[j + 1..]);
        if tail.trim_start().starts_with(':')
            && !word.is_empty()
            && word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            out.insert(word.to_string());
        }
        rest = tail;
    }
    out
}

/// The `code` spans in column `col` of the Markdown tables in `text`.
fn table_spans(text: &str, col: usize) -> BTreeSet<String> {
    text.lines().filter(|l| l.starts_with('|')).filter_map(|l| l.split('|').nth(col + 1)).flat_map(code_spans).collect()
}

/// Follows a `$ref` into `components`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/")) {
        Some(path) => path.split('/').fold(doc, |v, k| &v[k]),
        None => schema,
    }
}

/// Every property name a schema can hold, through references, compositions, arrays and maps.
fn collect_properties(doc: &Value, schema: &Value, out: &mut BTreeSet<String>, depth: usize) {
    if depth > 12 {
        return;
    }
    let s = resolve(doc, schema);
    if let Some(props) = s["properties"].as_object() {
        for (name, p) in props {
            out.insert(name.clone());
            collect_properties(doc, p, out, depth + 1);
        }
    }
    for k in ["allOf", "oneOf", "anyOf", "prefixItems"] {
        for sub in s[k].as_array().into_iter().flatten() {
            collect_properties(doc, sub, out, depth + 1);
        }
    }
    for k in ["items", "additionalProperties"] {
        if s[k].is_object() {
            collect_properties(doc, &s[k], out, depth + 1);
        }
    }
}

/// The properties of an operation's JSON request body and its 2xx answers.
fn operation_fields(doc: &Value, op: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let body = resolve(doc, &op["requestBody"]);
    for (_, media) in body["content"].as_object().into_iter().flatten() {
        collect_properties(doc, &media["schema"], &mut out, 0);
    }
    for (status, resp) in op["responses"].as_object().into_iter().flatten() {
        if status.starts_with('2') {
            for (_, media) in resolve(doc, resp)["content"].as_object().into_iter().flatten() {
                collect_properties(doc, &media["schema"], &mut out, 0);
            }
        }
    }
    out
}
