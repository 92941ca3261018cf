//! `shanzhi demo`: builds a demo jurisdiction into a fresh database and serves it.

pub mod base;
pub mod boundary;
pub mod briefing;
pub mod consultation;
pub mod contract;
pub mod disclosure;
pub mod dispute;
pub mod division;
pub mod generate;
pub mod history;
pub mod ledger;
pub mod mediator;
pub mod opinion;
pub mod places;
pub mod points;
pub mod progress;
pub mod risk;

use std::collections::HashMap;
use std::fmt::Write;

use anyhow::Context;
use serde_json::json;
use shanzhi_domain::tree::Level;
use shanzhi_domain::user::{Password, Username};
use shanzhi_store::audit::AuditEntry;
use shanzhi_store::category::Category;
use shanzhi_store::history::HistoryCounters;
use shanzhi_store::node::NewNode;
use shanzhi_store::pii::Keyring;
use shanzhi_store::user::NewUser;
use shanzhi_store::Db;

pub use generate::{generate, DemoCity, Scale};

/// Every demo login has this password.
pub const DEMO_PASSWORD: &str = "shanzhi-demo";

/// Writes the demo city into `db`, which must hold no regions yet, with a year of events sized
/// for its scale.
pub async fn write(db: &Db, keys: &Keyring, city: &DemoCity, now_ms: i64) -> anyhow::Result<()> {
    write_with_events(db, keys, city, now_ms, history::events_a_year(city.scale)).await
}

/// Writes the demo city with `events` events of history (tests that need only the tree pass 0).
pub async fn write_with_events(
    db: &Db,
    keys: &Keyring,
    city: &DemoCity,
    now_ms: i64,
    events: usize,
) -> anyhow::Result<()> {
    write_in_parts(db, keys, city, now_ms, events, EVENTS_PER_PART).await
}

/// [`write_with_events`] with the history generated and written `events_per_part` events at a
/// time (the demo's own size is 200,000; tests take smaller parts to have several).
pub async fn write_in_parts(
    db: &Db,
    keys: &Keyring,
    city: &DemoCity,
    now_ms: i64,
    events: usize,
    events_per_part: usize,
) -> anyhow::Result<()> {
    anyhow::ensure!(events_per_part > 0, "a part holds at least one event");
    let existing = shanzhi_store::node::roots(db).await?;
    anyhow::ensure!(
        existing.is_empty(),
        "the database already holds a tree (root {}); the demo needs an empty database",
        existing[0].code
    );
    let nodes: Vec<NewNode> = city
        .nodes
        .iter()
        .map(|n| NewNode {
            code: n.code.clone(),
            parent: n.parent.clone(),
            level: n.level,
            name: n.name.clone(),
            shape: n.shape.clone(),
        })
        .collect();
    let tree = progress::spinner("tree");
    let audit = AuditEntry::new(None, "demo.build", "node", city.root.as_str())
        .after(json!({"scale": city.scale.as_str(), "seed": city.seed, "nodes": nodes.len()}));
    shanzhi_store::node::insert_all(db, &nodes, &audit, now_ms)
        .await
        .context("writing the tree")?;
    tree.finish_and_clear();

    let mut department_ids = Vec::with_capacity(city.departments.len());
    for d in &city.departments {
        let row = shanzhi_store::department::insert(db, &d.code, &d.name, &d.region, None, now_ms)
            .await?;
        department_ids.push(row.id);
    }

    // One argon2id hash for every demo login: they share the published demo password, and
    // hashing thousands of them one by one would only slow the demo down.
    let password = Password::typed(DEMO_PASSWORD)?;
    let hash = tokio::task::spawn_blocking(move || crate::password::hash(&password)).await??;
    let users_bar = progress::bar(city.users.len() as u64, "users");
    let mut users = Vec::with_capacity(city.users.len());
    for u in &city.users {
        users.push(NewUser {
            username: Username::parse(&u.username)?,
            display_name: u.display_name.clone(),
            password_hash: hash.clone(),
            role: u.role,
            scope: u.scope.clone(),
            department_id: u.department.map(|i| department_ids[i]),
        });
    }
    for chunk in users.chunks(20_000) {
        shanzhi_store::user::insert_many(db, chunk, now_ms)
            .await
            .context("writing the demo users")?;
        users_bar.inc(chunk.len() as u64);
    }
    users_bar.finish_and_clear();
    // The demo's citizens leave a (made-up) phone for call-backs (回访).
    let phones = progress::spinner("citizens' phones");
    for (i, u) in city
        .users
        .iter()
        .filter(|u| u.role == shanzhi_domain::user::Role::Citizen)
        .enumerate()
    {
        if let Some((row, _)) =
            shanzhi_store::user::for_login(db, &Username::parse(&u.username)?).await?
        {
            let phone = format!("1380013{:04}", 8000 + i);
            shanzhi_store::user::set_phone(db, keys, row.id, Some(&phone), None, now_ms)
                .await
                .context("writing the demo citizens' phones")?;
        }
    }

    phones.finish_and_clear();
    let categories = write_categories(db, now_ms).await?;
    // The demo runs 一网五单 over its whole jurisdiction: reports reach the grid first (网格接单).
    shanzhi_store::grid_first::set(db, &city.root, Some(true), None, now_ms)
        .await
        .context("turning on the grid-first rule")?;
    let user_ids = user_ids(db, city).await?;
    let population = progress::spinner("residents");
    base::write(db, keys, city, &user_ids, now_ms)
        .await
        .context("writing the residents")?;
    population.finish_and_clear();
    let registers = progress::spinner("places");
    places::write(db, keys, city, now_ms)
        .await
        .context("writing the places and organisations")?;
    registers.finish_and_clear();
    let mediators = progress::spinner("mediators");
    let mediator_ids = mediator::write(db, city, &user_ids, now_ms)
        .await
        .context("writing the mediator pool")?;
    mediators.finish_and_clear();
    // A year of dispute cases goes with the year of events, in proportion (none when the tree
    // alone is asked).
    let cases =
        dispute::cases_a_year(city.scale) * events / history::events_a_year(city.scale).max(1);
    let mediation = progress::spinner("disputes");
    dispute::write(db, keys, city, &user_ids, &mediator_ids, cases, now_ms)
        .await
        .context("writing the year of dispute cases")?;
    mediation.finish_and_clear();
    // The stability centre's rules and a year of clues and risks, in proportion too.
    let risks = risk::clues_a_year(city.scale) * events / history::events_a_year(city.scale).max(1);
    let board = progress::spinner("risks");
    risk::write(
        db,
        city,
        &categories,
        &department_ids,
        &user_ids,
        risks,
        now_ms,
    )
    .await
    .context("writing the year of risks")?;
    board.finish_and_clear();
    let books = progress::spinner("village books");
    ledger::write(db, city, &user_ids, now_ms)
        .await
        .context("writing the village books")?;
    disclosure::write(db, city, &user_ids, now_ms)
        .await
        .context("writing the village notices and questions")?;
    books.finish_and_clear();
    let register = progress::spinner("village contracts");
    contract::write(db, city, &user_ids, now_ms)
        .await
        .context("writing the village contracts")?;
    register.finish_and_clear();
    let shop = progress::spinner("village points");
    points::write(db, city, &user_ids, now_ms)
        .await
        .context("writing the village points")?;
    shop.finish_and_clear();
    let say = progress::spinner("consultations and legislative opinions");
    consultation::write(db, &user_ids, now_ms)
        .await
        .context("writing the village consultations")?;
    opinion::write(db, city, &user_ids, now_ms)
        .await
        .context("writing the legislative drafts and opinions")?;
    say.finish_and_clear();
    let inputs = history::Inputs {
        city,
        categories: &categories,
        department_ids: &department_ids,
        user_ids: &user_ids,
        now_ms,
    };
    write_history(db, &inputs, events, events_per_part).await?;
    // The points of the year's confirmed reports, as the live sweep gives them.
    let points = progress::spinner("report points");
    crate::points::sweep_db(db, now_ms)
        .await
        .context("giving the points of the confirmed reports")?;
    points.finish_and_clear();
    Ok(())
}

/// Creates the demo's category tree, parents first.
async fn write_categories(db: &Db, now_ms: i64) -> anyhow::Result<Vec<Category>> {
    let mut ids: HashMap<&str, i64> = HashMap::new();
    let mut out = Vec::with_capacity(history::CATEGORIES.len());
    for seed in &history::CATEGORIES {
        let parent_id =
            match seed.parent {
                Some(p) => Some(*ids.get(p).with_context(|| {
                    format!("category {} comes before its parent {p}", seed.code)
                })?),
                None => None,
            };
        let row = shanzhi_store::category::insert(db, &seed.input(parent_id), None, now_ms)
            .await
            .with_context(|| format!("writing category {}", seed.code))?;
        ids.insert(seed.code, row.id);
        out.push(row);
    }
    Ok(out)
}

/// The ids of the demo's logins, by username.
async fn user_ids(db: &Db, city: &DemoCity) -> anyhow::Result<HashMap<String, i64>> {
    let mut out = HashMap::with_capacity(city.users.len());
    let mut after = 0;
    loop {
        let page = shanzhi_store::user::list_under(db, &city.root, after, 10_000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        out.extend(page.into_iter().map(|u| (u.username, u.id)));
    }
    // Citizens have no scope, so the subtree listing does not hold them.
    let missing: Vec<&str> = city
        .users
        .iter()
        .map(|u| u.username.as_str())
        .filter(|u| !out.contains_key(*u))
        .collect();
    for u in missing {
        if let Some((row, _)) = shanzhi_store::user::for_login(db, &Username::parse(u)?).await? {
            out.insert(row.username, row.id);
        }
    }
    Ok(out)
}

/// Events generated and written per part: a large history (millions of events) is written in
/// parts so that memory stays bounded; counters of later parts add to the earlier ones.
const EVENTS_PER_PART: usize = 200_000;

/// One part of the history: its events and timelines, and the counters recounted from them.
struct Part {
    year: history::History,
    counters: HistoryCounters,
}

/// Generates part `part` (`n` events numbered from `first_id`) and recounts its figures.
fn make_part(
    inputs: &history::Inputs<'_>,
    part: u64,
    first_id: i64,
    n: usize,
) -> anyhow::Result<Part> {
    let started = std::time::Instant::now();
    // The first part keeps the city's seed, so small demos are what they always were.
    let seed = inputs.city.seed ^ part.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let year = history::generate_history(inputs, seed, first_id, n);
    let generate_s = started.elapsed().as_secs_f64();
    let mut recount = crate::event::Recount::default();
    for (line, event) in year.log_rows() {
        recount
            .add(&line, event)
            .map_err(|e| anyhow::anyhow!("recounting event {}: {}", event.id, e.message))?;
    }
    let recount_s = started.elapsed().as_secs_f64() - generate_s;
    let counters = HistoryCounters::new(recount.stat_rows(), recount.hist_rows());
    // Where the generator spends its time (`RUST_LOG=shanzhi::demo=debug`).
    tracing::debug!(
        part,
        generate_s,
        recount_s,
        counters_s = started.elapsed().as_secs_f64() - generate_s - recount_s,
        "made a part of the history"
    );
    Ok(Part { year, counters })
}

/// Writes the parts in order as they come; answers how many events they held and how many were
/// still open, and adds the writer's own time to `writing`.
async fn write_parts(
    db: &Db,
    parts: impl Iterator<Item = anyhow::Result<Part>>,
    count: usize,
    per_part: usize,
    writing: &mut std::time::Duration,
) -> anyhow::Result<history::Tally> {
    let mut tally = history::Tally::default();
    let bar = progress::bar(count as u64, "events");
    for part in parts {
        let Part { year, counters } = part?;
        let write_started = std::time::Instant::now();
        shanzhi_store::history::insert_history(db, &year.events, &year.logs, &counters)
            .await
            .context("writing the year of events")?;
        *writing += write_started.elapsed();
        let t = year.tally();
        tally.events += t.events;
        tally.open += t.open;
        bar.set_position(tally.events as u64);
        if count > per_part {
            tracing::info!(done = tally.events, count, "wrote events");
        }
    }
    bar.finish_and_clear();
    Ok(tally)
}

/// Builds a year of events, recounts their figures from the timelines, and writes it all. A
/// history of several parts is generated on a thread of its own, a part ahead of the writer:
/// generating and recounting a part (one core) goes on while the part before is written
/// (SQLite's writer, the other core).
async fn write_history(
    db: &Db,
    inputs: &history::Inputs<'_>,
    count: usize,
    per_part: usize,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // Rows go into their tables' own B-trees; the secondary indexes are made once at the end,
    // each by a sort, instead of row by row (SQLite; the demo's database is its own). They are
    // made again also when the load fails part-way, so the file never lacks them.
    let aside =
        shanzhi_store::history::set_indexes_aside(db, &shanzhi_store::history::HISTORY_TABLES)
            .await
            .context("setting the event indexes aside for the load")?;
    let mut writing = std::time::Duration::ZERO;
    // No events is still one (empty) part: the load's audit row says so.
    let parts = (0..count.max(1))
        .step_by(per_part)
        .enumerate()
        .map(|(part, done)| {
            let n = (count - done).min(per_part);
            make_part(inputs, part as u64, done as i64 + 1, n)
        });
    let runtime = tokio::runtime::Handle::current();
    let loaded = if count > per_part
        && runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
    {
        // This thread leaves the runtime's workers while it waits on the parts. The generator
        // makes the next part while this one is written and hands it over when the writer
        // takes it (two parts in memory at most); when the writer fails, the channel closes
        // and the generator stops after its current part.
        tokio::task::block_in_place(|| {
            std::thread::scope(|scope| {
                let (tx, rx) = std::sync::mpsc::sync_channel(0);
                scope.spawn(move || {
                    for part in parts {
                        if tx.send(part).is_err() {
                            return;
                        }
                    }
                });
                runtime.block_on(write_parts(
                    db,
                    rx.into_iter(),
                    count,
                    per_part,
                    &mut writing,
                ))
            })
        })
    } else {
        write_parts(db, parts, count, per_part, &mut writing).await
    };
    let write_started = std::time::Instant::now();
    let restored = shanzhi_store::history::restore_indexes(db, aside)
        .await
        .context("making the event indexes again");
    writing += write_started.elapsed();
    let tally = loaded?;
    restored?;
    // The history's rate, generation and recount included and the writer's alone (bench/run
    // reads this line).
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(
        events = tally.events,
        seconds = secs,
        per_s = tally.events as f64 / secs.max(1e-9),
        writer_per_s = tally.events as f64 / writing.as_secs_f64().max(1e-9),
        "wrote the history"
    );
    let _ = inputs.city.history.set(tally);
    Ok(())
}

/// Pads to a terminal width, counting CJK characters as two columns.
fn pad(text: &str, width: usize) -> String {
    let w: usize = text
        .chars()
        .map(|c| if (c as u32) >= 0x2E80 { 2 } else { 1 })
        .sum();
    format!("{text}{}", " ".repeat(width.saturating_sub(w)))
}

/// What the demo prints: the jurisdiction, the URL, and the logins to try.
pub fn summary(city: &DemoCity, url: &str, database: &str) -> String {
    let root_name = city
        .nodes
        .iter()
        .find(|n| n.code == city.root)
        .map(|n| n.name.as_str())
        .unwrap_or("");
    let mut s = String::new();
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "善治 Shanzhi demo — {root_name} ({} scale, seed {}): {} counties, {} towns, {} villages, {} grids, {} departments, {} users",
        city.scale.as_str(),
        city.seed,
        city.count(Level::County),
        city.count(Level::Town),
        city.count(Level::Village),
        city.grid_count(),
        city.departments.len(),
        city.users.len()
    );
    if city.residents > 0 {
        let _ = writeln!(
            s,
            "Residents: {} (synthetic: made-up names, ID numbers valid in form but nobody's), in households, buildings and houses, with care tags",
            city.residents
        );
    }
    if let Some(t) = city.history.get() {
        let _ = writeln!(
            s,
            "Events:   {} over the past year, {} still open",
            t.events, t.open
        );
    }
    let _ = writeln!(s, "Database: {database}");
    if url.starts_with("http") {
        let _ = writeln!(s, "Serving:  {url}   — staff console {url}/console, citizen portal {url}/m/, API {url}/api/v1");
    } else {
        let _ = writeln!(
            s,
            "Not serving (--no-serve). Serve it with: shanzhi serve --database-url {database}"
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Logins (every demo account's password is: {DEMO_PASSWORD})"
    );
    let mut shown = Vec::new();
    let pick = |prefix: &str| city.users.iter().find(|u| u.username.starts_with(prefix));
    for name in ["admin", "leader", "analyst", "mediator", "dispatcher"] {
        shown.extend(city.users.iter().find(|u| u.username == name));
    }
    // One dispatcher per centre level, one grid worker, one department handler, one citizen.
    let first_village_path = city
        .nodes
        .iter()
        .find(|n| n.level == Level::Village && city.root.contains(&n.code))
        .map(|n| n.code.path().to_owned());
    if let Some(v) = &first_village_path {
        for len in [6usize, 9, 12] {
            if v.len() >= len && len > city.root.path().len() {
                shown.extend(
                    city.users
                        .iter()
                        .find(|u| u.username == format!("disp-{}", &v[..len])),
                );
            }
        }
        shown.extend(
            city.users
                .iter()
                .find(|u| u.username == format!("gw-{v}001")),
        );
    }
    shown.extend(pick("h-cg-"));
    shown.extend(pick("h-ga-"));
    shown.extend(city.users.iter().find(|u| u.username == "citizen"));
    for u in shown {
        let _ = writeln!(
            s,
            "  {:<24} {} {}",
            u.username,
            pad(u.role.zh(), 16),
            u.display_name
        );
    }
    let _ = writeln!(s, "  … and disp-<region path> for every county, town and village centre, gw-<grid code> for every grid,");
    let _ = writeln!(
        s,
        "    h-<department code> for every department (e.g. h-cg-441502), citizen2 … citizen5."
    );
    let _ = writeln!(s);
    if !url.starts_with("http") {
        return s;
    }
    let (lon, lat) = city
        .nodes
        .iter()
        .find(|n| n.level.is_grid())
        .and_then(|n| n.inside)
        .unwrap_or((115.4, 22.9));
    let _ = writeln!(
        s,
        "Try:  curl -s '{url}/api/v1/locate?lon={lon:.6}&lat={lat:.6}'"
    );
    let _ = writeln!(
        s,
        "      curl -s -X POST {url}/api/v1/auth/login -H 'content-type: application/json' -d '{{\"username\":\"admin\",\"password\":\"{DEMO_PASSWORD}\"}}'"
    );
    s
}
