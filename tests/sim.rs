//! The simulator answers like Graph: status codes, error bodies, paging, `$expand`, `$select`,
//! `$batch`, throttling headers, writes. Driven through the router with `oneshot` (no port).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tenantgate::sim::{Faults, Sim, SimConfig, Tenant, app};
use tower::ServiceExt;

struct Resp {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

async fn call(
    sim: &Arc<Sim>,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Resp {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "graph.test");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let resp = app(sim.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Resp {
        status,
        headers,
        body,
    }
}

async fn token(sim: &Arc<Sim>) -> String {
    let req = Request::builder()
        .method("POST")
        .uri("/contoso.onmicrosoft.com/oauth2/v2.0/token")
        .header("host", "graph.test")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(
            "grant_type=client_credentials&client_id=abc&client_secret=s&scope=https%3A%2F%2Fgraph.test%2F.default",
        ))
        .unwrap();
    let resp = app(sim.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = serde_json::from_slice(
        &axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_u64().unwrap() > 0);
    v["access_token"].as_str().unwrap().to_string()
}

fn sim_with(config: SimConfig) -> Arc<Sim> {
    Arc::new(Sim::new(Tenant::builtin("dev").unwrap(), config))
}

fn assert_graph_error(r: &Resp, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    assert_eq!(r.body["error"]["code"], code, "{}", r.body);
    assert!(r.body["error"]["message"].is_string());
    assert!(r.body["error"]["innerError"]["request-id"].is_string());
    assert!(r.body["error"]["innerError"]["date"].is_string());
}

#[tokio::test]
async fn reads_need_a_token_and_errors_have_graphs_shape() {
    let sim = sim_with(SimConfig::default());
    let r = call(
        &sim,
        "GET",
        "/beta/deviceManagement/configurationPolicies",
        None,
        None,
    )
    .await;
    assert_graph_error(&r, 401, "InvalidAuthenticationToken");
    let t = token(&sim).await;
    let r = call(
        &sim,
        "GET",
        "/beta/deviceManagement/configurationPolicies/nope",
        Some(&t),
        None,
    )
    .await;
    assert_graph_error(&r, 404, "ResourceNotFound");
    let r = call(&sim, "GET", "/v1.0/groups/nope", Some(&t), None).await;
    assert_graph_error(&r, 404, "Request_ResourceNotFound");
    // The settings catalog is beta-only.
    let r = call(
        &sim,
        "GET",
        "/v1.0/deviceManagement/configurationPolicies",
        Some(&t),
        None,
    )
    .await;
    assert_graph_error(&r, 400, "BadRequest");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("segment 'configurationPolicies'")
    );
    let r = call(
        &sim,
        "GET",
        "/beta/deviceManagement/nothingHere",
        Some(&t),
        None,
    )
    .await;
    assert_graph_error(&r, 400, "BadRequest");
}

#[tokio::test]
async fn lists_page_with_absolute_next_links_and_select() {
    let sim = sim_with(SimConfig {
        page_size: 4,
        ..SimConfig::default()
    });
    let t = token(&sim).await;
    let mut url = "/v1.0/groups?$select=id,displayName".to_string();
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        let r = call(&sim, "GET", &url, Some(&t), None).await;
        assert_eq!(r.status, StatusCode::OK);
        pages += 1;
        for g in r.body["value"].as_array().unwrap() {
            let keys: Vec<&String> = g.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["displayName", "id"], "only the selected properties");
            names.push(g["displayName"].as_str().unwrap().to_string());
        }
        match r.body["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(next.starts_with("http://graph.test/v1.0/groups?"), "{next}");
                assert!(
                    next.contains("%24select=id%2CdisplayName")
                        || next.contains("$select=id,displayName"),
                    "{next}"
                );
                url = next.trim_start_matches("http://graph.test").to_string();
            }
            None => break,
        }
    }
    assert_eq!(names.len(), 16);
    assert_eq!(pages, 4);
    // $top makes pages smaller; only users and groups take it beyond the default page
    // (up to 999, as Graph).
    let r = call(&sim, "GET", "/v1.0/groups?$top=2", Some(&t), None).await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 2);
    let r = call(&sim, "GET", "/v1.0/groups?$top=999", Some(&t), None).await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 16);
    assert!(r.body.get("@odata.nextLink").is_none());
    let r = call(
        &sim,
        "GET",
        "/beta/deviceManagement/deviceConfigurations?$top=50",
        Some(&t),
        None,
    )
    .await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn expand_on_lists_and_objects_like_graph() {
    let sim = sim_with(SimConfig {
        nav_page_size: 5,
        ..SimConfig::default()
    });
    let t = token(&sim).await;
    let list = call(
        &sim,
        "GET",
        "/beta/deviceManagement/configurationPolicies",
        Some(&t),
        None,
    )
    .await;
    let first = &list.body["value"][0];
    assert!(
        first.get("settings").is_none() && first.get("assignments").is_none(),
        "navigations only when expanded"
    );
    let r = call(
        &sim,
        "GET",
        "/beta/deviceManagement/configurationPolicies?$expand=settings",
        Some(&t),
        None,
    )
    .await;
    assert_graph_error(&r, 400, "BadRequest");
    let r = call(
        &sim,
        "GET",
        "/beta/deviceManagement/configurationPolicies?$expand=nonsense",
        Some(&t),
        None,
    )
    .await;
    assert_graph_error(&r, 400, "BadRequest");
    let r = call(
        &sim,
        "GET",
        "/beta/deviceManagement/configurationPolicies?$expand=assignments",
        Some(&t),
        None,
    )
    .await;
    assert!(r.body["value"][0]["assignments"].is_array());

    // A policy with 40 settings, read by id: 5 settings and a link to the rest.
    let av = list.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "WIN-SC-Defender-Antivirus")
        .unwrap();
    let id = av["id"].as_str().unwrap();
    let r = call(
        &sim,
        "GET",
        &format!("/beta/deviceManagement/configurationPolicies/{id}?$expand=settings"),
        Some(&t),
        None,
    )
    .await;
    assert!(
        r.body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#deviceManagement/configurationPolicies/$entity")
    );
    let mut count = r.body["settings"].as_array().unwrap().len();
    let mut next = r.body["settings@odata.nextLink"]
        .as_str()
        .map(str::to_string);
    while let Some(link) = next {
        let r = call(
            &sim,
            "GET",
            link.trim_start_matches("http://graph.test"),
            Some(&t),
            None,
        )
        .await;
        count += r.body["value"].as_array().unwrap().len();
        next = r.body["@odata.nextLink"].as_str().map(str::to_string);
    }
    let direct = call(
        &sim,
        "GET",
        &format!("/beta/deviceManagement/configurationPolicies/{id}/settings?$top=999"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(
        direct.body["value"].as_array().unwrap().len(),
        5,
        "pages never grow past the page size"
    );
    assert_eq!(count, 40);

    // Nested $expand: ADMX definition values with their presentations.
    let gp = call(
        &sim,
        "GET",
        "/beta/deviceManagement/groupPolicyConfigurations",
        Some(&t),
        None,
    )
    .await;
    let gid = gp.body["value"][0]["id"].as_str().unwrap();
    let plain = call(
        &sim,
        "GET",
        &format!("/beta/deviceManagement/groupPolicyConfigurations/{gid}/definitionValues"),
        Some(&t),
        None,
    )
    .await;
    assert!(plain.body["value"][0].get("definition").is_none());
    let full = call(
        &sim,
        "GET",
        &format!("/beta/deviceManagement/groupPolicyConfigurations/{gid}/definitionValues?$expand=definition,presentationValues($expand=presentation)"),
        Some(&t),
        None,
    )
    .await;
    let v0 = &full.body["value"][0];
    assert!(v0["definition"]["displayName"].is_string());
    assert!(v0["presentationValues"][0]["presentation"]["label"].is_string());
    // Lists leave script bodies out; the object read by id has them.
    let scripts = call(
        &sim,
        "GET",
        "/beta/deviceManagement/deviceManagementScripts",
        Some(&t),
        None,
    )
    .await;
    assert!(scripts.body["value"][0]["scriptContent"].is_null());
    let sid = scripts.body["value"][0]["id"].as_str().unwrap();
    let one = call(
        &sim,
        "GET",
        &format!("/beta/deviceManagement/deviceManagementScripts/{sid}"),
        Some(&t),
        None,
    )
    .await;
    assert!(one.body["scriptContent"].as_str().unwrap().len() > 10);
}

#[tokio::test]
async fn batch_counts_each_request_and_allows_twenty() {
    let sim = sim_with(SimConfig::default());
    let t = token(&sim).await;
    let reqs: Vec<Value> = (1..=21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/groups?$top=1"}))
        .collect();
    let r = call(
        &sim,
        "POST",
        "/v1.0/$batch",
        Some(&t),
        Some(json!({"requests": reqs})),
    )
    .await;
    assert_graph_error(&r, 400, "BadRequest");
    let before = sim.stats_json()["graph_requests"].as_u64().unwrap();
    let r = call(
        &sim,
        "POST",
        "/v1.0/$batch",
        Some(&t),
        Some(json!({"requests": [
            {"id": "a", "method": "GET", "url": "/groups?$top=1"},
            {"id": "b", "method": "GET", "url": "/groups/missing"},
        ]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let responses = r.body["responses"].as_array().unwrap();
    let a = responses.iter().find(|x| x["id"] == "a").unwrap();
    let b = responses.iter().find(|x| x["id"] == "b").unwrap();
    assert_eq!(a["status"], 200);
    assert_eq!(a["headers"]["Content-Type"], "application/json");
    assert!(a["body"]["value"].is_array());
    assert_eq!(b["status"], 404);
    assert_eq!(b["body"]["error"]["code"], "Request_ResourceNotFound");
    assert_eq!(
        sim.stats_json()["graph_requests"].as_u64().unwrap() - before,
        2
    );
    let r = call(&sim, "POST", "/v1.0/$batch", Some(&t), Some(json!({"requests": [
        {"id": "1", "method": "GET", "url": "/groups"}, {"id": "1", "method": "GET", "url": "/users"}]}))).await;
    assert_graph_error(&r, 400, "BadRequest");
}

#[tokio::test]
async fn throttling_sends_retry_after_except_on_conditional_access() {
    let sim = sim_with(SimConfig {
        faults: Faults {
            requests_per_second: Some(1.0),
            ..Faults::default()
        },
        ..SimConfig::default()
    });
    let t = token(&sim).await;
    let ok = call(&sim, "GET", "/v1.0/groups", Some(&t), None).await;
    assert_eq!(ok.status, StatusCode::OK);
    let r = call(&sim, "GET", "/v1.0/groups", Some(&t), None).await;
    assert_graph_error(&r, 429, "TooManyRequests");
    let secs: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&secs));
    let r = call(
        &sim,
        "GET",
        "/v1.0/identity/conditionalAccess/policies",
        Some(&t),
        None,
    )
    .await;
    assert_graph_error(&r, 429, "TooManyRequests");
    assert!(r.headers.get("retry-after").is_none());
    // Inside a batch, each throttled request carries its own Retry-After.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = call(&sim, "POST", "/v1.0/$batch", Some(&t), Some(json!({"requests": [
        {"id": "1", "method": "GET", "url": "/groups"}, {"id": "2", "method": "GET", "url": "/users"}]}))).await;
    assert_eq!(r.status, StatusCode::OK);
    let statuses: Vec<u64> = r.body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["status"].as_u64().unwrap())
        .collect();
    assert!(
        statuses.contains(&200) && statuses.contains(&429),
        "{statuses:?}"
    );
    let throttled = r.body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["status"] == 429)
        .unwrap();
    assert!(throttled["headers"]["Retry-After"].is_string());
    let bound = sim.bound();
    assert_eq!(bound["requests_per_second"], 1.0);
    assert_eq!(
        bound["seconds"].as_f64().unwrap(),
        bound["requests"].as_f64().unwrap()
    );
}

#[tokio::test]
async fn forbidden_collections_answer_403() {
    let sim = sim_with(SimConfig {
        faults: Faults {
            forbid: vec![
                "deviceManagement/deviceConfigurations".into(),
                "groups".into(),
            ],
            ..Faults::default()
        },
        ..SimConfig::default()
    });
    let t = token(&sim).await;
    let r = call(
        &sim,
        "GET",
        "/beta/deviceManagement/deviceConfigurations?$expand=assignments",
        Some(&t),
        None,
    )
    .await;
    assert_graph_error(&r, 403, "Forbidden");
    let r = call(&sim, "GET", "/v1.0/groups", Some(&t), None).await;
    assert_graph_error(&r, 403, "Authorization_RequestDenied");
    let r = call(
        &sim,
        "GET",
        "/beta/deviceManagement/configurationPolicies",
        Some(&t),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn create_update_assign_delete_and_audit() {
    let sim = sim_with(SimConfig::default());
    let t = token(&sim).await;
    let created = call(&sim, "POST", "/beta/deviceManagement/deviceConfigurations", Some(&t), Some(json!({
        "@odata.type": "#microsoft.graph.windows10GeneralConfiguration", "displayName": "New", "passwordRequired": true})))
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert!(created.body["createdDateTime"].is_string());
    let r = call(
        &sim,
        "PATCH",
        &format!("/beta/deviceManagement/deviceConfigurations/{id}"),
        Some(&t),
        Some(json!({"displayName": "Renamed"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = call(
        &sim,
        "POST",
        &format!("/beta/deviceManagement/deviceConfigurations/{id}/assign"),
        Some(&t),
        Some(json!({"assignments": [
        {"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "g1"}}]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["value"][0]["id"], format!("{id}_g1"));
    let r = call(
        &sim,
        "GET",
        &format!("/beta/deviceManagement/deviceConfigurations/{id}?$expand=assignments"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(r.body["displayName"], "Renamed");
    assert_eq!(r.body["assignments"][0]["target"]["groupId"], "g1");
    let r = call(
        &sim,
        "DELETE",
        &format!("/beta/deviceManagement/deviceConfigurations/{id}"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = call(
        &sim,
        "GET",
        &format!("/beta/deviceManagement/deviceConfigurations/{id}"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let audit = call(
        &sim,
        "GET",
        "/beta/deviceManagement/auditEvents?$filter=activityDateTime%20ge%202000-01-01T00:00:00Z",
        Some(&t),
        None,
    )
    .await;
    let ops: Vec<&str> = audit.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["activityOperationType"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["Create", "Patch", "Assign", "Delete"]);
    assert_eq!(
        audit.body["value"][1]["resources"][0]["resourceId"],
        id.as_str()
    );
}

#[tokio::test]
async fn token_endpoint_refuses_like_entra() {
    let sim = sim_with(SimConfig {
        auth: tenantgate::sim::SimAuth {
            client_secret: Some("right".into()),
            token_lifetime: Duration::from_secs(60),
            ..Default::default()
        },
        ..SimConfig::default()
    });
    let req = Request::builder()
        .method("POST")
        .uri("/t/oauth2/v2.0/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(
            "grant_type=client_credentials&client_id=abc&client_secret=wrong&scope=x%2F.default",
        ))
        .unwrap();
    let resp = app(sim.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let v: Value = serde_json::from_slice(
        &axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(v["error"], "invalid_client");
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215")
    );
    assert_eq!(v["error_codes"][0], 7000215);
}

#[tokio::test]
async fn a_503_can_carry_retry_after_as_seconds_or_an_http_date() {
    let sim = sim_with(SimConfig {
        faults: Faults {
            seed: 9,
            error_503: 1.0,
            retry_after_503: Some(2),
            ..Faults::default()
        },
        ..SimConfig::default()
    });
    let t = token(&sim).await;
    let (mut seconds, mut dates) = (0, 0);
    for _ in 0..20 {
        let r = call(&sim, "GET", "/v1.0/groups", Some(&t), None).await;
        assert_graph_error(&r, 503, "ServiceUnavailable");
        let value = r.headers["retry-after"].to_str().unwrap().to_string();
        if value == "2" {
            seconds += 1;
        } else {
            let at = httpdate::parse_http_date(&value).expect("an HTTP-date");
            let ahead = at
                .duration_since(std::time::SystemTime::now())
                .unwrap_or_default();
            assert!(ahead <= Duration::from_secs(3), "{value}");
            dates += 1;
        }
    }
    assert!(seconds > 0 && dates > 0, "{seconds} / {dates}");
}

#[tokio::test]
async fn batch_responses_come_in_any_order() {
    let sim = sim_with(SimConfig::default());
    let t = token(&sim).await;
    let reqs: Vec<Value> = (1..=20)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/groups?$top=1"}))
        .collect();
    let r = call(
        &sim,
        "POST",
        "/v1.0/$batch",
        Some(&t),
        Some(json!({ "requests": reqs })),
    )
    .await;
    let ids: Vec<String> = r.body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_by_key(|i| i.parse::<u32>().unwrap());
    assert_eq!(sorted, (1..=20).map(|i| i.to_string()).collect::<Vec<_>>());
    assert_ne!(ids, sorted, "20 responses in request order: not shuffled");
}

#[tokio::test]
async fn expanded_collections_page_on_list_items_and_inside_navigation_items() {
    let sim = sim_with(SimConfig {
        list_expansion_page_size: Some(1),
        nested_page_size: Some(1),
        nav_page_size: 1,
        ..SimConfig::default()
    });
    let t = token(&sim).await;
    // A device configuration with three assignments: one on the list item, then a link.
    let list = call(
        &sim,
        "GET",
        "/beta/deviceManagement/deviceConfigurations?$expand=assignments",
        Some(&t),
        None,
    )
    .await;
    let dc = list.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["assignments@odata.nextLink"].is_string())
        .expect("an item with more assignments than one");
    assert_eq!(dc["assignments"].as_array().unwrap().len(), 1);
    let link = dc["assignments@odata.nextLink"].as_str().unwrap();
    let id = dc["id"].as_str().unwrap();
    assert_eq!(
        link,
        format!(
            "http://graph.test/beta/deviceManagement/deviceConfigurations/{id}/assignments?$skiptoken=o1"
        )
    );
    let next = call(
        &sim,
        "GET",
        link.trim_start_matches("http://graph.test"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(next.body["value"].as_array().unwrap().len(), 1);
    assert!(next.body["@odata.nextLink"].is_string());
    // Scheduled action configurations inside scheduled actions: a link per item.
    let cps = call(
        &sim,
        "GET",
        "/beta/deviceManagement/deviceCompliancePolicies",
        Some(&t),
        None,
    )
    .await;
    let win = cps.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["displayName"] == "WIN-CP-Baseline")
        .expect("the Windows baseline");
    let cid = win["id"].as_str().unwrap();
    let rules = call(
        &sim,
        "GET",
        &format!("/beta/deviceManagement/deviceCompliancePolicies/{cid}/scheduledActionsForRule?$expand=scheduledActionConfigurations"),
        Some(&t),
        None,
    )
    .await;
    let rule = &rules.body["value"][0];
    assert_eq!(
        rule["scheduledActionConfigurations"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let nested = rule["scheduledActionConfigurations@odata.nextLink"]
        .as_str()
        .expect("a nested link");
    let rid = rule["id"].as_str().unwrap();
    assert!(
        nested.contains(&format!(
            "/deviceCompliancePolicies/{cid}/scheduledActionsForRule/{rid}/scheduledActionConfigurations?"
        )),
        "{nested}"
    );
    let page = call(
        &sim,
        "GET",
        nested.trim_start_matches("http://graph.test"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn expansions_on_a_read_by_id_can_be_paged_whole_or_cut_short() {
    use tenantgate::sim::ItemExpansion;
    for (mode, len, link) in [
        (ItemExpansion::Paged, 5, true),
        (ItemExpansion::Whole, 40, false),
        (ItemExpansion::Truncated, 5, false),
    ] {
        let sim = sim_with(SimConfig {
            item_expansion: mode,
            nav_page_size: 5,
            ..SimConfig::default()
        });
        let t = token(&sim).await;
        let id = {
            let tenant = sim.tenant();
            let c = tenant.coll("deviceManagement/configurationPolicies");
            c.order
                .iter()
                .find(|id| c.objs[*id].base["name"] == "WIN-SC-Defender-Antivirus")
                .unwrap()
                .clone()
        };
        let r = call(
            &sim,
            "GET",
            &format!("/beta/deviceManagement/configurationPolicies/{id}?$expand=settings"),
            Some(&t),
            None,
        )
        .await;
        assert_eq!(
            r.body["settings"].as_array().unwrap().len(),
            len,
            "{mode:?}"
        );
        assert_eq!(
            r.body["settings@odata.nextLink"].is_string(),
            link,
            "{mode:?}"
        );
    }
}

#[tokio::test]
async fn fault_rules_hit_only_their_part_of_a_collection() {
    use tenantgate::sim::{Fault, FaultRule, Target};
    let policies = "deviceManagement/configurationPolicies";
    let sim = sim_with(SimConfig {
        faults: Faults {
            rules: vec![
                FaultRule::new(policies, Target::Nav("settings".into()), Fault::Status(403)),
                FaultRule::parse("500:deviceManagement/deviceManagementScripts:item").unwrap(),
            ],
            ..Faults::default()
        },
        ..SimConfig::default()
    });
    let t = token(&sim).await;
    let list = call(
        &sim,
        "GET",
        &format!("/beta/{policies}?$expand=assignments"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(list.status, StatusCode::OK);
    let id = list.body["value"][0]["id"].as_str().unwrap().to_string();
    let one = call(
        &sim,
        "GET",
        &format!("/beta/{policies}/{id}"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(one.status, StatusCode::OK);
    let settings = call(
        &sim,
        "GET",
        &format!("/beta/{policies}/{id}/settings"),
        Some(&t),
        None,
    )
    .await;
    assert_graph_error(&settings, 403, "Forbidden");
    let scripts = call(
        &sim,
        "GET",
        "/beta/deviceManagement/deviceManagementScripts",
        Some(&t),
        None,
    )
    .await;
    assert_eq!(scripts.status, StatusCode::OK);
    let sid = scripts.body["value"][0]["id"].as_str().unwrap();
    let r = call(
        &sim,
        "GET",
        &format!("/beta/deviceManagement/deviceManagementScripts/{sid}"),
        Some(&t),
        None,
    )
    .await;
    assert_graph_error(&r, 500, "InternalServerError");
    assert!(FaultRule::parse("418:nowhere").is_err());
    assert!(FaultRule::parse("drop:groups:list:2").is_err());
    assert_eq!(
        FaultRule::parse("drop:groups:list:0.5")
            .unwrap()
            .probability,
        0.5
    );
}

#[tokio::test]
async fn paging_can_loop_and_objects_can_vanish_after_they_were_listed() {
    let scripts = "deviceManagement/deviceManagementScripts";
    let gone = Tenant::builtin("dev").unwrap().coll(scripts).order[0].clone();
    let sim = sim_with(SimConfig {
        faults: Faults {
            cycle: vec!["groups".into()],
            vanish: vec![gone.clone()],
            ..Faults::default()
        },
        ..SimConfig::default()
    });
    let t = token(&sim).await;
    let first = call(&sim, "GET", "/v1.0/groups", Some(&t), None).await;
    let link = first.body["@odata.nextLink"].as_str().unwrap().to_string();
    let again = call(
        &sim,
        "GET",
        link.trim_start_matches("http://graph.test"),
        Some(&t),
        None,
    )
    .await;
    assert_eq!(again.body["value"], first.body["value"]);
    assert_eq!(again.body["@odata.nextLink"].as_str(), Some(link.as_str()));
    // Readable until listed; then gone from reads and from lists.
    let by_id = format!("/beta/{scripts}/{gone}");
    assert_eq!(call(&sim, "GET", &by_id, Some(&t), None).await.status, 200);
    let list = call(&sim, "GET", &format!("/beta/{scripts}"), Some(&t), None).await;
    assert!(
        list.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == gone.as_str())
    );
    assert_graph_error(
        &call(&sim, "GET", &by_id, Some(&t), None).await,
        404,
        "ResourceNotFound",
    );
    let list = call(&sim, "GET", &format!("/beta/{scripts}"), Some(&t), None).await;
    assert!(
        !list.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == gone.as_str())
    );
}

#[test]
fn the_simulator_never_prints_its_client_secret() {
    let auth = tenantgate::sim::SimAuth {
        client_secret: Some("hunter2-secret".into()),
        ..Default::default()
    };
    let text = format!(
        "{auth:?} {:?}",
        SimConfig {
            auth: auth.clone(),
            ..SimConfig::default()
        }
    );
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("[redacted]"));
}

/// A token request: the status and the body, or why there was none.
async fn token_attempt(sim: &Arc<Sim>) -> (StatusCode, Result<Value, String>) {
    let req = Request::builder()
        .method("POST")
        .uri("/contoso.onmicrosoft.com/oauth2/v2.0/token")
        .header("host", "graph.test")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(
            "grant_type=client_credentials&client_id=abc&client_secret=s&scope=https%3A%2F%2Fgraph.test%2F.default",
        ))
        .unwrap();
    let resp = app(sim.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let body = match axum::body::to_bytes(resp.into_body(), usize::MAX).await {
        Ok(b) => serde_json::from_slice(&b).map_err(|e| format!("not JSON: {e}")),
        Err(e) => Err(format!("no body: {e}")),
    };
    (status, body)
}

#[tokio::test]
async fn the_token_endpoint_can_fail_for_a_while_like_entra() {
    use tenantgate::sim::{Fault, TokenOutage};
    let outage = TokenOutage::parse("2:drop,503,429,500,truncate,401,400").unwrap();
    assert_eq!(outage.after, 2);
    assert_eq!(outage.faults[0], Fault::Drop);
    assert_eq!(outage.faults[4], Fault::Truncate);
    let sim = sim_with(SimConfig {
        faults: Faults {
            token_outage: Some(outage),
            ..Faults::default()
        },
        ..SimConfig::default()
    });
    // The first two are answered.
    for _ in 0..2 {
        let (status, body) = token_attempt(&sim).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.unwrap()["access_token"].is_string());
    }
    // Then the faults, one each, in Entra's shape.
    let (_, body) = token_attempt(&sim).await;
    assert!(body.unwrap_err().starts_with("no body"), "not dropped");
    for (status, error, code) in [
        (503, "temporarily_unavailable", 90033),
        (429, "temporarily_unavailable", 90024),
        (500, "server_error", 50000),
    ] {
        let (s, body) = token_attempt(&sim).await;
        assert_eq!(s.as_u16(), status);
        let v = body.unwrap();
        assert_eq!(v["error"], error, "{v}");
        assert_eq!(v["error_codes"][0], code, "{v}");
        let description = v["error_description"].as_str().unwrap();
        assert!(description.starts_with(&format!("AADSTS{code}: ")), "{v}");
        assert!(v["correlation_id"].is_string() && v["timestamp"].is_string());
    }
    let (s, body) = token_attempt(&sim).await;
    assert_eq!(s, StatusCode::OK);
    let cut = body.unwrap_err();
    assert!(cut.starts_with("not JSON"), "{cut}");
    let (s, body) = token_attempt(&sim).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(body.unwrap()["error"], "invalid_client");
    let (s, body) = token_attempt(&sim).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body.unwrap()["error_codes"][0], 90002);
    // Over: tokens again.
    let (status, body) = token_attempt(&sim).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.unwrap()["access_token"].is_string());
    let stats = sim.stats_json();
    assert_eq!(stats["token_requests"], 10);
    assert_eq!(stats["tokens"], 3);
    assert_eq!(stats["faults"], 7);
    for bad in ["x:503", "1", "1:418", "1:503,nope", "1:"] {
        assert!(TokenOutage::parse(bad).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn a_token_can_expire_while_graph_works_through_a_batch() {
    use tenantgate::sim::{Fault, FaultRule};
    let rule = FaultRule::parse("expire:deviceManagement/deviceManagementScripts:item").unwrap();
    assert_eq!(rule.fault, Fault::Expire);
    let sim = sim_with(SimConfig {
        faults: Faults {
            rules: vec![rule],
            ..Faults::default()
        },
        ..SimConfig::default()
    });
    let t = token(&sim).await;
    let scripts = call(
        &sim,
        "GET",
        "/beta/deviceManagement/deviceManagementScripts",
        Some(&t),
        None,
    )
    .await;
    let ids: Vec<String> = scripts.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.len() >= 2);
    let batch = |ids: &[String]| {
        let mut reqs = vec![json!({"id": "1", "method": "GET", "url": "/groups?$top=1"})];
        for (i, id) in ids.iter().enumerate() {
            reqs.push(json!({"id": (i + 2).to_string(), "method": "GET",
                "url": format!("/deviceManagement/deviceManagementScripts/{id}")}));
        }
        json!({ "requests": reqs })
    };
    // The $batch is taken; the groups before the first script read are answered, the token
    // expires at the script and every request from there on is refused.
    let r = call(&sim, "POST", "/beta/$batch", Some(&t), Some(batch(&ids))).await;
    assert_eq!(r.status, StatusCode::OK);
    for resp in r.body["responses"].as_array().unwrap() {
        let status = resp["status"].as_u64().unwrap();
        if resp["id"] == "1" {
            assert_eq!(status, 200, "{resp}");
        } else {
            assert_eq!(status, 401, "{resp}");
            assert_eq!(resp["body"]["error"]["code"], "InvalidAuthenticationToken");
        }
    }
    // The token stays expired, on its own and for a $batch.
    let r = call(&sim, "GET", "/v1.0/groups", Some(&t), None).await;
    assert_graph_error(&r, 401, "InvalidAuthenticationToken");
    let r = call(&sim, "POST", "/beta/$batch", Some(&t), Some(batch(&ids))).await;
    assert_graph_error(&r, 401, "InvalidAuthenticationToken");
    // A new token goes everywhere: the rule hit once.
    let t2 = token(&sim).await;
    let r = call(&sim, "POST", "/beta/$batch", Some(&t2), Some(batch(&ids))).await;
    for resp in r.body["responses"].as_array().unwrap() {
        assert_eq!(resp["status"], 200, "{resp}");
    }
    assert_eq!(sim.stats_json()["faults"], 1);
}
