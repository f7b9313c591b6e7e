//! Datasets, grants, downloads, the sync manifest and queries (`API.md` §12), against the real
//! binary: who sees what, the upload rules, and a query sandbox that reaches nothing else.

use da_integration_tests::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

const PARQUET: &str = "application/vnd.apache.parquet";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(da_integration_tests::fixture_path(name)).expect("a fixture")
}

/// `PUT /api/datasets/{name}` as `token`: the status and the JSON answer.
async fn put(
    server: &TestServer,
    token: &str,
    name: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let response = server
        .http()
        .put(server.url(&format!("/api/datasets/{name}")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn call(
    server: &TestServer,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = server
        .http()
        .request(method, server.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn query(server: &TestServer, token: &str, sql: &str) -> (StatusCode, Value) {
    call(
        server,
        token,
        reqwest::Method::POST,
        "/api/query",
        Some(json!({ "sql": sql })),
    )
    .await
}

async fn token_of(server: &TestServer, email: &str, role: &str) -> (String, da_types::User) {
    let user = server.create_user(email, role, "password-123456").await;
    let token = server
        .client()
        .login(email, "password-123456")
        .await
        .unwrap()
        .access_token;
    (token, user)
}

#[tokio::test]
async fn datasets_are_uploaded_described_replaced_and_deleted() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (status, sales) = put(&server, &admin, "sales", PARQUET, fixture("sales.parquet")).await;
    assert_eq!(status, StatusCode::CREATED, "{sales}");
    assert_eq!(sales["rows"], 1000);
    assert_eq!(sales["format"], "parquet");
    assert_eq!(
        sales["columns"],
        json!([{"name": "id", "type": "BIGINT"}, {"name": "region", "type": "VARCHAR"},
               {"name": "amount", "type": "DECIMAL(10,2)"}, {"name": "day", "type": "DATE"}])
    );
    assert_eq!(sales["groups"], json!([]), "admins see the grants");
    assert_eq!(sales["sha256"].as_str().unwrap().len(), 64);

    // A CSV, with a description; replacing it answers 200 and keeps the description.
    let (status, people) = call(
        &server,
        &admin,
        reqwest::Method::GET,
        "/api/datasets/people",
        None,
    )
    .await;
    assert_eq!(
        (status, people["detail"].as_str()),
        (StatusCode::NOT_FOUND, Some("Dataset not found"))
    );
    let response = server
        .http()
        .put(server.url("/api/datasets/people?description=Who%20is%20who"))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(fixture("people.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let (status, again) = put(
        &server,
        &admin,
        "people",
        "text/csv; charset=utf-8",
        fixture("people.csv"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (again["rows"].as_u64(), again["description"].as_str()),
        (Some(3), Some("Who is who"))
    );

    // The upload rules, in words.
    for (name, content_type, body, expected) in [
        (
            "Bad-Name",
            PARQUET,
            fixture("sales.parquet"),
            (400, "Dataset name must match ^[a-z][a-z0-9_]{0,62}$"),
        ),
        (
            "junk",
            PARQUET,
            b"not parquet".to_vec(),
            (400, "Not a valid Parquet file"),
        ),
        ("junk", "application/json", b"{}".to_vec(), (415, "")),
    ] {
        let (status, answer) = put(&server, &admin, name, content_type, body).await;
        assert_eq!(status.as_u16(), expected.0, "{name}: {answer}");
        if !expected.1.is_empty() {
            assert_eq!(answer["detail"], expected.1);
        }
    }
    let (status, _) = call(
        &server,
        &admin,
        reqwest::Method::GET,
        "/api/datasets/junk",
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a refused upload leaves nothing"
    );

    let (status, changed) = call(
        &server,
        &admin,
        reqwest::Method::PATCH,
        "/api/datasets/sales",
        Some(json!({"description": "Orders", "min_role": "analyst"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            changed["description"].as_str(),
            changed["min_role"].as_str()
        ),
        (Some("Orders"), Some("analyst"))
    );
    let (status, refused) = call(
        &server,
        &admin,
        reqwest::Method::PATCH,
        "/api/datasets/sales",
        Some(json!({"min_role": "boss"})),
    )
    .await;
    assert_eq!(
        (status, refused["detail"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Unknown role: boss"))
    );

    let (status, _) = call(
        &server,
        &admin,
        reqwest::Method::DELETE,
        "/api/datasets/people",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &server,
        &admin,
        reqwest::Method::DELETE,
        "/api/datasets/people",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let audit = server
        .admin()
        .await
        .audit(&da_types::AuditParams {
            action_prefix: Some("dataset.".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = audit.rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "dataset.delete",
            "dataset.update",
            "dataset.put",
            "dataset.put",
            "dataset.put"
        ]
    );
}

#[tokio::test]
async fn only_readers_learn_that_a_dataset_exists() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    put(&server, &admin, "sales", PARQUET, fixture("sales.parquet")).await;
    put(&server, &admin, "people", "text/csv", fixture("people.csv")).await;
    let (viewer, viewer_user) = token_of(&server, "vic@example.com", "viewer").await;
    let (analyst, _) = token_of(&server, "ann@example.com", "analyst").await;
    let names = |answer: Value| -> Vec<String> {
        answer
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect()
    };

    // Nobody but admins until a minimum role or a grant says otherwise.
    let (_, listed) = call(
        &server,
        &viewer,
        reqwest::Method::GET,
        "/api/datasets",
        None,
    )
    .await;
    assert!(names(listed).is_empty());
    for path in [
        "/api/datasets/sales",
        "/api/datasets/sales/download",
        "/api/datasets/nope",
    ] {
        let (status, answer) = call(&server, &viewer, reqwest::Method::GET, path, None).await;
        assert_eq!(
            (status, answer["detail"].as_str()),
            (StatusCode::NOT_FOUND, Some("Dataset not found")),
            "{path}"
        );
    }
    let (status, refused) = query(&server, &viewer, "SELECT count(*) FROM sales").await;
    assert_eq!(
        (status, refused["detail"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Unknown dataset: sales"))
    );

    // A minimum role opens it to that role and above, on the very next request.
    call(
        &server,
        &admin,
        reqwest::Method::PATCH,
        "/api/datasets/sales",
        Some(json!({"min_role": "analyst"})),
    )
    .await;
    let (_, listed) = call(
        &server,
        &analyst,
        reqwest::Method::GET,
        "/api/datasets",
        None,
    )
    .await;
    assert_eq!(names(listed.clone()), ["sales"]);
    assert!(
        listed[0].get("groups").is_none(),
        "grants are for admins' eyes"
    );
    let (_, listed) = call(
        &server,
        &viewer,
        reqwest::Method::GET,
        "/api/datasets",
        None,
    )
    .await;
    assert!(names(listed).is_empty());

    // A grant to a group opens it to the group's members, whatever their role.
    let group = server
        .admin()
        .await
        .create_group(&da_types::CreateGroupRequest {
            name: "Readers".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let (status, _) = call(
        &server,
        &admin,
        reqwest::Method::PUT,
        &format!("/api/datasets/people/grants/{}", group.id),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, missing) = call(
        &server,
        &admin,
        reqwest::Method::PUT,
        &format!("/api/datasets/people/grants/{}", uuid::Uuid::new_v4()),
        None,
    )
    .await;
    assert_eq!(
        (status, missing["detail"].as_str()),
        (StatusCode::NOT_FOUND, Some("Group not found"))
    );
    server
        .admin()
        .await
        .add_group_member(group.id, viewer_user.id)
        .await
        .unwrap();
    let (_, listed) = call(
        &server,
        &viewer,
        reqwest::Method::GET,
        "/api/datasets",
        None,
    )
    .await;
    assert_eq!(names(listed), ["people"]);
    let (status, manifest) = call(
        &server,
        &viewer,
        reqwest::Method::GET,
        "/api/sync/manifest",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        manifest["datasets"][0]["download_path"],
        "/api/datasets/people/download"
    );
    assert_eq!(manifest["datasets"].as_array().unwrap().len(), 1);

    // The download: the bytes, an ETag of the sha256, and 304 for the same tag.
    let response = server
        .http()
        .get(server.url("/api/datasets/people/download"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(
        etag,
        format!(
            "\"{}\"",
            manifest["datasets"][0]["sha256"].as_str().unwrap()
        )
    );
    assert_eq!(
        response.bytes().await.unwrap().to_vec(),
        fixture("people.csv")
    );
    let cached = server
        .http()
        .get(server.url("/api/datasets/people/download"))
        .bearer_auth(&viewer)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

    // Revoking closes it again.
    let (status, _) = call(
        &server,
        &admin,
        reqwest::Method::DELETE,
        &format!("/api/datasets/people/grants/{}", group.id),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, again) = call(
        &server,
        &admin,
        reqwest::Method::DELETE,
        &format!("/api/datasets/people/grants/{}", group.id),
        None,
    )
    .await;
    assert_eq!(
        (status, again["detail"].as_str()),
        (StatusCode::NOT_FOUND, Some("Grant not found"))
    );
    let (status, _) = call(
        &server,
        &viewer,
        reqwest::Method::GET,
        "/api/datasets/people",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_query_reads_the_callers_datasets_and_answers_json_or_csv() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    put(&server, &admin, "sales", PARQUET, fixture("sales.parquet")).await;
    put(&server, &admin, "people", "text/csv", fixture("people.csv")).await;
    let (status, answer) = query(
        &server,
        &admin,
        "WITH r AS (SELECT region, sum(amount) AS total FROM sales GROUP BY region) \
         SELECT region, total FROM r ORDER BY region LIMIT 2",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["columns"],
        json!([{"name": "region", "type": "VARCHAR"}, {"name": "total", "type": "DECIMAL(38,2)"}])
    );
    assert_eq!(answer["rows"].as_array().unwrap().len(), 2);
    assert_eq!(answer["rows"][0][0], "region_0");
    assert_eq!(
        (answer["row_count"].as_u64(), answer["truncated"].as_bool()),
        (Some(2), Some(false))
    );

    let (_, capped) = call(
        &server,
        &admin,
        reqwest::Method::POST,
        "/api/query",
        Some(json!({"sql": "SELECT id FROM sales", "limit": 10})),
    )
    .await;
    assert_eq!(
        (capped["row_count"].as_u64(), capped["truncated"].as_bool()),
        (Some(10), Some(true))
    );
    let (status, bad) = call(
        &server,
        &admin,
        reqwest::Method::POST,
        "/api/query",
        Some(json!({"sql": "SELECT 1", "limit": 0})),
    )
    .await;
    assert_eq!(
        (status, bad["detail"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("limit must be between 1 and 100000")
        )
    );

    let csv = server
        .http()
        .post(server.url("/api/query"))
        .bearer_auth(&admin)
        .header("accept", "text/csv")
        .json(&json!({"sql": "SELECT id, name FROM people ORDER BY id"}))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        csv.text().await.unwrap(),
        "id,name\r\n1,alice\r\n2,\"bob, \"\"the\"\" builder\"\r\n3,\r\n"
    );
    // A large answer streams in batches: every row arrives, in order.
    let big = server
        .http()
        .post(server.url("/api/query"))
        .bearer_auth(&admin)
        .header("accept", "text/csv")
        .json(&json!({"sql": "SELECT range AS n, 'row ' || range AS label FROM range(150000)", "limit": 100000}))
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), StatusCode::OK);
    let text = big.text().await.unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        lines.len(),
        100_002,
        "the header, 100,000 rows, and the empty rest"
    );
    assert_eq!(
        (lines[0], lines[1], lines[100_000]),
        ("n,label", "0,row 0", "99999,row 99999")
    );
    // A refused query is refused before any CSV is written.
    let refused = server
        .http()
        .post(server.url("/api/query"))
        .bearer_auth(&admin)
        .header("accept", "text/csv")
        .json(&json!({"sql": "SELECT * FROM nowhere"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);

    let audit = server
        .admin()
        .await
        .audit(&da_types::AuditParams {
            action_prefix: Some("query.run".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.rows.len(), 4, "every query that ran");
    assert_eq!(
        audit.rows.last().unwrap().params["datasets"],
        json!(["sales"])
    );
}

#[tokio::test]
async fn nothing_but_the_callers_datasets_is_reachable_however_the_sql_is_written() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    put(&server, &admin, "sales", PARQUET, fixture("sales.parquet")).await;
    put(&server, &admin, "secret", "text/csv", fixture("people.csv")).await;
    call(
        &server,
        &admin,
        reqwest::Method::PATCH,
        "/api/datasets/sales",
        Some(json!({"min_role": "viewer"})),
    )
    .await;
    let (viewer, _) = token_of(&server, "vic@example.com", "viewer").await;
    let single = "Only a single SELECT statement is allowed";
    let only = "Only datasets can be queried";
    for (sql, expected) in [
        ("SELECT * FROM read_csv('/etc/passwd')", only),
        ("SELECT * FROM '/etc/passwd'", only),
        ("SELECT * FROM 'secret.csv'", only),
        ("select * from READ_PARQUET('x.parquet')", only),
        ("SELECT * FROM read_text('/etc/hostname')", only),
        ("SELECT * FROM glob('/*')", only),
        ("SELECT * FROM query('SELECT 1')", only),
        ("SELECT * FROM duckdb_settings()", only),
        ("SELECT * FROM duckdb_databases()", only),
        ("SELECT current_setting('allowed_paths')", only),
        ("SHOW allowed_paths", only),
        ("SELECT * FROM (SHOW home_directory)", only),
        ("SELECT * FROM (SHOW allowed_paths), sales", only),
        ("SUMMARIZE sqlite_master", only),
        ("DESCRIBE sales", only),
        ("SELECT * FROM (SUMMARIZE duckdb_views), sales", only),
        ("SELECT pg_get_viewdef(x) FROM range(100) r(x), sales", only),
        ("SELECT pg_catalog.current_database() FROM sales", only),
        (
            "SELECT * FROM sales WHERE id = (SELECT count(*) FROM read_csv('/etc/passwd'))",
            only,
        ),
        ("ATTACH '/tmp/x.db' AS x", single),
        ("COPY sales TO '/tmp/out.csv'", single),
        ("INSTALL httpfs", single),
        ("LOAD httpfs", single),
        ("SET enable_external_access = true", single),
        ("PRAGMA database_list", single),
        ("CREATE TABLE t AS SELECT 1", single),
        ("SELECT 1; SELECT 2", single),
        ("SELECT 1; ATTACH '/tmp/x.db'", single),
        ("SELECT * FROM secret", "Unknown dataset: secret"),
        ("SELECT * FROM \"SECRET\"", "Unknown dataset: secret"),
        (
            "SELECT * FROM information_schema.tables",
            "Unknown dataset: information_schema.tables",
        ),
        (
            "SELECT * FROM sqlite_master",
            "Unknown dataset: sqlite_master",
        ),
    ] {
        let (status, answer) = query(&server, &viewer, sql).await;
        assert_eq!(
            (status, answer["detail"].as_str()),
            (StatusCode::BAD_REQUEST, Some(expected)),
            "{sql}: {answer}"
        );
    }
    // What does run names no server path, whatever went wrong.
    for sql in [
        "SELECT nope FROM sales",
        "SELECT * FROM sales WHERE",
        "SELECT 1/0::int FROM sales",
    ] {
        let (_, answer) = query(&server, &viewer, sql).await;
        let text = answer.to_string();
        assert!(
            !text.contains("/tmp") && !text.contains("datasets/"),
            "{sql}: {text}"
        );
    }
    let (status, ok) = query(&server, &viewer, "select COUNT(*) AS n from Sales").await;
    assert_eq!(
        (status, ok["rows"][0][0].as_u64()),
        (StatusCode::OK, Some(1000))
    );
}
