//! Settings: defaults, then a TOML file, then `SHANZHI_*` environment variables, then flags —
//! each later source overriding the earlier.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// Where to listen by default.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Where the data lives by default.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://shanzhi.db";

/// The server's settings.
#[derive(Clone, PartialEq)]
pub struct Config {
    /// Address to listen on.
    pub bind: String,
    /// `sqlite://FILE` or `postgres://USER:PASS@HOST/DB`.
    pub database_url: String,
    /// A PostgreSQL streaming replica that serves the lists and the map's reads
    /// (`SHANZHI_REPLICA_URL`); a session that wrote reads from the primary until the replica
    /// has replayed its write.
    pub replica_url: Option<String>,
    /// Connections in the pool.
    pub max_connections: u32,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// Mark cookies `Secure` (set when served over HTTPS).
    pub cookie_secure: bool,
    /// How long a login lasts, in hours.
    pub session_hours: i64,
    /// Share of the smaller sibling's area two siblings may overlap on import.
    pub overlap_tolerance: f64,
    /// Share of a node's area that may lie outside its parent on import.
    pub outside_tolerance: f64,
    /// How often each server checks whether the tree changed elsewhere, in seconds (also the
    /// housekeeping tick that renews the job lease).
    pub tree_poll_seconds: u64,
    /// How long the lease on the timed jobs lasts without renewal, in seconds: when several
    /// servers share a database, the bound on a dead server's jobs moving to another. At
    /// least three housekeeping ticks are used ([`Config::job_lease_ms`]).
    pub job_lease_seconds: u64,
    /// Peers whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed (a reverse proxy in
    /// front of the server). Default: loopback only.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// When set, `/metrics` also answers requests bearing `Authorization: Bearer <token>` from
    /// any address; without it only loopback clients read the metrics.
    pub metrics_token: Option<String>,
    /// Origins of browser apps allowed to call `/open311/v2` (CORS), e.g.
    /// `https://app.example.org`; `*` allows any. None by default.
    pub open311_cors_origins: Vec<String>,
    /// Personal-data keys `ID:HEX[,ID:HEX…]` (32 bytes each) with `pii_active_key` and
    /// `pii_index_key`; without them the keys live in `pii_key_file`.
    pub pii_keys: Option<String>,
    pub pii_active_key: Option<String>,
    pub pii_index_key: Option<String>,
    /// The key file (default: beside the SQLite database, `FILE.pii-keys`; with PostgreSQL
    /// `shanzhi.pii-keys` in the working directory). Created with fresh keys when missing.
    pub pii_key_file: Option<PathBuf>,
    /// How warnings (预警发布) leave the building: the outbox's senders and retry rules.
    pub warning: WarningSettings,
    /// The morning and evening briefings' times of day (早晚报), `HH:MM` China time, the
    /// morning one first. Each briefing covers the time since the one before.
    pub briefing_times: Vec<String>,
    /// The nodes whose centres get the scheduled briefings. Empty (the default): every county
    /// and town of the tree — the levels that hold a governance centre with analysts; a
    /// village's or a city's centre gets them on demand, or by naming it here.
    pub briefing_nodes: Vec<String>,
    /// A TrueType/OpenType font (a CJK one such as Noto Sans CJK, `.ttf`, `.otf` or `.ttc`)
    /// for the briefing charts' labels. Without it a few usual system paths are tried; with
    /// none found, charts are drawn without text (the .docx tables carry every figure).
    pub briefing_font: Option<PathBuf>,
}

/// The warning outbox's senders and rules. A channel without its setting is not sent: its
/// rows wait in the outbox (and are counted as pending) until a server that has it starts.
#[derive(Clone, PartialEq)]
pub struct WarningSettings {
    /// SMTP relay for e-mail, `HOST` (plain SMTP on `smtp_port`; an intranet relay, no TLS).
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    /// The From address of warning e-mail.
    pub smtp_from: String,
    /// The SMS gateway's webhook (`http://…`): one JSON POST per message, with an
    /// `Idempotency-Key` header (the outbox row id) the gateway may deduplicate on.
    pub sms_webhook_url: Option<String>,
    /// How often the outbox is polled, in milliseconds (a new warning also wakes it).
    pub poll_ms: u64,
    /// Attempts before a row is given up as failed.
    pub max_attempts: i64,
    /// The first retry's delay in seconds; each further one doubles it (capped at an hour).
    pub backoff_seconds: i64,
    /// The CAP `<sender>` and the Atom feed's author (an e-mail-like id of this centre).
    pub cap_sender: String,
    /// The public base URL (`https://gov.example.cn`) for absolute links in the CAP/Atom feed;
    /// without it the links are relative to the feed.
    pub public_url: Option<String>,
}

impl Default for WarningSettings {
    fn default() -> Self {
        WarningSettings {
            smtp_host: None,
            smtp_port: 25,
            smtp_from: "shanzhi@localhost".to_owned(),
            sms_webhook_url: None,
            poll_ms: 5_000,
            max_attempts: 8,
            backoff_seconds: 30,
            cap_sender: "shanzhi@localhost".to_owned(),
            public_url: None,
        }
    }
}

impl fmt::Debug for WarningSettings {
    /// The webhook URL may carry a token: only its scheme and host are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WarningSettings")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_from", &self.smtp_from)
            .field(
                "sms_webhook_url",
                &self.sms_webhook_url.as_deref().map(redact_webhook),
            )
            .field("poll_ms", &self.poll_ms)
            .field("max_attempts", &self.max_attempts)
            .field("backoff_seconds", &self.backoff_seconds)
            .field("cap_sender", &self.cap_sender)
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// `http://host:port/…?token` → `http://host:port/***`.
fn redact_webhook(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?']).next().unwrap_or("");
            let host = host.rsplit('@').next().unwrap_or(host);
            format!("{scheme}://{host}/***")
        }
        None => "***".to_owned(),
    }
}

impl Config {
    /// How imports are checked by default (create mode, the file's own coordinate system).
    pub fn import_options(&self) -> shanzhi_domain::tree::ImportOptions {
        shanzhi_domain::tree::ImportOptions {
            overlap_tolerance: self.overlap_tolerance,
            outside_tolerance: self.outside_tolerance,
            crs: None,
            update: false,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: DEFAULT_BIND.to_owned(),
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            replica_url: None,
            max_connections: 16,
            log_format: "text".to_owned(),
            cookie_secure: false,
            session_hours: 12,
            overlap_tolerance: shanzhi_domain::tree::DEFAULT_OVERLAP_TOLERANCE,
            outside_tolerance: shanzhi_domain::tree::DEFAULT_OUTSIDE_TOLERANCE,
            tree_poll_seconds: 5,
            job_lease_seconds: 30,
            trusted_proxies: vec![
                std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
                std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            ],
            metrics_token: None,
            open311_cors_origins: Vec::new(),
            pii_keys: None,
            pii_active_key: None,
            pii_index_key: None,
            pii_key_file: None,
            warning: WarningSettings::default(),
            briefing_times: vec!["08:00".to_owned(), "18:00".to_owned()],
            briefing_nodes: Vec::new(),
            briefing_font: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field(
                "database_url",
                &shanzhi_store::db::redact_url(&self.database_url),
            )
            .field(
                "replica_url",
                &self
                    .replica_url
                    .as_deref()
                    .map(shanzhi_store::db::redact_url),
            )
            .field("max_connections", &self.max_connections)
            .field("log_format", &self.log_format)
            .field("cookie_secure", &self.cookie_secure)
            .field("session_hours", &self.session_hours)
            .field("overlap_tolerance", &self.overlap_tolerance)
            .field("outside_tolerance", &self.outside_tolerance)
            .field("tree_poll_seconds", &self.tree_poll_seconds)
            .field("job_lease_seconds", &self.job_lease_seconds)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .field("open311_cors_origins", &self.open311_cors_origins)
            .field("pii_keys", &self.pii_keys.as_ref().map(|_| "***"))
            .field("pii_active_key", &self.pii_active_key)
            .field("pii_key_file", &self.pii_key_file)
            .field("warning", &self.warning)
            .field("briefing_times", &self.briefing_times)
            .field("briefing_nodes", &self.briefing_nodes)
            .field("briefing_font", &self.briefing_font)
            .finish()
    }
}

/// The keys a TOML file may set (all optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<String>,
    database_url: Option<String>,
    replica_url: Option<String>,
    max_connections: Option<u32>,
    log_format: Option<String>,
    cookie_secure: Option<bool>,
    session_hours: Option<i64>,
    overlap_tolerance: Option<f64>,
    outside_tolerance: Option<f64>,
    tree_poll_seconds: Option<u64>,
    job_lease_seconds: Option<u64>,
    trusted_proxies: Option<Vec<String>>,
    metrics_token: Option<String>,
    open311_cors_origins: Option<Vec<String>>,
    pii_key_file: Option<PathBuf>,
    pii_active_key: Option<String>,
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    smtp_from: Option<String>,
    sms_webhook_url: Option<String>,
    outbox_poll_ms: Option<u64>,
    outbox_max_attempts: Option<i64>,
    outbox_backoff_seconds: Option<i64>,
    cap_sender: Option<String>,
    public_url: Option<String>,
    briefing_times: Option<Vec<String>>,
    briefing_nodes: Option<Vec<String>>,
    briefing_font: Option<PathBuf>,
}

/// Values given as command-line flags.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub config: Option<PathBuf>,
    pub bind: Option<String>,
    pub database_url: Option<String>,
}

impl Config {
    /// Loads the settings. `env` looks up an environment variable (a parameter so tests need
    /// not touch the process environment). The file is `--config`, else `SHANZHI_CONFIG`, else
    /// `shanzhi.toml` in the working directory if there is one.
    pub fn load(flags: &Flags, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Config> {
        let mut c = Config::default();
        let explicit = flags
            .config
            .clone()
            .or_else(|| env("SHANZHI_CONFIG").map(PathBuf::from));
        let file = match explicit {
            Some(p) => Some(p),
            None => Some(PathBuf::from("shanzhi.toml")).filter(|p| p.exists()),
        };
        if let Some(path) = file {
            c.apply_file(&path)?;
        }
        let parse = |name: &str, v: String| -> anyhow::Result<String> {
            anyhow::ensure!(!v.trim().is_empty(), "{name} is set but empty");
            Ok(v)
        };
        if let Some(v) = env("SHANZHI_BIND") {
            c.bind = parse("SHANZHI_BIND", v)?;
        }
        if let Some(v) = env("SHANZHI_DATABASE_URL") {
            c.database_url = parse("SHANZHI_DATABASE_URL", v)?;
        }
        if let Some(v) = env("SHANZHI_MAX_CONNECTIONS") {
            c.max_connections = v
                .parse()
                .context("SHANZHI_MAX_CONNECTIONS must be a number")?;
        }
        if let Some(v) = env("SHANZHI_REPLICA_URL") {
            c.replica_url = Some(v).filter(|u| !u.trim().is_empty());
        }
        if let Some(v) = env("SHANZHI_TREE_POLL_SECONDS") {
            c.tree_poll_seconds = v
                .parse()
                .context("SHANZHI_TREE_POLL_SECONDS must be a number of seconds")?;
        }
        if let Some(v) = env("SHANZHI_JOB_LEASE_SECONDS") {
            c.job_lease_seconds = v
                .parse()
                .context("SHANZHI_JOB_LEASE_SECONDS must be a number of seconds")?;
        }
        if let Some(v) = env("SHANZHI_LOG_FORMAT") {
            c.log_format = v;
        }
        if let Some(v) = env("SHANZHI_COOKIE_SECURE") {
            c.cookie_secure = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = env("SHANZHI_TRUSTED_PROXIES") {
            c.trusted_proxies = parse_addresses(&v)?;
        }
        if let Some(v) = env("SHANZHI_METRICS_TOKEN") {
            c.metrics_token = Some(v).filter(|t| !t.trim().is_empty());
        }
        if let Some(v) = env("SHANZHI_OPEN311_CORS_ORIGINS") {
            c.open311_cors_origins = v
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = env("SHANZHI_PII_KEYS") {
            c.pii_keys = Some(v).filter(|t| !t.trim().is_empty());
        }
        if let Some(v) = env("SHANZHI_PII_ACTIVE_KEY") {
            c.pii_active_key = Some(v).filter(|t| !t.trim().is_empty());
        }
        if let Some(v) = env("SHANZHI_PII_INDEX_KEY") {
            c.pii_index_key = Some(v).filter(|t| !t.trim().is_empty());
        }
        if let Some(v) = env("SHANZHI_PII_KEY_FILE") {
            c.pii_key_file = Some(PathBuf::from(v));
        }
        let w = &mut c.warning;
        let some = |v: String| Some(v).filter(|t| !t.trim().is_empty());
        if let Some(v) = env("SHANZHI_SMTP_HOST") {
            w.smtp_host = some(v);
        }
        if let Some(v) = env("SHANZHI_SMTP_PORT") {
            w.smtp_port = v
                .parse()
                .context("SHANZHI_SMTP_PORT must be a port number")?;
        }
        if let Some(v) = env("SHANZHI_SMTP_FROM") {
            w.smtp_from = parse("SHANZHI_SMTP_FROM", v)?;
        }
        if let Some(v) = env("SHANZHI_SMS_WEBHOOK_URL") {
            w.sms_webhook_url = some(v);
        }
        if let Some(v) = env("SHANZHI_CAP_SENDER") {
            w.cap_sender = parse("SHANZHI_CAP_SENDER", v)?;
        }
        if let Some(v) = env("SHANZHI_PUBLIC_URL") {
            w.public_url = some(v);
        }
        let list = |v: String| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        };
        if let Some(v) = env("SHANZHI_BRIEFING_TIMES") {
            c.briefing_times = list(v);
        }
        if let Some(v) = env("SHANZHI_BRIEFING_NODES") {
            c.briefing_nodes = list(v);
        }
        if let Some(v) = env("SHANZHI_BRIEFING_FONT") {
            c.briefing_font = Some(PathBuf::from(v)).filter(|p| !p.as_os_str().is_empty());
        }
        if let Some(v) = &flags.bind {
            c.bind = v.clone();
        }
        if let Some(v) = &flags.database_url {
            c.database_url = v.clone();
        }
        c.check()?;
        Ok(c)
    }

    fn apply_file(&mut self, path: &Path) -> anyhow::Result<()> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let f: FileConfig =
            toml::from_str(&text).with_context(|| format!("bad config file {}", path.display()))?;
        macro_rules! take {
            ($($k:ident),*) => { $( if let Some(v) = f.$k { self.$k = v; } )* };
        }
        take!(
            bind,
            database_url,
            max_connections,
            log_format,
            cookie_secure,
            session_hours,
            overlap_tolerance,
            outside_tolerance,
            tree_poll_seconds,
            job_lease_seconds,
            open311_cors_origins,
            briefing_times,
            briefing_nodes
        );
        if let Some(v) = f.replica_url {
            self.replica_url = Some(v).filter(|u| !u.trim().is_empty());
        }
        if let Some(v) = f.briefing_font {
            self.briefing_font = Some(v);
        }
        // Keys themselves are never read from the settings file: from the environment or the key file.
        if let Some(v) = f.pii_key_file {
            self.pii_key_file = Some(v);
        }
        if let Some(v) = f.pii_active_key {
            self.pii_active_key = Some(v);
        }
        if let Some(v) = f.trusted_proxies {
            self.trusted_proxies = parse_addresses(&v.join(","))?;
        }
        if let Some(v) = f.metrics_token {
            self.metrics_token = Some(v).filter(|t| !t.trim().is_empty());
        }
        let w = &mut self.warning;
        let some = |v: String| Some(v).filter(|t| !t.trim().is_empty());
        if let Some(v) = f.smtp_host {
            w.smtp_host = some(v);
        }
        if let Some(v) = f.smtp_port {
            w.smtp_port = v;
        }
        if let Some(v) = f.smtp_from {
            w.smtp_from = v;
        }
        if let Some(v) = f.sms_webhook_url {
            w.sms_webhook_url = some(v);
        }
        if let Some(v) = f.outbox_poll_ms {
            w.poll_ms = v;
        }
        if let Some(v) = f.outbox_max_attempts {
            w.max_attempts = v;
        }
        if let Some(v) = f.outbox_backoff_seconds {
            w.backoff_seconds = v;
        }
        if let Some(v) = f.cap_sender {
            w.cap_sender = v;
        }
        if let Some(v) = f.public_url {
            w.public_url = some(v);
        }
        Ok(())
    }

    /// The job lease's length in milliseconds: `job_lease_seconds`, but at least three
    /// housekeeping ticks (`tree_poll_seconds`), since the holder renews it once a tick.
    pub fn job_lease_ms(&self) -> i64 {
        let secs = self
            .job_lease_seconds
            .max(3 * self.tree_poll_seconds.max(1));
        1000 * secs as i64
    }

    /// Where the personal-data key file is (when the keys are not given in the environment).
    pub fn pii_key_path(&self) -> PathBuf {
        if let Some(p) = &self.pii_key_file {
            return p.clone();
        }
        match self
            .database_url
            .strip_prefix("sqlite://")
            .or_else(|| self.database_url.strip_prefix("sqlite:"))
        {
            Some(rest) if !rest.starts_with(":memory:") && !rest.is_empty() => {
                let file = rest.split('?').next().unwrap_or(rest);
                PathBuf::from(format!("{file}.pii-keys"))
            }
            _ => PathBuf::from("shanzhi.pii-keys"),
        }
    }

    /// The personal-data keyring: from the environment when `pii_keys` is set, else the key file.
    pub fn keyring(&self) -> anyhow::Result<shanzhi_store::pii::Keyring> {
        match (&self.pii_keys, &self.pii_index_key) {
            (Some(keys), Some(index)) => shanzhi_store::pii::Keyring::from_settings(
                keys,
                self.pii_active_key.as_deref(),
                index,
            )
            .context("SHANZHI_PII_KEYS / SHANZHI_PII_INDEX_KEY"),
            (Some(_), None) | (None, Some(_)) => anyhow::bail!(
                "set both SHANZHI_PII_KEYS and SHANZHI_PII_INDEX_KEY, or neither (then the key file is used)"
            ),
            (None, None) => {
                let path = self.pii_key_path();
                shanzhi_store::pii::Keyring::from_file(&path)
                    .with_context(|| format!("the personal-data key file {}", path.display()))
            }
        }
    }

    fn check(&self) -> anyhow::Result<()> {
        self.bind
            .parse::<std::net::SocketAddr>()
            .with_context(|| format!("bind address '{}' is not HOST:PORT", self.bind))?;
        shanzhi_store::Engine::of_url(&self.database_url)?;
        if let Some(r) = &self.replica_url {
            anyhow::ensure!(
                shanzhi_store::Engine::of_url(r)? == shanzhi_store::Engine::Postgres
                    && shanzhi_store::Engine::of_url(&self.database_url)?
                        == shanzhi_store::Engine::Postgres,
                "replica_url needs PostgreSQL for both the database and the replica"
            );
        }
        anyhow::ensure!(
            matches!(self.log_format.as_str(), "text" | "json"),
            "log_format must be text or json"
        );
        anyhow::ensure!(self.session_hours > 0, "session_hours must be positive");
        anyhow::ensure!(
            (0.0..1.0).contains(&self.overlap_tolerance),
            "overlap_tolerance must be in [0, 1)"
        );
        anyhow::ensure!(
            (0.0..1.0).contains(&self.outside_tolerance),
            "outside_tolerance must be in [0, 1)"
        );
        shanzhi_domain::briefing::Times::parse(&self.briefing_times)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for code in &self.briefing_nodes {
            shanzhi_domain::tree::NodeCode::parse(code)
                .map_err(|_| anyhow::anyhow!("briefing_nodes: {code} is not a node code"))?;
        }
        let w = &self.warning;
        anyhow::ensure!(
            w.max_attempts >= 1,
            "outbox_max_attempts must be at least 1"
        );
        anyhow::ensure!(
            w.backoff_seconds >= 1,
            "outbox_backoff_seconds must be at least 1"
        );
        anyhow::ensure!(w.poll_ms >= 10, "outbox_poll_ms must be at least 10");
        if let Some(u) = &w.sms_webhook_url {
            anyhow::ensure!(
                u.starts_with("http://"),
                "sms_webhook_url must be an http:// URL (the gateway on the intranet)"
            );
        }
        for o in &self.open311_cors_origins {
            anyhow::ensure!(
                is_origin(o),
                "open311_cors_origins: '{o}' is not * or an origin such as https://app.example.org (scheme and host, no path)"
            );
        }
        Ok(())
    }
}

/// A comma-separated list of IP addresses (empty: none).
fn parse_addresses(s: &str) -> anyhow::Result<Vec<std::net::IpAddr>> {
    s.split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| {
            a.parse()
                .with_context(|| format!("trusted proxy '{a}' is not an IP address"))
        })
        .collect()
}

/// `*`, or `scheme://host[:port]` with nothing after it (what a browser sends as Origin).
fn is_origin(o: &str) -> bool {
    if o == "*" {
        return true;
    }
    let Some((scheme, host)) = o.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let c = Config::load(&Flags::default(), env_of(&[])).unwrap();
        assert_eq!(c.bind, "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://shanzhi.db");
    }

    #[test]
    fn file_then_env_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:9001\"\ndatabase_url = \"sqlite://file.db\"\nsession_hours = 3\n",
        )
        .unwrap();
        let flags = Flags {
            config: Some(path.clone()),
            ..Flags::default()
        };
        let c = Config::load(&flags, env_of(&[])).unwrap();
        assert_eq!(
            (c.bind.as_str(), c.database_url.as_str(), c.session_hours),
            ("127.0.0.1:9001", "sqlite://file.db", 3)
        );

        let c = Config::load(&flags, env_of(&[("SHANZHI_BIND", "127.0.0.1:9002")])).unwrap();
        assert_eq!(c.bind, "127.0.0.1:9002");
        assert_eq!(c.database_url, "sqlite://file.db");

        let flags = Flags {
            bind: Some("127.0.0.1:9003".into()),
            ..flags
        };
        let c = Config::load(&flags, env_of(&[("SHANZHI_BIND", "127.0.0.1:9002")])).unwrap();
        assert_eq!(c.bind, "127.0.0.1:9003");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, "bnd = \"x\"\n").unwrap();
        assert!(Config::load(
            &Flags {
                config: Some(path),
                ..Flags::default()
            },
            env_of(&[])
        )
        .is_err());
        assert!(Config::load(
            &Flags::default(),
            env_of(&[("SHANZHI_DATABASE_URL", "mysql://x")])
        )
        .is_err());
        assert!(Config::load(&Flags::default(), env_of(&[("SHANZHI_BIND", "nowhere")])).is_err());
    }

    #[test]
    fn open311_cors_origins_come_from_the_file_or_the_environment() {
        let c = Config::load(
            &Flags::default(),
            env_of(&[(
                "SHANZHI_OPEN311_CORS_ORIGINS",
                "https://a.example.org, http://localhost:3000,",
            )]),
        )
        .unwrap();
        assert_eq!(
            c.open311_cors_origins,
            vec!["https://a.example.org", "http://localhost:3000"]
        );
        assert!(Config::load(&Flags::default(), env_of(&[]))
            .unwrap()
            .open311_cors_origins
            .is_empty());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, "open311_cors_origins = [\"*\"]\n").unwrap();
        let flags = Flags {
            config: Some(path),
            ..Flags::default()
        };
        assert_eq!(
            Config::load(&flags, env_of(&[]))
                .unwrap()
                .open311_cors_origins,
            vec!["*"]
        );
        for bad in ["app.example.org", "https://a.example.org/", "ftp://x"] {
            assert!(
                Config::load(
                    &Flags::default(),
                    env_of(&[("SHANZHI_OPEN311_CORS_ORIGINS", bad)])
                )
                .is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_hides_the_database_password() {
        let c = Config {
            database_url: "postgres://u:hunter2@localhost/db".into(),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        let c = Config {
            metrics_token: Some("t0ps3cret".into()),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("t0ps3cret"));
    }

    #[test]
    fn trusted_proxies_are_loopback_by_default_and_configurable() {
        let c = Config::load(&Flags::default(), env_of(&[])).unwrap();
        assert!(c.trusted_proxies.iter().all(|a| a.is_loopback()));
        let c = Config::load(
            &Flags::default(),
            env_of(&[("SHANZHI_TRUSTED_PROXIES", "10.0.0.1, ::1")]),
        )
        .unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(Config::load(
            &Flags::default(),
            env_of(&[("SHANZHI_TRUSTED_PROXIES", "proxy.local")])
        )
        .is_err());
    }
}
