//! Spawning a server on port 0 with a fresh database, and helpers in domain words.

use std::io::Write;
use std::sync::{Arc, Once};

use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use shanzhi::clock::ManualClock;
use shanzhi::config::Config;
use shanzhi::http::state::AppState;
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::{Password, Role, Username};
use shanzhi_store::user::NewUser;
use shanzhi_store::Engine;

/// The password of every test user.
pub const PASSWORD: &str = "test-password-1";

/// Runs the body once per engine: SQLite always, PostgreSQL when SHANZHI_TEST_DATABASE_URL is set.
macro_rules! db_test {
    ($name:ident, |$app:ident| $body:block) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for engine in $crate::helpers::engines() {
                #[allow(unused_mut)]
                let mut $app = $crate::helpers::spawn_app(engine).await;
                $body
                $app.stop().await;
            }
        }
    };
}

/// The engines to run on; prints once that the PostgreSQL pass is skipped when it is.
pub fn engines() -> Vec<Engine> {
    static SKIPPED: Once = Once::new();
    match std::env::var("SHANZHI_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => vec![Engine::Sqlite, Engine::Postgres],
        _ => {
            SKIPPED.call_once(|| {
                // Written to the real stderr, past the test harness's capture, so it shows once.
                let _ = writeln!(
                    std::io::stderr(),
                    "PostgreSQL pass skipped: SHANZHI_TEST_DATABASE_URL is not set (SQLite pass runs)"
                );
            });
            vec![Engine::Sqlite]
        }
    }
}

/// A running server and what the tests need to poke it.
pub struct TestApp {
    pub url: String,
    pub state: AppState,
    pub clock: ManualClock,
    pub client: Client,
    pub engine: Engine,
    pub database_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// A logged-in user's bearer token.
#[derive(Clone)]
pub struct Session {
    pub token: String,
    pub user_id: i64,
}

/// A fresh database URL for the engine.
pub async fn fresh_database(engine: Engine, dir: &std::path::Path) -> String {
    match engine {
        Engine::Sqlite => format!("sqlite://{}/test.db", dir.display()),
        Engine::Postgres => {
            let admin_url =
                std::env::var("SHANZHI_TEST_DATABASE_URL").expect("SHANZHI_TEST_DATABASE_URL");
            let name = format!("shanzhi_test_{}_{}", host_tag(), rand_suffix());
            let admin = shanzhi_store::Db::connect(&admin_url, 2)
                .await
                .expect("connect to the PostgreSQL test server");
            if let shanzhi_store::Db::Postgres(pool) = &admin {
                static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
                SWEPT.get_or_init(|| drop_leftovers(pool)).await;
                drop_finished(pool).await;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(pool)
                    .await
                    .expect("create test database");
            }
            admin.close().await;
            MADE_HERE.with(|made| made.0.borrow_mut().push(name.clone()));
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&admin_url);
            format!("{base}/{name}")
        }
    }
}

/// The PostgreSQL test databases made on this thread. A test runs on a thread of its own
/// (`#[tokio::test]` runs its body there), so when the thread ends its databases are done
/// with: their names move to [`FINISHED`], and the next [`fresh_database`] drops them. Without
/// this a full run kept every test's database (≈ 13 MB each, twice with CI's replica) to the
/// end. So call [`fresh_database`] from the test itself, never from a thread or task that ends
/// before the test does: its database would be dropped while still in use.
struct MadeHere(std::cell::RefCell<Vec<String>>);

impl Drop for MadeHere {
    fn drop(&mut self) {
        let names = std::mem::take(&mut *self.0.borrow_mut());
        if let Ok(mut finished) = FINISHED.lock() {
            finished.extend(names);
        }
    }
}

thread_local! {
    static MADE_HERE: MadeHere = const { MadeHere(std::cell::RefCell::new(Vec::new())) };
}

static FINISHED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Drops the databases of tests that have ended (see [`MadeHere`]); a server or a previous
/// release's process still connected to one is disconnected first. The last tests' databases
/// are left to the next run's [`drop_leftovers`].
async fn drop_finished(pool: &sqlx::PgPool) {
    let names = FINISHED
        .lock()
        .map(|mut finished| std::mem::take(&mut *finished))
        .unwrap_or_default();
    for name in names {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(pool)
            .await;
    }
}

/// This machine's tag in test database names: a hash of its host name, so that runs on other
/// machines sharing the PostgreSQL server are told apart.
fn host_tag() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    // FNV-1a, 32 bits.
    let hash = host.trim().bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("{hash:08x}")
}

/// Drops the test databases that earlier test runs on this machine left on the server: those
/// named by this host and by a process that is no longer running
/// (`shanzhi_test_<host>_<pid>_…`). A database still in use, made by a test process running
/// now or by another machine is left alone. Once per test process.
async fn drop_leftovers(pool: &sqlx::PgPool) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'shanzhi\\_test\\_%'",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default();
    let host = host_tag();
    for name in names {
        let mut parts = name.split('_').skip(2);
        if parts.next() != Some(host.as_str()) {
            continue;
        }
        let Some(pid) = parts.next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        // Best effort: a database someone is still connected to stays until the next run.
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\""))
            .execute(pool)
            .await;
    }
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}_{}_{}", std::process::id(), t % 1_000_000_000, n)
}

/// Starts a server on 127.0.0.1:0 with a fresh database and a manual clock.
pub async fn spawn_app(engine: Engine) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database(engine, dir.path()).await;
    spawn_on(engine, database_url, dir).await
}

/// Starts a server like [`spawn_app`] with some settings changed.
pub async fn spawn_app_with(engine: Engine, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database(engine, dir.path()).await;
    spawn_with(engine, database_url, dir, tweak).await
}

/// Starts a server on an existing database (a second instance, for example).
pub async fn spawn_on(engine: Engine, database_url: String, dir: tempfile::TempDir) -> TestApp {
    spawn_with(engine, database_url, dir, |_| {}).await
}

pub async fn spawn_with(
    engine: Engine,
    database_url: String,
    dir: tempfile::TempDir,
    tweak: impl FnOnce(&mut Config),
) -> TestApp {
    let mut config = Config {
        database_url: database_url.clone(),
        bind: "127.0.0.1:0".into(),
        max_connections: 8,
        session_hours: 24 * 365,
        pii_key_file: Some(dir.path().join("test.pii-keys")),
        ..Config::default()
    };
    tweak(&mut config);
    let clock = ManualClock::new(1_795_000_000_000);
    let state = shanzhi::startup::build_state(config, Arc::new(clock.clone()))
        .await
        .expect("build state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let s = state.clone();
    let server = tokio::spawn(async move {
        let _ = shanzhi::startup::serve(listener, s, async move {
            let _ = rx.await;
        })
        .await;
    });
    TestApp {
        url,
        state,
        clock,
        client: Client::builder().build().expect("client"),
        engine,
        database_url,
        shutdown: Some(tx),
        server: Some(server),
        _dir: dir,
    }
}

impl TestApp {
    /// The test's own directory (the SQLite file and the personal-data key file live there).
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Asks the server to stop without waiting for it.
    pub fn begin_stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Stops the server, waiting for it to finish.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
    }

    /// Imports a FeatureCollection as the operator at the command line would.
    pub async fn import_as_operator(&self, collection: Value) {
        let opts = self.state.config.import_options();
        shanzhi::http::api::tree::import_features(&self.state, None, &collection, &opts, false)
            .await
            .unwrap_or_else(|e| panic!("seed import refused: {} {:?}", e.message, e.details));
    }

    /// A small town: 广东省 › 汕尾市 › 城区 › 新港街道 › two villages with two square grids each.
    /// Village 441502001001 spans lon 115.30–115.32, village 441502001002 lon 115.32–115.34,
    /// both lat 22.78–22.81; each grid is a 0.01° square along the villages' south edge
    /// (lat 22.78–22.79), leaving room in each village for grids drawn later.
    pub async fn seed_town(&self) {
        let mut features = vec![
            region("440000000000", "广东省", None),
            region("441500000000", "汕尾市", None),
            region("441502000000", "城区", None),
            region("441502001000", "新港街道", None),
            region(
                "441502001001",
                "立新社区",
                Some(rect(115.30, 22.78, 115.32, 22.81)),
            ),
            region(
                "441502001002",
                "新港社区",
                Some(rect(115.32, 22.78, 115.34, 22.81)),
            ),
        ];
        for (v, x0) in [("441502001001", 115.30), ("441502001002", 115.32)] {
            for i in 0..2 {
                let x = x0 + 0.01 * i as f64;
                features.push(grid(
                    &format!("{v}{:03}", i + 1),
                    &format!("网格{}", i + 1),
                    rect(x, 22.78, x + 0.01, 22.79),
                ));
            }
        }
        self.import_as_operator(json!({"type": "FeatureCollection", "features": features}))
            .await;
    }

    /// Creates a user directly in the store (as `shanzhi user add` would).
    pub async fn create_user(
        &self,
        username: &str,
        role: Role,
        scope: Option<&str>,
        department_id: Option<i64>,
    ) -> i64 {
        let hash = shanzhi::password::hash(&Password::typed(PASSWORD).unwrap()).unwrap();
        let new = NewUser {
            username: Username::parse(username).unwrap(),
            display_name: username.to_owned(),
            password_hash: hash,
            role,
            scope: scope.map(|s| NodeCode::parse(s).unwrap()),
            department_id,
        };
        shanzhi_store::user::insert(&self.state.db, &new, None, self.clock.now())
            .await
            .expect("create user")
            .id
    }

    /// Creates a user and logs them in.
    pub async fn user(&self, username: &str, role: Role, scope: Option<&str>) -> Session {
        self.create_user(username, role, scope, None).await;
        self.login(username).await
    }

    /// Logs in with the test password.
    pub async fn login(&self, username: &str) -> Session {
        self.login_with(username, PASSWORD).await
    }

    /// Logs in with a given password.
    pub async fn login_with(&self, username: &str, password: &str) -> Session {
        let r = self
            .post_json(
                "/api/v1/auth/login",
                None,
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "login {username}");
        let v: Value = r.json().await.unwrap();
        Session {
            token: v["token"].as_str().unwrap().to_owned(),
            user_id: v["user"]["id"].as_i64().unwrap(),
        }
    }

    /// GET with an optional bearer session.
    pub async fn get(&self, path: &str, who: Option<&Session>) -> Response {
        let mut req = self.client.get(format!("{}{path}", self.url));
        if let Some(s) = who {
            req = req.bearer_auth(&s.token);
        }
        req.send().await.expect("request")
    }

    /// GET as `who`, the answer's JSON (whatever the status).
    pub async fn get_json(&self, path: &str, who: &Session) -> Value {
        self.get(path, Some(who))
            .await
            .json()
            .await
            .expect("a JSON answer")
    }

    /// POST JSON with an optional bearer session.
    pub async fn post_json(&self, path: &str, who: Option<&Session>, body: Value) -> Response {
        let mut req = self.client.post(format!("{}{path}", self.url)).json(&body);
        if let Some(s) = who {
            req = req.bearer_auth(&s.token);
        }
        req.send().await.expect("request")
    }

    /// PATCH JSON with a bearer session.
    pub async fn patch_json(&self, path: &str, who: &Session, body: Value) -> Response {
        self.send_json(reqwest::Method::PATCH, path, who, body)
            .await
    }

    /// PUT JSON with a bearer session.
    pub async fn put_json(&self, path: &str, who: &Session, body: Value) -> Response {
        self.send_json(reqwest::Method::PUT, path, who, body).await
    }

    async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        who: &Session,
        body: Value,
    ) -> Response {
        self.client
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&who.token)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// Gives `who` one duty at `node` (its duties, as an administrator sets them) and checks
    /// that it was taken.
    pub async fn give_duty(&self, admin: &Session, who: &Session, node: &str, duty: &str) {
        let r = self
            .put_json(
                &format!("/api/v1/users/{}/duties", who.user_id),
                admin,
                json!({"duties": [{"node": node, "duty": duty}]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }

    /// Sends raw bytes as a JSON body.
    pub async fn post_raw(&self, path: &str, who: &Session, body: &'static str) -> Response {
        self.client
            .post(format!("{}{path}", self.url))
            .bearer_auth(&who.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request")
    }

    /// POSTs a file (`media`: its content type) as `who`: an import's upload.
    pub async fn upload(&self, path: &str, who: &Session, body: Vec<u8>, media: &str) -> Response {
        self.client
            .post(format!("{}{path}", self.url))
            .bearer_auth(&who.token)
            .header("content-type", media)
            .body(body)
            .send()
            .await
            .expect("request")
    }

    /// One number a query answers (a count, a sum).
    pub async fn scalar(&self, sql: &str) -> i64 {
        shanzhi_store::with_pool!(&self.state.db, pool => {
            sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.unwrap()
        })
    }

    /// Number of regions and grids stored.
    pub async fn node_count(&self) -> i64 {
        let all = shanzhi_store::node::roots(&self.state.db).await.unwrap();
        let mut n = 0;
        for r in all {
            n += shanzhi_store::node::count_by_level(&self.state.db, &r.code)
                .await
                .unwrap()
                .iter()
                .map(|(_, c)| c)
                .sum::<i64>();
        }
        n
    }
}

trait ClockExt {
    fn now(&self) -> i64;
}

impl ClockExt for ManualClock {
    fn now(&self) -> i64 {
        use shanzhi::clock::Clock;
        self.now_ms()
    }
}

/// A closed rectangle as a GeoJSON Polygon.
pub fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]})
}

/// A region feature (level from its code).
pub fn region(code: &str, name: &str, geometry: Option<Value>) -> Value {
    json!({"type": "Feature", "properties": {"code": code, "name": name}, "geometry": geometry})
}

/// A small-grid feature.
pub fn grid(code: &str, name: &str, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": {"code": code, "name": name, "level": "small"}, "geometry": geometry})
}

/// Asserts an error response's status and `{code, message, field}` shape; returns the body.
pub async fn assert_error(r: Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status, "status");
    let v: Value = r.json().await.expect("a JSON error body");
    assert!(v["code"].is_string(), "code in {v}");
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message in {v}"
    );
    assert!(v.get("field").is_some(), "field in {v}");
    v
}

/// The cast of the closed loop in the seeded town.
pub struct Cast {
    /// Dispatcher of village 441502001001's centre.
    pub dispatcher: Session,
    /// Dispatcher of the town 441502001000's centre.
    pub town_dispatcher: Session,
    /// Dispatcher of the other village, 441502001002.
    pub other_dispatcher: Session,
    /// Grid worker of grid 441502001001001.
    pub worker: Session,
    /// Handler of the county's 城管 (cg-441502) and 住建 (zj-441502) departments.
    pub cg: Session,
    pub zj: Session,
    pub citizen: Session,
    pub citizen2: Session,
    pub cg_id: i64,
    pub zj_id: i64,
    /// 暴露垃圾: may be resolved on the spot.
    pub garbage: i64,
    /// 燃气: needs a department, escalates after 240 red working minutes.
    pub gas: i64,
}

/// A point inside grid 441502001001001.
pub const IN_GRID: (f64, f64) = (115.305, 22.785);

impl TestApp {
    /// The seeded town plus categories, two county departments and one user per part.
    pub async fn seed_loop(&self) -> Cast {
        self.seed_town().await;
        let now = self.clock.now();
        let cg = shanzhi_store::department::insert(
            &self.state.db,
            "cg-441502",
            "城区城管局",
            &NodeCode::parse("441502000000").unwrap(),
            None,
            now,
        )
        .await
        .unwrap();
        let zj = shanzhi_store::department::insert(
            &self.state.db,
            "zj-441502",
            "城区住建局",
            &NodeCode::parse("441502000000").unwrap(),
            None,
            now,
        )
        .await
        .unwrap();
        let cat = |code: &str, name: &str, kind: &str, on_spot: bool, escalate: Option<i64>| {
            shanzhi_store::category::CategoryInput {
                code: code.into(),
                parent_id: None,
                name: name.into(),
                department_kind: Some(kind.into()),
                accept_minutes: 60,
                handle_minutes: 420,
                verify_minutes: 420,
                priority: if escalate.is_some() { 1 } else { 3 },
                on_spot,
                escalate_after_minutes: escalate,
                active: true,
                grid_first: false,
            }
        };
        let garbage = shanzhi_store::category::insert(
            &self.state.db,
            &cat("exposed_garbage", "暴露垃圾", "cg", true, None),
            None,
            now,
        )
        .await
        .unwrap();
        let gas = shanzhi_store::category::insert(
            &self.state.db,
            &cat("gas", "燃气", "zj", false, Some(240)),
            None,
            now,
        )
        .await
        .unwrap();
        self.create_user("cg-handler", Role::Handler, None, Some(cg.id))
            .await;
        self.create_user("zj-handler", Role::Handler, None, Some(zj.id))
            .await;
        Cast {
            dispatcher: self
                .user("vdisp", Role::Dispatcher, Some("441502001001"))
                .await,
            town_dispatcher: self
                .user("tdisp", Role::Dispatcher, Some("441502001000"))
                .await,
            other_dispatcher: self
                .user("odisp", Role::Dispatcher, Some("441502001002"))
                .await,
            worker: self
                .user("worker", Role::GridWorker, Some("441502001001001"))
                .await,
            cg: self.login("cg-handler").await,
            zj: self.login("zj-handler").await,
            citizen: self.user("citizen", Role::Citizen, None).await,
            citizen2: self.user("citizen2", Role::Citizen, None).await,
            cg_id: cg.id,
            zj_id: zj.id,
            garbage: garbage.id,
            gas: gas.id,
        }
    }

    /// Reports an event at `IN_GRID` with an idempotency key; returns the response.
    pub async fn report_with_key(&self, who: &Session, category: i64, key: &str) -> Response {
        self.client
            .post(format!("{}/api/v1/events", self.url))
            .bearer_auth(&who.token)
            .header("idempotency-key", key)
            .json(&json!({"category_id": category, "description": "路边有一堆垃圾", "lon": IN_GRID.0, "lat": IN_GRID.1}))
            .send()
            .await
            .expect("request")
    }

    /// Reports an event and returns its id.
    pub async fn report(&self, who: &Session, category: i64) -> i64 {
        let key = format!("k-{}", rand_suffix());
        let r = self.report_with_key(who, category, &key).await;
        assert_eq!(r.status(), StatusCode::CREATED, "report");
        r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    /// Walks an order from acceptance through 住建 (zj) to a closed order, the department's
    /// result with `photos`.
    pub async fn close_order(&self, c: &Cast, id: i64, photos: Value) {
        self.act_ok(&c.dispatcher, id, "accept", json!({})).await;
        self.act_ok(
            &c.dispatcher,
            id,
            "dispatch",
            json!({"department_id": c.zj_id}),
        )
        .await;
        self.act_ok(&c.zj, id, "sign", json!({})).await;
        self.act_ok(
            &c.zj,
            id,
            "report_result",
            json!({"note": "已处理", "photos": photos}),
        )
        .await;
        self.act_ok(&c.worker, id, "verify", json!({"ok": true}))
            .await;
    }

    /// A hotline call taken by the village dispatcher, with the caller's `phone`; answers the
    /// event's id.
    pub async fn hotline_call(&self, c: &Cast, key: &str, phone: &str) -> i64 {
        let r = self
            .client
            .post(format!("{}/api/v1/hotline", self.url))
            .bearer_auth(&c.dispatcher.token)
            .header("idempotency-key", key)
            .json(
                &json!({"category_id": c.garbage, "description": "来电反映路灯不亮",
                "lon": IN_GRID.0, "lat": IN_GRID.1, "caller_name": "张三",
                "caller_phone": phone, "callback": true}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    /// Makes a move; returns the response.
    pub async fn act(&self, who: &Session, id: i64, action: &str, body: Value) -> Response {
        self.post_json(&format!("/api/v1/events/{id}/{action}"), Some(who), body)
            .await
    }

    /// Makes a move that must succeed; returns the event after it.
    pub async fn act_ok(&self, who: &Session, id: i64, action: &str, body: Value) -> Value {
        let r = self.act(who, id, action, body).await;
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{action} on {id}: {v}");
        v
    }

    /// The event as `who` sees it.
    pub async fn event(&self, who: &Session, id: i64) -> Value {
        let r = self.get(&format!("/api/v1/events/{id}"), Some(who)).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    /// Sets the manual clock to a China-time wall clock.
    pub fn set_local(&self, y: i32, m: u32, d: u32, h: u32, min: u32) {
        let date = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        self.clock
            .set(shanzhi_domain::calendar::local_ms(date, h * 60 + min));
    }
}

/// China-time wall clock as unix milliseconds.
pub fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
    shanzhi_domain::calendar::local_ms(
        chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap(),
        h * 60 + min,
    )
}

/// A real 1×1 PNG: the server accepts only whole images, checked structurally.
pub const TINY_PNG: &[u8] = include_bytes!("../../../domain/src/event/testdata/tiny.png");
/// A real 1×1 baseline JPEG.
pub const TINY_JPEG: &[u8] = include_bytes!("../../../domain/src/event/testdata/tiny.jpg");

/// A whole JPEG of at least `size` bytes: [`TINY_JPEG`] with comment (COM) segments after its SOI.
pub fn jpeg_of_size(size: usize) -> Vec<u8> {
    let mut out = TINY_JPEG[..2].to_vec();
    while out.len() + TINY_JPEG.len() - 2 < size {
        let data = (size - out.len()).clamp(1, 65_533);
        out.extend_from_slice(&[0xFF, 0xFE]);
        out.extend_from_slice(&((data + 2) as u16).to_be_bytes());
        out.resize(out.len() + data, b'.');
    }
    out.extend_from_slice(&TINY_JPEG[2..]);
    out
}

/// The Python of the test venv `.ci/run` makes (`.venv-ci`, with georeport, schemathesis and
/// aiosmtpd), or `SHANZHI_TEST_PYTHON`; None when there is none here.
pub fn python() -> Option<std::path::PathBuf> {
    let p = match std::env::var("SHANZHI_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => std::path::PathBuf::from(p),
        _ => std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv-ci/bin/python"),
    };
    p.exists().then_some(p)
}

/// The real binary serving a test's database (same key file) on a free port, logging
/// everything (`RUST_LOG=trace`, unless `env` says otherwise) to `server-PORT.log` in the test's
/// directory; `env` adds settings.
pub struct Served {
    child: std::process::Child,
    log: std::path::PathBuf,
}

impl Served {
    /// What the server has written to its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Starts it and waits for its health check; answers it and its base URL.
    pub async fn start(app: &TestApp, env: &[(&str, &str)]) -> (Served, String) {
        let bin = std::path::Path::new(env!("CARGO_BIN_EXE_shanzhi"));
        Served::start_binary(bin, app.dir(), &app.database_url, env).await
    }

    /// Starts `bin` (another release's binary, say) on `database_url` with the key file and the
    /// log in `dir`, and waits for its health check.
    pub async fn start_binary(
        bin: &std::path::Path,
        dir: &std::path::Path,
        database_url: &str,
        env: &[(&str, &str)],
    ) -> (Served, String) {
        use std::process::{Command, Stdio};
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join(format!("server-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(bin)
            .args(["serve", "--database-url", database_url])
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .env("SHANZHI_PII_KEY_FILE", dir.join("test.pii-keys"))
            // Everything the server could say, our code's and its libraries'.
            .env("RUST_LOG", "trace")
            .envs(env.iter().copied())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .expect("start shanzhi serve");
        // Killed when dropped, also when it does not come up.
        let served = Served { child, log };
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..300 {
            if let Ok(r) = reqwest::get(format!("{url}/healthz")).await {
                if r.status() == StatusCode::OK {
                    return (served, url);
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let log = std::fs::read_to_string(&served.log).unwrap_or_default();
        panic!("{} serve did not come up:\n{log}", bin.display());
    }

    /// Stops it with SIGTERM (a graceful stop) and answers its log.
    pub fn stop(mut self) -> String {
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log).unwrap()
        // Dropped here: the kill in `drop` finds the process gone.
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills it with SIGKILL, as a crash or a power cut would: nothing is finished or flushed.
    pub fn kill(self) {
        drop(self);
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A move on the server at `url` (a real binary's, another release's); answers the status and the body.
pub async fn act_at(
    client: &Client,
    url: &str,
    token: &str,
    id: i64,
    action: &str,
    body: Value,
) -> (StatusCode, Value) {
    let r = client
        .post(format!("{url}/api/v1/events/{id}/{action}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// GETs `path` on server `url` as `token` (or nobody); fails unless 200.
pub async fn get_at(client: &Client, url: &str, path: &str, token: Option<&str>) -> Value {
    let mut req = client.get(format!("{url}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{url}{path}");
    r.json().await.unwrap()
}
