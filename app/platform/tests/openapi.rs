//! `openapi.yaml` is the contract: every route the simulator serves is in it and every path in
//! it is served; personal data is never in a URL; and what really goes over the wire (the
//! client's requests and the simulator's answers, status by status) validates against the
//! document's schemas.

// Helpers of an integration test are test code: they may unwrap and panic.
#![allow(clippy::unwrap_used, clippy::panic, clippy::too_many_lines)]

mod common;

use std::collections::BTreeSet;

use common::*;
use kiosk_platform::OPENAPI_YAML;
use kiosk_platform::mask::sha256_hex;
use kiosk_platform::sim::ROUTES;
use kiosk_platform::wire::{IDEMPOTENCY_KEY_HEADER, KIOSK_ID_HEADER};
use serde_json::{Value, json};
use uuid::Uuid;

fn document() -> Value {
    let yaml: serde_yaml::Value = serde_yaml::from_str(OPENAPI_YAML).unwrap();
    serde_json::to_value(yaml).unwrap()
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

#[test]
fn openapi_matches_routes() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.0.3");
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            METHODS
                .iter()
                .filter(|m| ops.get(**m).is_some())
                .map(|m| (m.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    let missing: Vec<_> = served.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(missing.is_empty(), "served but not documented: {missing:?}");
    assert!(extra.is_empty(), "documented but not served: {extra:?}");
    // The simulator-only routes say so.
    for (method, path) in &documented {
        let op = &doc["paths"][path][method.to_lowercase()];
        let is_sim = op["tags"].as_array().unwrap().contains(&json!("simulator"));
        assert_eq!(is_sim, path.starts_with("/sim/"), "{path}");
        if is_sim {
            assert!(
                op["summary"]
                    .as_str()
                    .unwrap()
                    .starts_with("SIMULATOR ONLY")
            );
        }
    }
}

#[test]
fn no_personal_data_in_urls_and_every_ref_resolves() {
    let doc = document();
    let personal = [
        "id_number",
        "name",
        "phone",
        "address",
        "query_code",
        "code",
    ];
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            let Some(op) = ops.get(m) else { continue };
            for p in op["parameters"].as_array().into_iter().flatten() {
                let p = resolve(&doc, p);
                if matches!(p["in"].as_str(), Some("path" | "query")) {
                    let n = p["name"].as_str().unwrap();
                    assert!(!personal.contains(&n), "{path} has {n} in its URL");
                }
            }
            if path.starts_with("/v1/") {
                let has_kiosk = op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| resolve(&doc, p)["name"] == KIOSK_ID_HEADER);
                assert!(has_kiosk, "{m} {path} lacks the X-Kiosk-Id header");
            }
        }
    }
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 100);
    for r in refs {
        assert!(!pointer(&doc, &r).is_null(), "dangling {r}");
    }
}

#[tokio::test]
async fn every_route_is_served() {
    let sim = sim().await;
    let http = http();
    for route in ROUTES {
        let path = route
            .path
            .replace("{application_id}", &Uuid::now_v7().to_string())
            .replace("{material_id}", "m")
            .replace("{sha256}", &"0".repeat(64))
            .replace("{request_id}", "CR000001");
        let method = reqwest::Method::from_bytes(route.method.as_bytes()).unwrap();
        let response = http
            .request(method, format!("{}{path}", sim.url()))
            .header(KIOSK_ID_HEADER, KIOSK)
            .header(IDEMPOTENCY_KEY_HEADER, Uuid::now_v7().to_string())
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_ne!(status, 405, "{} {}", route.method, route.path);
        assert!(
            !text.contains("no such route"),
            "{} {}",
            route.method,
            route.path
        );
    }
    let unknown = http
        .get(format!("{}/v2/nothing", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

/// Sends requests as the kiosk would and validates both sides against the document.
struct Checker {
    doc: Value,
    http: reqwest::Client,
    base: String,
    seen: BTreeSet<(String, String, u16)>,
}

impl Checker {
    async fn call(
        &mut self,
        method: &str,
        template: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let op = self.doc["paths"][template][method.to_lowercase()].clone();
        assert!(!op.is_null(), "{method} {template} not documented");
        let mut request = self
            .http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", self.base),
            )
            .header(KIOSK_ID_HEADER, KIOSK);
        if let Some(b) = &body {
            let schema = &op["requestBody"]["content"]["application/json"]["schema"];
            check(
                &self.doc,
                b,
                schema,
                &format!("request of {method} {template}"),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            let field = match template {
                "/v1/applications" => "application_id",
                "/v1/lockers/events" => "event_id",
                "/v1/evaluations" => "evaluation_id",
                _ => "",
            };
            let key = b
                .get(field)
                .and_then(Value::as_str)
                .map_or_else(|| Uuid::now_v7().to_string(), str::to_owned);
            request = request.header(IDEMPOTENCY_KEY_HEADER, key).json(b);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        let documented = resolve(&self.doc, &op["responses"][status.to_string()]).clone();
        assert!(
            !documented.is_null(),
            "{method} {template} answered undocumented {status}"
        );
        let schema = &documented["content"]["application/json"]["schema"];
        let value = if schema.is_null() {
            assert!(bytes.is_empty(), "{status} should have no body");
            Value::Null
        } else {
            let v: Value = serde_json::from_slice(&bytes).unwrap();
            check(
                &self.doc,
                &v,
                schema,
                &format!("{status} of {method} {template}"),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            v
        };
        self.seen
            .insert((method.to_owned(), template.to_owned(), status));
        (status, value)
    }
}

#[tokio::test]
async fn what_goes_over_the_wire_matches_the_document() {
    let sim = sim().await;
    let mut c = Checker {
        doc: document(),
        http: http(),
        base: sim.url(),
        seen: BTreeSet::new(),
    };
    let s = birth_submission();
    let id = s.application_id.to_string();
    let sub = serde_json::to_value(&s).unwrap();
    assert_eq!(
        c.call(
            "POST",
            "/v1/applications",
            "/v1/applications",
            Some(sub.clone())
        )
        .await
        .0,
        201
    );
    assert_eq!(
        c.call(
            "POST",
            "/v1/applications",
            "/v1/applications",
            Some(sub.clone())
        )
        .await
        .0,
        200
    );
    let mut other = sub.clone();
    other["contact_phone"] = json!("13900000000");
    assert_eq!(
        c.call("POST", "/v1/applications", "/v1/applications", Some(other))
            .await
            .0,
        409
    );
    let mut reused = sub.clone();
    reused["application_id"] = json!(Uuid::now_v7().to_string());
    assert_eq!(
        c.call("POST", "/v1/applications", "/v1/applications", Some(reused))
            .await
            .0,
        409
    );
    let mut bad = sub.clone();
    bad["application_id"] = json!(Uuid::now_v7().to_string());
    bad["items"][0]["depends_on"] = json!(["household-registration"]);
    assert_eq!(
        c.call("POST", "/v1/applications", "/v1/applications", Some(bad))
            .await
            .0,
        422
    );

    // The page upload (a JPEG body, checked by hand).
    let jpeg = sample_jpeg(1);
    let page_url = format!(
        "{}/v1/applications/{id}/materials/marriage-certificate/pages/{}",
        sim.url(),
        sha256_hex(&jpeg)
    );
    let page = c
        .http
        .put(&page_url)
        .header(KIOSK_ID_HEADER, KIOSK)
        .header("content-type", "image/jpeg")
        .body(jpeg)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 201);
    let page: Value = page.json().await.unwrap();
    check(
        &c.doc,
        &page,
        &json!({"$ref": "#/components/schemas/PageReceipt"}),
        "page",
    )
    .unwrap();

    let lookup =
        |dataset: &str, id_number: &str| json!({"dataset": dataset, "id_number": id_number});
    let t = "/v1/shared-data/lookup";
    assert_eq!(
        c.call(
            "POST",
            t,
            t,
            Some(lookup("birth-medical-certificate", MOTHER_ID))
        )
        .await
        .0,
        200
    );
    assert_eq!(
        c.call("POST", t, t, Some(lookup("household-register", LI_ID)))
            .await
            .0,
        404
    );

    let t = "/v1/progress/by-code";
    let number = &s.application_number;
    let by_code = json!({"application_number": number, "query_code": QUERY_CODE});
    assert_eq!(c.call("POST", t, t, Some(by_code.clone())).await.0, 200);
    assert_eq!(
        c.call(
            "POST",
            t,
            t,
            Some(json!({"application_number": number, "query_code": "1"}))
        )
        .await
        .0,
        404
    );
    let t = "/v1/progress/by-id-number";
    assert_eq!(
        c.call("POST", t, t, Some(json!({"id_number": FATHER_ID})))
            .await
            .0,
        200
    );

    let t = "/v1/cards/requests";
    let by_app = json!({"by": "application", "application_id": id});
    let (status, early) = c.call("POST", t, t, Some(by_app.clone())).await;
    assert_eq!(
        (status, early["eligibility"]["status"].as_str()),
        (201, Some("not_yet"))
    );
    let person = json!({"by": "person", "id_number": FATHER_ID, "name": "王测试"});
    assert_eq!(c.call("POST", t, t, Some(person)).await.0, 201);
    let adv = "/sim/clock/advance";
    assert_eq!(
        c.call("POST", adv, adv, Some(json!({"working_days": 3})))
            .await
            .0,
        200
    );
    let (_, ready) = c.call("POST", t, t, Some(by_app)).await;
    assert_eq!(ready["eligibility"]["status"], "eligible");
    let request_id = ready["request_id"].as_str().unwrap().to_owned();
    let t = "/v1/cards/{request_id}/cryptogram";
    let p = format!("/v1/cards/{request_id}/cryptogram");
    let crypt = json!({"card_id_hex": "330300d15600000599110145ffffffff", "challenge_hex": "0102030405060708", "ef": "EF05"});
    assert_eq!(c.call("POST", t, &p, Some(crypt)).await.0, 200);
    let t = "/v1/cards/{request_id}/result";
    let p = format!("/v1/cards/{request_id}/result");
    let issued = json!({"outcome": "issued", "card_number": ready["card"]["card_number"]});
    assert_eq!(c.call("POST", t, &p, Some(issued)).await.0, 201);
    assert_eq!(
        c.call("POST", adv, adv, Some(json!({"hours": 30}))).await.0,
        200
    );

    let t = "/v1/lockers/ready";
    let (_, list) = c.call("POST", t, t, Some(json!({"kiosk_id": KIOSK}))).await;
    assert_eq!(list["applications"].as_array().unwrap().len(), 1);
    let t = "/v1/lockers/events";
    let event = json!({
        "event_id": Uuid::now_v7().to_string(), "kiosk_id": KIOSK, "kind": "deposit",
        "application_id": id, "compartment_label": "B03", "at": "2026-11-22T08:00:00Z",
        "pickup_code": "123456"
    });
    assert_eq!(c.call("POST", t, t, Some(event.clone())).await.0, 201);
    assert_eq!(c.call("POST", t, t, Some(event)).await.0, 200);

    let t = "/v1/evaluations";
    let evaluation = json!({
        "evaluation_id": Uuid::now_v7().to_string(), "kiosk_id": KIOSK, "application_id": id,
        "level": 5, "reasons": ["操作复杂"], "at": "2026-11-22T08:00:00Z"
    });
    assert_eq!(c.call("POST", t, t, Some(evaluation)).await.0, 201);

    let t = "/v1/catalogue";
    assert_eq!(c.call("GET", t, "/v1/catalogue?since=1", None).await.0, 304);
    let sc = "/sim/catalogue";
    let cat = json!({"version": "2", "files": {"one-things/birth.toml": "id = \"birth\"\n"}});
    assert_eq!(c.call("POST", sc, sc, Some(cat)).await.0, 200);
    assert_eq!(c.call("GET", t, "/v1/catalogue?since=1", None).await.0, 200);

    let t = "/v1/heartbeat";
    let hb = json!({
        "kiosk_id": KIOSK, "app_version": "0.1.0", "config_hash": "ab", "catalogue_version": "1",
        "devices": [{"class": "printer", "state": "online"}],
        "consumables": [{"name": "card_stock", "level": "low"}],
        "outbox_depth": 0, "at": "2026-11-22T08:00:00Z"
    });
    assert_eq!(c.call("POST", t, t, Some(hb)).await.0, 200);

    // A second application, refused.
    let s2 = serde_json::to_value(birth_submission()).unwrap();
    let id2 = s2["application_id"].as_str().unwrap().to_owned();
    c.call("POST", "/v1/applications", "/v1/applications", Some(s2))
        .await;
    let t = "/sim/refuse";
    let refuse = json!({"application_id": id2, "item_id": "birth-medical-certificate", "reason": "材料不全"});
    assert_eq!(c.call("POST", t, t, Some(refuse.clone())).await.0, 200);
    assert_eq!(c.call("POST", t, t, Some(refuse)).await.0, 409);
    let t = "/v1/progress/by-id-number";
    let (_, both) = c
        .call("POST", t, t, Some(json!({"id_number": MOTHER_ID})))
        .await;
    assert_eq!(both["applications"].as_array().unwrap().len(), 2);

    for t in ["/sim/stats", "/sim/sms", "/sim/heartbeats"] {
        assert_eq!(c.call("GET", t, t, None).await.0, 200);
    }
    let t = "/sim/applications/{application_id}";
    assert_eq!(
        c.call("GET", t, &format!("/sim/applications/{id}"), None)
            .await
            .0,
        200
    );
    assert_eq!(
        c.call(
            "GET",
            t,
            &format!("/sim/applications/{}", Uuid::now_v7()),
            None
        )
        .await
        .0,
        404
    );
    let t = "/sim/outage";
    assert_eq!(
        c.call("POST", t, t, Some(json!({"down": true}))).await.0,
        200
    );
    let t = "/v1/progress/by-code";
    assert_eq!(c.call("POST", t, t, Some(by_code)).await.0, 503);
    // Every route was exercised (the page upload by hand above).
    for route in ROUTES.iter().filter(|r| r.method != "PUT") {
        assert!(
            c.seen
                .iter()
                .any(|(m, t, _)| m == route.method && t == route.path),
            "{} {} not exercised",
            route.method,
            route.path
        );
    }
}

// ----- a small validator for the subset of OpenAPI 3.0 schemas the document uses -------

fn pointer<'a>(doc: &'a Value, r: &str) -> &'a Value {
    doc.pointer(r.trim_start_matches('#'))
        .unwrap_or(&Value::Null)
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(doc, pointer(doc, r)),
        None => v,
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    out.push(x.as_str().unwrap().to_owned());
                } else {
                    collect_refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

fn check(doc: &Value, value: &Value, schema: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    if schema.is_null() {
        return Err(format!("{at}: no schema"));
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            check(doc, value, s, at)?;
        }
    }
    if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
        let errors: Vec<String> = one
            .iter()
            .filter_map(|s| check(doc, value, s, at).err())
            .collect();
        let matched = one.len() - errors.len();
        if matched != 1 {
            return Err(format!(
                "{at}: {value} matches {matched} of oneOf ({errors:?})"
            ));
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {options:?}"));
    }
    let ty = schema
        .get("type")
        .and_then(Value::as_str)
        .or_else(|| schema.get("properties").map(|_| "object"));
    match ty {
        Some("object") => {
            let obj = value
                .as_object()
                .ok_or(format!("{at}: {value} is not an object"))?;
            for r in schema["required"].as_array().into_iter().flatten() {
                let r = r.as_str().unwrap();
                if !obj.contains_key(r) {
                    return Err(format!("{at}: missing required {r}"));
                }
            }
            for (k, v) in obj {
                let here = format!("{at}.{k}");
                if let Some(p) = schema.get("properties").and_then(|p| p.get(k)) {
                    check(doc, v, p, &here)?;
                } else if let Some(extra) = schema.get("additionalProperties") {
                    check(doc, v, extra, &here)?;
                } else {
                    return Err(format!("{here}: not in the schema"));
                }
            }
        }
        Some("array") => {
            let arr = value
                .as_array()
                .ok_or(format!("{at}: {value} is not an array"))?;
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && (arr.len() as u64) < min
            {
                return Err(format!("{at}: fewer than {min} items"));
            }
            for (i, v) in arr.iter().enumerate() {
                check(doc, v, &schema["items"], &format!("{at}[{i}]"))?;
            }
        }
        Some("string") => {
            let s = value
                .as_str()
                .ok_or(format!("{at}: {value} is not a string"))?;
            match schema.get("format").and_then(Value::as_str) {
                Some("uuid") if Uuid::parse_str(s).is_err() => {
                    return Err(format!("{at}: not a uuid"));
                }
                Some("date") if s.parse::<jiff::civil::Date>().is_err() => {
                    return Err(format!("{at}: not a date"));
                }
                Some("date-time") if s.parse::<jiff::Timestamp>().is_err() => {
                    return Err(format!("{at}: not a date-time"));
                }
                _ => {}
            }
        }
        Some("integer") => {
            let n = value
                .as_i64()
                .ok_or(format!("{at}: {value} is not an integer"))?;
            if schema
                .get("minimum")
                .and_then(Value::as_i64)
                .is_some_and(|m| n < m)
                || schema
                    .get("maximum")
                    .and_then(Value::as_i64)
                    .is_some_and(|m| n > m)
            {
                return Err(format!("{at}: {n} out of range"));
            }
        }
        Some("number") if !value.is_number() => return Err(format!("{at}: not a number")),
        Some("boolean") if !value.is_boolean() => return Err(format!("{at}: not a boolean")),
        _ => {}
    }
    Ok(())
}
