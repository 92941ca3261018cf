//! HTTP load generator for `bench/run`: many concurrent clients on loopback against a running
//! `shanzhi serve`, latencies per request, JSON out. Not a criterion/divan bench.
//!
//! Environment:
//!   SHANZHI_BENCH_URL          base URL, e.g. http://127.0.0.1:18080 (required)
//!   SHANZHI_BENCH_USER         login (default admin); SHANZHI_BENCH_PASSWORD (default shanzhi-demo)
//!   SHANZHI_BENCH_MODE         get (default) or ingest
//!   SHANZHI_BENCH_PATHS        get: file with one path per line, requested round-robin; a line
//!                              `POST /path {json}` posts that body instead (searches)
//!   SHANZHI_BENCH_POINTS_FILE  ingest: points.csv from the locate bench (id,lon,lat,code)
//!   SHANZHI_BENCH_CATEGORY     ingest: category id (default 1)
//!   SHANZHI_BENCH_ACKED        ingest: file to write the acknowledged event ids to
//!   SHANZHI_BENCH_GZIP         get: set to ask for gzip (bytes are then counted compressed)
//!   SHANZHI_BENCH_CONCURRENCY  clients (default 64)
//!   SHANZHI_BENCH_REQUESTS     requests in all (default 2000); SHANZHI_BENCH_WARMUP (default 50)
//!
//! Exits non-zero when any request fails.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

enum Work {
    Get(Vec<String>),
    Ingest {
        points: Vec<(f64, f64)>,
        category: i64,
    },
}

struct Outcome {
    ms: f64,
    status: u16,
    bytes: usize,
    id: Option<i64>,
}

async fn one(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    work: &Work,
    i: usize,
    run: &str,
) -> Outcome {
    let t = Instant::now();
    let res = match work {
        Work::Get(paths) => {
            let line = &paths[i % paths.len()];
            let mut req = match line.strip_prefix("POST ").and_then(|l| l.split_once(' ')) {
                Some((path, body)) => client
                    .post(format!("{base}{path}"))
                    .header("content-type", "application/json")
                    .body(body.to_owned()),
                None => client.get(format!("{base}{line}")),
            }
            .bearer_auth(token);
            // Bytes on the wire as a browser would fetch them (the body is not unpacked).
            if std::env::var_os("SHANZHI_BENCH_GZIP").is_some() {
                req = req.header("Accept-Encoding", "gzip");
            }
            req.send().await
        }
        Work::Ingest { points, category } => {
            let (lon, lat) = points[i % points.len()];
            client
                .post(format!("{base}/api/v1/events"))
                .bearer_auth(token)
                .header("Idempotency-Key", format!("bench-{run}-{i}"))
                .json(&json!({"category_id": category, "description": format!("bench report {i}: 路灯不亮"), "lon": lon, "lat": lat}))
                .send()
                .await
        }
    };
    match res {
        Ok(r) => {
            let status = r.status().as_u16();
            let body = r.bytes().await.unwrap_or_default();
            let ms = t.elapsed().as_secs_f64() * 1e3;
            let id = if matches!(work, Work::Ingest { .. }) && status < 300 {
                serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
                    v.get("id")
                        .and_then(Value::as_i64)
                        .or_else(|| v.pointer("/event/id").and_then(Value::as_i64))
                })
            } else {
                None
            };
            Outcome {
                ms,
                status,
                bytes: body.len(),
                id,
            }
        }
        Err(_) => Outcome {
            ms: t.elapsed().as_secs_f64() * 1e3,
            status: 0,
            bytes: 0,
            id: None,
        },
    }
}

fn main() -> anyhow::Result<()> {
    let base =
        std::env::var("SHANZHI_BENCH_URL").map_err(|_| anyhow::anyhow!("set SHANZHI_BENCH_URL"))?;
    let user = std::env::var("SHANZHI_BENCH_USER").unwrap_or_else(|_| "admin".into());
    let password =
        std::env::var("SHANZHI_BENCH_PASSWORD").unwrap_or_else(|_| "shanzhi-demo".into());
    let mode = std::env::var("SHANZHI_BENCH_MODE").unwrap_or_else(|_| "get".into());
    let conc: usize = env_or("SHANZHI_BENCH_CONCURRENCY", 64).max(1);
    let total: usize = env_or("SHANZHI_BENCH_REQUESTS", 2000);
    let warmup: usize = env_or("SHANZHI_BENCH_WARMUP", 50);
    let work = if mode == "ingest" {
        let file = std::env::var("SHANZHI_BENCH_POINTS_FILE")
            .map_err(|_| anyhow::anyhow!("set SHANZHI_BENCH_POINTS_FILE"))?;
        let mut points = Vec::new();
        for line in std::fs::read_to_string(&file)?.lines() {
            let f: Vec<&str> = line.split(',').collect();
            // Only points that fall in a grid: a report outside every grid is a validation error.
            if f.len() >= 4 && !f[3].is_empty() {
                points.push((f[1].parse()?, f[2].parse()?));
            }
        }
        anyhow::ensure!(!points.is_empty(), "no located points in {file}");
        Work::Ingest {
            points,
            category: env_or("SHANZHI_BENCH_CATEGORY", 1),
        }
    } else {
        let file = std::env::var("SHANZHI_BENCH_PATHS")
            .map_err(|_| anyhow::anyhow!("set SHANZHI_BENCH_PATHS"))?;
        let paths: Vec<String> = std::fs::read_to_string(&file)?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        anyhow::ensure!(!paths.is_empty(), "no paths in {file}");
        Work::Get(paths)
    };
    let threads: usize = env_or("SHANZHI_BENCH_THREADS", 1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let client = reqwest::Client::builder().pool_max_idle_per_host(conc).build()?;
        let login: Value = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = login["token"].as_str().ok_or_else(|| anyhow::anyhow!("no token in login answer"))?.to_owned();
        let run = format!("{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos());
        let work = Arc::new(work);
        for i in 0..warmup {
            let o = one(&client, &base, &token, &work, total + i, &run).await;
            anyhow::ensure!(o.status > 0 && o.status < 300, "warm-up request failed with status {}", o.status);
        }
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..conc {
            let (client, base, token, work, next, run) = (client.clone(), base.clone(), token.clone(), work.clone(), next.clone(), run.clone());
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    out.push(one(&client, &base, &token, &work, i, &run).await);
                }
                out
            }));
        }
        let mut all = Vec::with_capacity(total);
        for t in tasks {
            all.extend(t.await?);
        }
        let secs = started.elapsed().as_secs_f64();
        let ok: Vec<&Outcome> = all.iter().filter(|o| o.status > 0 && o.status < 300).collect();
        let mut statuses = std::collections::BTreeMap::<String, usize>::new();
        for o in &all {
            *statuses.entry(o.status.to_string()).or_default() += 1;
        }
        let mut ms: Vec<f64> = all.iter().map(|o| o.ms).collect();
        ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let bytes = if ok.is_empty() { 0.0 } else { ok.iter().map(|o| o.bytes as f64).sum::<f64>() / ok.len() as f64 };
        let ids: Vec<i64> = all.iter().filter_map(|o| o.id).collect();
        if let Ok(path) = std::env::var("SHANZHI_BENCH_ACKED") {
            std::fs::write(&path, ids.iter().map(|i| format!("{i}\n")).collect::<String>())?;
        }
        let out = json!({
            "bench": "http", "mode": mode, "concurrency": conc, "requests": total, "ok": ok.len(),
            "statuses": statuses, "seconds": secs, "per_s": ok.len() as f64 / secs,
            "p50_ms": pct(&ms, 50.0), "p95_ms": pct(&ms, 95.0), "p99_ms": pct(&ms, 99.0), "max_ms": ms.last().copied().unwrap_or(f64::NAN),
            "mean_bytes": bytes, "acked_ids": ids.len(),
        });
        println!("{out}");
        anyhow::ensure!(ok.len() == all.len(), "{} of {} requests failed: {:?}", all.len() - ok.len(), all.len(), statuses);
        anyhow::Ok(())
    })
}
