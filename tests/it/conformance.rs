//! The sandbox against `docs/openapi.yaml`: every response of a scripted
//! session — the four verbs, then malformed requests of every kind — has a
//! status the document lists for the operation, and a body valid against
//! the document's schema for that status (checked with `jsonschema`).
//! Malformed requests get 400s, never a 5xx or a hang. Where the request
//! body is at fault, the document's request schema must reject it too, and
//! accept every body the sandbox accepts: the document describes the API,
//! not just the happy path.

use std::time::Duration;

use invhooks::sandbox::{Ids, Sandbox, SandboxConfig};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::KEY;

const PATH: &str = "/admin/webhook-subscriptions";
const DOC: &str = include_str!("../../docs/openapi.yaml");

/// The OpenAPI document as JSON.
struct Spec(Value);

impl Spec {
    fn load() -> Spec {
        Spec(serde_saphyr::from_str::<serde_json::Value>(DOC).unwrap())
    }

    /// The operation object of `method` on the resource, if documented.
    fn operation(&self, method: &str) -> Option<&Value> {
        self.0["paths"][PATH].get(method.to_ascii_lowercase())
    }

    /// Follows a local `$ref` (`#/components/...`).
    fn resolve<'a>(&'a self, node: &'a Value) -> &'a Value {
        match node.get("$ref").and_then(Value::as_str) {
            Some(pointer) => {
                let target = self.0.pointer(pointer.trim_start_matches('#')).unwrap();
                self.resolve(target)
            }
            None => node,
        }
    }

    /// A validator for `schema` (which may `$ref` the components).
    fn validator(&self, schema: &Value) -> jsonschema::Validator {
        let mut root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.0["components"],
        });
        for (k, v) in schema.as_object().unwrap() {
            root[k] = v.clone();
        }
        jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("bad schema {schema}: {e}"))
    }

    /// The JSON schema of the response `status` to `method`, or why the
    /// status is not documented.
    fn response_schema(&self, method: &str, status: u16) -> Result<&Value, String> {
        let Some(op) = self.operation(method) else {
            // Not an operation of the API: the sandbox's documented answer
            // is a 400 error envelope.
            return if status == 400 {
                Ok(&self.0["components"]["responses"]["BadRequest"]["content"]["application/json"]["schema"])
            } else {
                Err(format!(
                    "{method} is not an operation; expected 400, got {status}"
                ))
            };
        };
        let response = op["responses"]
            .get(status.to_string())
            .ok_or_else(|| format!("{status} is not documented for {method}"))?;
        Ok(&self.resolve(response)["content"]["application/json"]["schema"])
    }

    fn request_schema(&self, method: &str) -> Option<&Value> {
        let body = self.operation(method)?.get("requestBody")?;
        Some(&body["content"]["application/json"]["schema"])
    }
}

/// One request of the script.
struct Case {
    what: &'static str,
    method: &'static str,
    key: Option<&'static str>,
    body: Option<Vec<u8>>,
    /// The status the sandbox must answer.
    status: u16,
    /// For a well-formed key and a known method: whether the body alone
    /// decides acceptance (so the request schema must agree with it).
    shape: bool,
}

fn case(what: &'static str, method: &'static str, body: Value, status: u16) -> Case {
    Case {
        what,
        method,
        key: Some(KEY),
        body: Some(body.to_string().into_bytes()),
        status,
        shape: true,
    }
}

fn raw(what: &'static str, method: &'static str, body: &[u8], status: u16) -> Case {
    Case {
        what,
        method,
        key: Some(KEY),
        body: Some(body.to_vec()),
        status,
        shape: false,
    }
}

fn script() -> Vec<Case> {
    let sub = |name: &str| json!({"topic": "customer.updated", "callbackUrl": "https://a.example/hook", "name": name});
    let get = |what, key, status| Case {
        what,
        method: "GET",
        key,
        body: None,
        status,
        shape: false,
    };
    let mut cases = vec![
        get("empty list", Some(KEY), 200),
        case("create", "POST", sub("crm"), 201),
        case(
            "create, other topic, userinfo and query in the URL",
            "POST",
            json!({"topic": "customer.ordered", "callbackUrl": "https://u:p@b.example/x?t=1", "name": "erp"}),
            201,
        ),
        case(
            "create, IDN host and http on loopback",
            "POST",
            json!({"topic": "customer.cancelled", "callbackUrl": "http://127.0.0.1:9/bücher", "name": "ä"}),
            201,
        ),
        get("list of three", Some(KEY), 200),
        case(
            "update the URL",
            "PUT",
            json!({"topic": "customer.updated", "id": "wh_000001", "callbackUrl": "https://c.example/new"}),
            200,
        ),
        case(
            "rename, null URL left as is",
            "PUT",
            json!({"topic": "customer.updated", "id": "wh_000001", "name": "crm2", "callbackUrl": null}),
            200,
        ),
        case(
            "delete",
            "DELETE",
            json!({"topic": "customer.ordered", "id": "wh_000002"}),
            200,
        ),
        get("list after changes", Some(KEY), 200),
        // Keys.
        get("no key", None, 400),
        get("unknown key", Some("sk_not_a_key"), 400),
        get("empty key", Some(""), 400),
        // Bodies that are not a JSON object.
        raw("empty body", "POST", b"", 400),
        raw("blank body", "POST", b"  \n ", 400),
        raw("truncated JSON", "POST", b"{\"topic\": ", 400),
        raw("HTML", "POST", b"<html></html>", 400),
        raw("invalid UTF-8", "POST", b"{\"topic\": \"\xff\xfe\"}", 400),
        case("array", "POST", json!([1, 2]), 400),
        case("string", "POST", json!("topic"), 400),
        case("number", "POST", json!(42), 400),
        case("null", "POST", json!(null), 400),
        // Fields.
        case("no fields", "POST", json!({}), 400),
        case(
            "wrong types",
            "POST",
            json!({"topic": 5, "callbackUrl": ["https://a"], "name": {"x": 1}}),
            400,
        ),
        case(
            "empty strings",
            "POST",
            json!({"topic": "", "callbackUrl": "", "name": ""}),
            400,
        ),
        case(
            "unknown field",
            "POST",
            json!({"topic": "customer.updated", "callbackUrl": "https://a", "name": "n", "secret": true}),
            400,
        ),
        case(
            "unknown topic",
            "POST",
            json!({"topic": "customer.deleted", "callbackUrl": "https://a", "name": "n"}),
            400,
        ),
        case(
            "null name on create",
            "POST",
            json!({"topic": "customer.updated", "callbackUrl": "https://a", "name": null}),
            400,
        ),
        case(
            "PUT without id",
            "PUT",
            json!({"topic": "customer.updated", "name": "x"}),
            400,
        ),
        case(
            "PUT with a numeric id",
            "PUT",
            json!({"topic": "customer.updated", "id": 1, "name": "x"}),
            400,
        ),
        case(
            "PUT with a boolean name",
            "PUT",
            json!({"topic": "customer.updated", "id": "wh_000001", "name": false}),
            400,
        ),
        case("DELETE without topic", "DELETE", json!({"id": "wh_000001"}), 400),
        case(
            "DELETE with an unknown field",
            "DELETE",
            json!({"topic": "customer.updated", "id": "wh_000001", "force": true}),
            400,
        ),
        raw("DELETE without a body", "DELETE", b"", 400),
        // Semantics: well-formed, but no such subscription.
        Case {
            shape: false,
            ..case(
                "PUT of an unknown id",
                "PUT",
                json!({"topic": "customer.updated", "id": "wh_999999", "name": "x"}),
                400,
            )
        },
        Case {
            shape: false,
            ..case(
                "DELETE with the wrong topic",
                "DELETE",
                json!({"topic": "customer.ordered", "id": "wh_000001"}),
                400,
            )
        },
        // Methods the API does not have.
        raw("PATCH", "PATCH", b"{}", 400),
        raw("OPTIONS", "OPTIONS", b"", 400),
        raw("a made-up method", "SUBSCRIBE", b"", 400),
    ];
    for url in [
        "ftp://a.example/x",
        "/relative",
        "javascript:alert(1)",
        "https://",
        "https://?token=x",
        " https://a.example/",
    ] {
        cases.push(Case {
            what: "a callback URL that is not absolute http(s)",
            ..case(
                "",
                "POST",
                json!({"topic": "customer.updated", "callbackUrl": url, "name": "n"}),
                400,
            )
        });
    }
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    cases.push(raw("10 000 nested arrays", "POST", deep.as_bytes(), 400));
    let mut many = String::from("{");
    for i in 0..60_000 {
        many.push_str(&format!("\"f{i}\":0,"));
    }
    many.push_str("\"topic\":\"customer.updated\"}");
    cases.push(raw("60 000 unknown fields", "POST", many.as_bytes(), 400));
    let big = format!(
        r#"{{"topic":"customer.updated","callbackUrl":"https://a","name":"{}"}}"#,
        "x".repeat(1024 * 1024)
    );
    cases.push(raw("a body over 1 MiB", "POST", big.as_bytes(), 400));
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sandbox_response_conforms_to_the_openapi_document() {
    let spec = Spec::load();
    let config = SandboxConfig {
        api_keys: vec![KEY.into()],
        // The cases name ids.
        ids: Ids::Sequential,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap();
    let url = format!("{}{PATH}", sandbox.base_url());
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut failures = Vec::new();
    for case in script() {
        let label = format!("{} {} ({})", case.method, case.what, case.status);
        let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
        let mut request = http.request(method, &url);
        if let Some(key) = case.key {
            request = request.header("X-Inveterate-Api-Key", key);
        }
        if let Some(body) = &case.body {
            request = request
                .header("content-type", "application/json")
                .body(body.clone());
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{label}: no answer: {e}"));
        let status = response.status().as_u16();
        let content_type = response.headers().get("content-type").cloned();
        let text = response.bytes().await.unwrap();
        if status != case.status {
            failures.push(format!(
                "{label}: got {status}: {}",
                String::from_utf8_lossy(&text)
            ));
            continue;
        }
        if content_type.as_ref().and_then(|v| v.to_str().ok()) != Some("application/json") {
            failures.push(format!("{label}: content-type {content_type:?}"));
        }
        let body: Value = match serde_json::from_slice(&text) {
            Ok(body) => body,
            Err(e) => {
                failures.push(format!("{label}: body is not JSON ({e})"));
                continue;
            }
        };
        match spec.response_schema(case.method, status) {
            Err(why) => failures.push(format!("{label}: {why}")),
            Ok(schema) => {
                let validator = spec.validator(schema);
                for error in validator.iter_errors(&body) {
                    failures.push(format!("{label}: {error} at {}", error.instance_path));
                }
            }
        }
        if body["message"].as_str().is_some_and(|m| m.contains(KEY)) {
            failures.push(format!("{label}: the key is echoed"));
        }
        if case.shape {
            let schema = spec.request_schema(case.method).unwrap();
            let sent: Value = serde_json::from_slice(case.body.as_deref().unwrap()).unwrap();
            let valid = spec.validator(schema).is_valid(&sent);
            let accepted = status < 300;
            if valid != accepted {
                failures.push(format!(
                    "{label}: the document's request schema says valid={valid}, the sandbox accepted={accepted}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_body_announced_but_never_sent_or_too_large_gets_a_400_in_time() {
    let config = SandboxConfig {
        api_keys: vec![KEY.into()],
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap();
    // Announces 100 MiB and sends nothing: refused at once, unread.
    let mut stream = tokio::net::TcpStream::connect(sandbox.addr()).await.unwrap();
    let head = format!(
        "POST /v2.0{PATH} HTTP/1.1\r\nhost: x\r\nx-inveterate-api-key: {KEY}\r\ncontent-length: 104857600\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&answer).contains('}') {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(read.is_ok(), "no answer in time");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("larger than 1 MiB"), "{answer}");
    sandbox.shutdown().await.unwrap();
}
