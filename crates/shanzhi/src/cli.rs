//! The command line: `serve`, `demo`, `migrate`, `backup`, `restore`, `audit verify`, `user add`,
//! `tree import|export|template`, `open311 add-client`, `briefing`. Standard output carries only what a
//! command prints (an export, a template, a summary); logs and errors go to standard error.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use shanzhi_domain::grid::Crs;
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::permission::{scope_kind, ScopeKind};
use shanzhi_domain::user::{Password, Role, Username};
use shanzhi_store::user::NewUser;
use shanzhi_store::Db;

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Flags, DEFAULT_DATABASE_URL};
use crate::demo::{self, Scale};
use crate::http::error::ApiError;
use crate::import::Register;
use crate::startup;
use crate::tree::sheet::{self, Format};
use crate::tree::template::{self, TemplateFormat};

/// 善治 Shanzhi — grid-based grassroots governance.
#[derive(Parser)]
#[command(name = "shanzhi", version, about)]
struct Cli {
    /// TOML settings file (default: ./shanzhi.toml if present; or SHANZHI_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Address to listen on, HOST:PORT (overrides SHANZHI_BIND).
    #[arg(long, global = true)]
    bind: Option<String>,
    /// sqlite://FILE or postgres://USER:PASS@HOST/DB (overrides SHANZHI_DATABASE_URL).
    #[arg(long, global = true, alias = "database")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web console, the API and the citizen portal.
    Serve,
    /// Build a demo jurisdiction with real division codes into a fresh database, then serve it.
    Demo {
        /// town ≈ 300 grids (碣石镇), city ≈ 5,000 (汕尾市), province ≈ 120,000 (广东省).
        #[arg(long, value_enum, default_value = "city")]
        scale: Scale,
        /// Seed of the synthetic boundaries (same seed, same city).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Build the database and exit (for benchmarks and scripts).
        #[arg(long)]
        no_serve: bool,
        /// Events of history over the past year (default by scale: town 1,000, city 20,000,
        /// province 100,000). Large numbers are written in parts of 200,000.
        #[arg(long)]
        events: Option<usize>,
        /// Residents of the demo's population (default: town 50,000 — its full population;
        /// city and province a sample of 20,000).
        #[arg(long)]
        residents: Option<usize>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Copy the database into FILE while the server runs: one consistent snapshot (SQLite: a
    /// SQLite file; PostgreSQL: a pg_dump archive). The personal-data keys stay out of it.
    Backup {
        /// The new file to write (must not exist).
        file: PathBuf,
        /// Also copy the personal-data key file to this new file (keep it apart from FILE).
        #[arg(long, value_name = "KEYFILE")]
        with_keys: Option<PathBuf>,
    },
    /// Restore a backup into the configured database, which must be new and empty; checks it
    /// (integrity, audit chain, keys) and brings its migrations up to date.
    Restore {
        /// A file written by `shanzhi backup`.
        file: PathBuf,
        /// The backup's personal-data key file, put in place once the restore passed its checks.
        #[arg(long, value_name = "KEYFILE")]
        keys: Option<PathBuf>,
    },
    /// Move months of events that are over and done with out of the database into FILE
    /// (PostgreSQL): every month before BEFORE whose orders are all closed, with the rows that
    /// refer to them. The figures stay as they were. FILE is a pg_dump archive.
    Archive {
        /// The first month to keep, as YYYY-MM; the months before it are archived.
        #[arg(long, value_name = "YYYY-MM")]
        before: String,
        /// The new file to write (must not exist).
        file: PathBuf,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// User accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The tree of regions and grids.
    Tree {
        #[command(subcommand)]
        command: TreeCommand,
    },
    /// Import base data from a spreadsheet.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Open311 GeoReport v2 clients (apps and aggregators that file citizens' reports).
    Open311 {
        #[command(subcommand)]
        command: Open311Command,
    },
    /// Personal data at rest (ID numbers, phones): its keys.
    Pii {
        #[command(subcommand)]
        command: PiiCommand,
    },
    /// Write the morning or evening briefing (早晚报) due at a moment, and print where it is
    /// archived. Already archived: prints the archived one (a briefing is written once).
    Briefing {
        /// The moment: RFC 3339 or "YYYY-MM-DD HH:MM" (China time); default now. The latest
        /// briefing due then is written (at 07:00, yesterday's evening one).
        #[arg(long)]
        at: Option<String>,
        /// A region code; default: the scheduled nodes (briefing_nodes, else every county and
        /// town).
        #[arg(long)]
        node: Option<String>,
        /// morning or evening (default: whichever is due last at --at).
        #[arg(long)]
        kind: Option<String>,
    },
}

#[derive(Subcommand)]
enum PiiCommand {
    /// Re-seal every ID number and phone under a new key while servers keep running. With the key
    /// file: adds a fresh key, makes it active (running servers re-read the file within seconds),
    /// then re-seals row by row. With keys from the environment (SHANZHI_PII_KEYS): give every
    /// server the new key first and make it SHANZHI_PII_ACTIVE_KEY, then run this to re-seal.
    RotateKey {
        /// Do not add a key: only re-seal what is not yet under the active one (to finish an
        /// interrupted rotation).
        #[arg(long)]
        resume: bool,
    },
    /// How many sealed values each key holds.
    Status,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every link of the hash chain; names the first broken row.
    Verify,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input (first line).
    Add {
        username: String,
        /// grid_worker, citizen, dispatcher, handler, mediator, analyst, leader or admin.
        #[arg(long)]
        role: String,
        /// Region or grid code the user's scope starts from (not for citizens and handlers).
        #[arg(long)]
        scope: Option<String>,
        /// Department id (handlers).
        #[arg(long)]
        department: Option<i64>,
        /// Name shown in the interface.
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum Open311Command {
    /// Register a client and print its api_key (shown this once; only its hash is stored).
    AddClient {
        /// A name for the client, e.g. the app's.
        name: String,
        /// Username of the citizen-role service account the client's reports are filed as.
        #[arg(long)]
        user: String,
        /// POSTs a minute allowed for the key, on each server.
        #[arg(long, default_value_t = 60)]
        rate: i64,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import residents from an .xlsx or CSV file (the template: GET
    /// /api/v1/residents/import/template); prints the report by row. See README.
    Residents {
        file: PathBuf,
        /// The grid of rows that name none.
        #[arg(long)]
        node: Option<String>,
        /// all-or-nothing (default): any bad row and nothing is written; valid-rows: the good
        /// rows are written and the bad ones reported.
        #[arg(long, value_enum, default_value = "all-or-nothing")]
        mode: crate::import::Mode,
    },
    /// Import organisations (企业, 社会组织, 网格党支部) from an .xlsx or CSV file (the
    /// template: GET /api/v1/organisations/import/template); prints the report by row.
    Organisations {
        file: PathBuf,
        /// The grid of rows that name none.
        #[arg(long)]
        node: Option<String>,
        /// all-or-nothing (default): any bad row and nothing is written; valid-rows: the good
        /// rows are written and the bad ones reported.
        #[arg(long, value_enum, default_value = "all-or-nothing")]
        mode: crate::import::Mode,
    },
    /// Import buildings (楼栋) and their houses (房屋) from an .xlsx or CSV file, a row a
    /// house or a building without houses (the template: GET
    /// /api/v1/buildings/import/template); prints the report by row.
    Buildings {
        file: PathBuf,
        /// The grid of rows that name none.
        #[arg(long)]
        node: Option<String>,
        /// all-or-nothing (default): any bad row and nothing is written; valid-rows: the good
        /// rows are written and the bad ones reported.
        #[arg(long, value_enum, default_value = "all-or-nothing")]
        mode: crate::import::Mode,
    },
    /// Import places (场所) from an .xlsx or CSV file (the template: GET
    /// /api/v1/places/import/template); prints the report by row. See README.
    Places {
        file: PathBuf,
        /// The grid of rows that name none.
        #[arg(long)]
        node: Option<String>,
        /// all-or-nothing (default): any bad row and nothing is written; valid-rows: the good
        /// rows are written and the bad ones reported.
        #[arg(long, value_enum, default_value = "all-or-nothing")]
        mode: crate::import::Mode,
    },
}

#[derive(Subcommand)]
enum TreeCommand {
    /// Import regions and grids (all or nothing) from a GeoJSON FeatureCollection, or from a
    /// spreadsheet (.xlsx or .csv) of code, name, level, parent. See docs/import.md.
    Import {
        file: PathBuf,
        /// What the file is (default: by its extension, .xlsx or .csv; else GeoJSON).
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Codes already stored change (name, shape) instead of being refused: how outlines
        /// drawn later come in after a spreadsheet of the tree.
        #[arg(long)]
        update: bool,
        /// Check the file and list what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Coordinate system of the file's positions: wgs84, cgcs2000, gcj02 or bd09 (default:
        /// the file's crs member, else wgs84). Stored as WGS-84.
        #[arg(long, value_parser = parse_crs)]
        crs: Option<Crs>,
    },
    /// Export the subtree under CODE, after its ancestors, as a GeoJSON FeatureCollection to
    /// standard output: it loads into an empty database.
    Export { code: String },
    /// Write an example import file to standard output (see docs/import.md).
    Template {
        #[arg(long, value_enum, default_value = "geojson")]
        format: TemplateFormat,
    },
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let flags = Flags {
        config: cli.config.clone(),
        bind: cli.bind.clone(),
        database_url: cli.database_url.clone(),
    };
    let mut config = Config::load(&flags, |k| std::env::var(k).ok())?;
    crate::telemetry::init(&config.log_format);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command {
        Command::Serve => {
            let state = startup::build_state(config.clone(), clock).await?;
            let listener = tokio::net::TcpListener::bind(&config.bind)
                .await
                .with_context(|| format!("cannot listen on {}", config.bind))?;
            tracing::info!(addr = %config.bind, "serving");
            println!("Shanzhi is serving on http://{}", listener.local_addr()?);
            startup::serve(listener, state, startup::shutdown_signal()).await?;
        }
        Command::Demo {
            scale,
            seed,
            no_serve,
            events,
            residents,
        } => {
            if config.database_url == DEFAULT_DATABASE_URL {
                // The demo keeps to its own file, rebuilt on every run, so it never touches real data.
                let file = format!("demo-{}.db", scale.as_str());
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{file}{suffix}"));
                }
                config.database_url = format!("sqlite://{file}");
            }
            let started = std::time::Instant::now();
            eprintln!("building the {} demo (seed {seed})…", scale.as_str());
            let generating = demo::progress::spinner("generating");
            let mut city =
                tokio::task::spawn_blocking(move || demo::generate(scale, seed)).await??;
            if let Some(n) = residents {
                city.residents = n;
            }
            generating.finish_and_clear();
            // Built without a disk wait per commit: a build that stops part-way is rebuilt from
            // nothing on the next run; the server below reopens it with durable commits.
            let db = Db::connect_for_build(&config.database_url, 4).await?;
            db.migrate().await?;
            let events = events.unwrap_or_else(|| demo::history::events_a_year(scale));
            let keys = config.keyring()?;
            demo::write_with_events(&db, &keys, &city, clock.now_ms(), events).await?;
            db.close().await;
            let state = startup::build_state(config.clone(), clock.clone()).await?;
            // The last week's morning and evening briefings, by the schedule's own code.
            let briefs = demo::progress::spinner("briefings");
            demo::briefing::write(&state, clock.now_ms()).await?;
            briefs.finish_and_clear();
            eprintln!("built in {:.1} s", started.elapsed().as_secs_f64());
            let database = shanzhi_store::db::redact_url(&config.database_url);
            if no_serve {
                state.db.close().await;
                print!(
                    "{}",
                    demo::summary(&city, "(not serving: --no-serve)", &database)
                );
                return Ok(ExitCode::SUCCESS);
            }
            let listener = tokio::net::TcpListener::bind(&config.bind)
                .await
                .with_context(|| format!("cannot listen on {}", config.bind))?;
            let url = format!("http://{}", listener.local_addr()?);
            print!("{}", demo::summary(&city, &url, &database));
            println!("Press Ctrl-C to stop.");
            startup::serve(listener, state, startup::shutdown_signal()).await?;
        }
        Command::Briefing { at, node, kind } => {
            let state = startup::build_state(config.clone(), clock).await?;
            let result = briefing(&state, at.as_deref(), node.as_deref(), kind.as_deref()).await;
            state.db.close().await;
            return result;
        }
        Command::Backup { file, with_keys } => {
            print!(
                "{}",
                crate::backup::backup(&config, &file, with_keys.as_deref()).await?
            );
        }
        Command::Restore { file, keys } => {
            print!(
                "{}",
                crate::backup::restore(&config, &file, keys.as_deref()).await?
            );
        }
        Command::Archive { before, file } => {
            print!(
                "{}",
                crate::archive::archive(&config, &before, &file).await?
            );
        }
        Command::Migrate => {
            let db = Db::connect(&config.database_url, 2).await?;
            let applied = db.migrate().await?;
            if applied.is_empty() {
                println!("the database is up to date");
            } else {
                println!("applied: {}", applied.join(", "));
            }
            db.close().await;
        }
        Command::Pii { command } => {
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            let keys = config.keyring()?;
            if let PiiCommand::RotateKey { resume } = command {
                if !resume {
                    anyhow::ensure!(
                        config.pii_keys.is_none(),
                        "the keys come from SHANZHI_PII_KEYS: add the new key there on every \
                         server, make it SHANZHI_PII_ACTIVE_KEY, then run `shanzhi pii rotate-key --resume`"
                    );
                    let path = config.pii_key_path();
                    let id = shanzhi_store::pii::add_key(&path)?;
                    eprintln!("added key {id} to {} and made it active", path.display());
                    // Running servers look at the key file every two seconds: let them all seal
                    // with the new key before the old one's rows are counted as done.
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                }
                let left = shanzhi_store::pii::count_stale(&db, &keys.active_id()).await?;
                let bar = demo::progress::bar(left, "re-sealing");
                let done = shanzhi_store::pii::rotate(&db, &keys, |n| bar.set_position(n)).await?;
                bar.finish_and_clear();
                println!(
                    "re-sealed {} values under key {}",
                    done.resealed,
                    keys.active_id()
                );
                for (id, n) in shanzhi_store::pii::key_counts(&db, &keys).await? {
                    println!("{id}: {n} values");
                }
            } else {
                let counts = shanzhi_store::pii::key_counts(&db, &keys).await?;
                println!("active key: {}", keys.active_id());
                for (id, n) in counts {
                    println!("{id}: {n} values");
                }
            }
            db.close().await;
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            let result = shanzhi_store::audit::verify(&db).await?;
            db.close().await;
            match result {
                Ok(n) => println!("audit chain intact: {n} rows verified"),
                Err(b) => {
                    println!("audit chain BROKEN at row {}: {}", b.seq, b.reason);
                    return Ok(ExitCode::from(2));
                }
            }
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    scope,
                    department,
                    name,
                },
        } => {
            let username = Username::parse(&username)?;
            let role = Role::parse(&role)?;
            let scope = match (scope_kind(role), scope) {
                (ScopeKind::Node, Some(s)) => Some(NodeCode::parse(&s)?),
                (ScopeKind::Node, None) => anyhow::bail!("role {role} needs --scope CODE"),
                (ScopeKind::Department, _) if department.is_none() => {
                    anyhow::bail!("a handler needs --department ID")
                }
                _ => None,
            };
            if std::io::stdin().is_terminal() {
                eprint!("password for {username}: ");
            }
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            let password =
                Password::new_checked(line.trim_end_matches(['\r', '\n']), &[username.as_str()])?;
            let hash = crate::password::hash(&password)?;
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            let new = NewUser {
                display_name: name.unwrap_or_else(|| username.as_str().to_owned()),
                username,
                password_hash: hash,
                role,
                scope,
                department_id: department,
            };
            let row = shanzhi_store::user::insert(&db, &new, None, clock.now_ms())
                .await
                .context("creating the user")?;
            db.close().await;
            println!("created user {} (id {})", row.username, row.id);
        }
        Command::Open311 {
            command: Open311Command::AddClient { name, user, rate },
        } => {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 100 {
                anyhow::bail!("the client's name must have 1 to 100 characters");
            }
            if !(1..=100_000).contains(&rate) {
                anyhow::bail!("--rate must be between 1 and 100000 a minute");
            }
            let username = Username::parse(&user)?;
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            let Some((account, _)) = shanzhi_store::user::for_login(&db, &username).await? else {
                anyhow::bail!("no user {username}: create a citizen service account first (shanzhi user add NAME --role citizen)");
            };
            if account.role != Role::Citizen.as_str() || account.disabled {
                anyhow::bail!("user {username} must be an enabled citizen account: Open311 reports are filed as citizens' reports");
            }
            let (key, key_hash) = crate::http::open311::new_api_key();
            let new = shanzhi_store::open311::NewClient {
                name,
                key_hash,
                user_id: account.id,
                rate_per_minute: rate,
            };
            let client = match shanzhi_store::open311::insert_client(
                &db,
                &new,
                None,
                clock.now_ms(),
            )
            .await
            {
                Ok(c) => c,
                Err(shanzhi_store::StoreError::Conflict { .. }) => {
                    anyhow::bail!("a client named {} is already registered", new.name)
                }
                Err(e) => return Err(anyhow::Error::new(e).context("registering the client")),
            };
            db.close().await;
            println!(
                "registered Open311 client {} (id {}), filing as {username}, {rate} POSTs a minute",
                client.name, client.id
            );
            println!("api_key: {key}");
            println!("(shown this once; only its hash is stored)");
        }
        Command::Tree {
            command: TreeCommand::Template { format },
        } => {
            let mut out = std::io::stdout().lock();
            out.write_all(template::text(format).as_bytes())?;
            out.flush()?;
        }
        Command::Tree {
            command: TreeCommand::Export { code },
        } => {
            let root = NodeCode::parse(&code)?;
            let db = Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            let mut out = std::io::BufWriter::new(std::io::stdout());
            let written = crate::tree::export::write(&db, &root, |_| true, &mut out).await;
            db.close().await;
            match written {
                Ok(_) => {}
                Err(crate::tree::export::ExportError::Store(
                    shanzhi_store::StoreError::NotFound,
                )) => {
                    anyhow::bail!("no node {root} in the database")
                }
                Err(e) => return Err(e.into()),
            }
        }
        Command::Import {
            command: ImportCommand::Residents { file, node, mode },
        } => return import_residents(&config, clock, &file, node, mode).await,
        Command::Import {
            command: ImportCommand::Places { file, node, mode },
        } => return import_register(&config, clock, &file, node, mode, Register::Places).await,
        Command::Import {
            command: ImportCommand::Buildings { file, node, mode },
        } => return import_register(&config, clock, &file, node, mode, Register::Buildings).await,
        Command::Import {
            command: ImportCommand::Organisations { file, node, mode },
        } => {
            return import_register(&config, clock, &file, node, mode, Register::Organisations)
                .await
        }
        Command::Tree {
            command:
                TreeCommand::Import {
                    file,
                    format,
                    update,
                    dry_run,
                    crs,
                },
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let format = format.unwrap_or_else(|| Format::of_path(&file));
            let (collection, sheet) = match sheet::collection(format, &bytes) {
                Ok(read) => read,
                Err(e) => {
                    print_refusal(&e);
                    return Ok(ExitCode::from(2));
                }
            };
            let state = startup::build_state(config.clone(), clock).await?;
            let mut opts = state.config.import_options();
            opts.update = update;
            opts.crs = crs;
            let imported =
                crate::http::api::tree::import_features(&state, None, &collection, &opts, dry_run)
                    .await;
            state.db.close().await;
            match imported {
                Ok(o) => {
                    let verb = if o.dry_run {
                        "would import"
                    } else {
                        "imported"
                    };
                    println!(
                        "{verb} {} regions and grids ({} new, {} changed, {} unchanged; positions read as {})",
                        o.written(),
                        o.inserted,
                        o.updated,
                        o.unchanged,
                        o.crs
                    );
                    if o.dry_run {
                        print_changes(&o);
                    }
                    if let Some(ignored) = sheet.as_ref().map(|s| &s.ignored) {
                        if !ignored.is_empty() {
                            println!("columns not read: {}", ignored.join(", "));
                        }
                    }
                }
                Err(e) => {
                    print_refusal(&match &sheet {
                        Some(s) => s.explain(e),
                        None => e,
                    });
                    return Ok(ExitCode::from(2));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `shanzhi briefing`: one line per node, naming the archived briefing.
async fn briefing(
    state: &crate::http::state::AppState,
    at: Option<&str>,
    node: Option<&str>,
    kind: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let refused = |e: ApiError| {
        eprintln!(
            "error: {}: {}",
            e.field.as_deref().unwrap_or("briefing"),
            e.message
        );
        Ok(ExitCode::from(2))
    };
    let period = match crate::briefing::period_at(state, at, kind) {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    let nodes = match node {
        Some(code) => vec![NodeCode::parse(code).context("--node is not a region code")?],
        None => crate::briefing::scheduled_nodes(state)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?,
    };
    if nodes.is_empty() {
        eprintln!("no county or town in the tree to brief: give --node CODE or set briefing_nodes");
        return Ok(ExitCode::from(2));
    }
    for n in nodes {
        if n.is_grid() {
            anyhow::bail!("{n} is a grid: a briefing is for a region's centre");
        }
        match shanzhi_store::node::get(&state.db, &n).await {
            Ok(_) => {}
            Err(shanzhi_store::StoreError::NotFound) => {
                anyhow::bail!("no node {n} in the database")
            }
            Err(e) => return Err(e.into()),
        }
        let (row, written) = match crate::briefing::generate(state, &n, &period, None).await {
            Ok(r) => r,
            Err(e) => return refused(e),
        };
        println!(
            "{} briefing {} of {} for {}: {} as #{} (GET /api/v1/briefings/{}, .docx at /api/v1/briefings/{}/docx)",
            if written { "wrote" } else { "already archived:" },
            row.kind,
            row.day,
            row.node_code,
            if written { "archived" } else { "kept" },
            row.id,
            row.id,
            row.id
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `shanzhi import residents`: the report on standard output, one bad row a line.
async fn import_residents(
    config: &Config,
    clock: Arc<dyn Clock>,
    file: &std::path::Path,
    node: Option<String>,
    mode: crate::import::Mode,
) -> anyhow::Result<ExitCode> {
    use crate::resident::import;
    let (bytes, format, node, name) = import_file(file, node)?;
    let state = startup::build_state(config.clone(), clock).await?;
    let bar = crate::demo::progress::counter("residents");
    let started = std::time::Instant::now();
    let done = import::import(
        &state.db,
        &state.pii,
        import::Request {
            bytes: bytes.into(),
            format,
            mode,
            node,
            actor: None,
            file_name: &name,
            now_ms: state.clock.now_ms(),
        },
        {
            let bar = bar.clone();
            move |n| bar.inc(n)
        },
    )
    .await;
    bar.finish_and_clear();
    state.db.close().await;
    let Some((report, code)) = reported(done) else {
        return Ok(ExitCode::from(2));
    };
    let secs = started.elapsed().as_secs_f64();
    println!(
        "read {} rows in {secs:.1} s: {} residents, {} households, {} buildings, {} houses, {} tags written; {} rows refused",
        report.rows, report.residents, report.households, report.buildings, report.houses, report.tags, report.refused
    );
    print_rows(
        code,
        &report.errors,
        report.errors_total,
        &report.ignored_columns,
    );
    Ok(code)
}

/// `shanzhi import places|organisations|buildings`: the report on standard output, one bad
/// row a line.
async fn import_register(
    config: &Config,
    clock: Arc<dyn Clock>,
    file: &std::path::Path,
    node: Option<String>,
    mode: crate::import::Mode,
    register: Register,
) -> anyhow::Result<ExitCode> {
    let (bytes, format, node, name) = import_file(file, node)?;
    let state = startup::build_state(config.clone(), clock).await?;
    let started = std::time::Instant::now();
    let done = register
        .import(
            &state.db,
            crate::import::Request {
                bytes: bytes.into(),
                format,
                mode,
                node,
                actor: None,
                file_name: &name,
                now_ms: state.clock.now_ms(),
            },
        )
        .await;
    state.db.close().await;
    let Some((report, code)) = reported(done) else {
        return Ok(ExitCode::from(2));
    };
    let written = match (report.buildings, report.houses) {
        (Some(b), Some(h)) => format!("{b} buildings and {h} houses"),
        _ => format!("{} {}", report.written, register.word()),
    };
    println!(
        "read {} rows in {:.1} s: {written} written; {} rows refused",
        report.rows,
        started.elapsed().as_secs_f64(),
        report.refused
    );
    print_rows(
        code,
        &report.errors,
        report.errors_total,
        &report.ignored_columns,
    );
    Ok(code)
}

/// An import's report and the exit code it means (2: all or nothing, and rows are bad), or
/// None when the file as a whole was refused (said on standard error).
fn reported<R: crate::import::RowReport>(
    done: Result<R, crate::import::Refusal<R>>,
) -> Option<(R, ExitCode)> {
    match done {
        Ok(r) => Some((r, ExitCode::SUCCESS)),
        Err(crate::import::Refusal::Rows(r)) => Some((r, ExitCode::from(2))),
        Err(e) => {
            print_refusal(&ApiError::from(e));
            None
        }
    }
}

/// An import file's bytes, its kind by extension, the `--node` given and the file's name.
fn import_file(
    file: &std::path::Path,
    node: Option<String>,
) -> anyhow::Result<(Vec<u8>, Format, Option<NodeCode>, String)> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let format = match Format::of_path(file) {
        Format::Geojson => anyhow::bail!("{}: an import file is .xlsx or .csv", file.display()),
        f => f,
    };
    let node = node
        .map(|c| NodeCode::parse(&c).map_err(|e| anyhow::anyhow!("--node: {e}")))
        .transpose()?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((bytes, format, node, name))
}

/// An import report's bad rows, one a line, and the columns it did not read.
fn print_rows(
    code: ExitCode,
    errors: &[crate::import::RowError],
    total: usize,
    ignored: &[String],
) {
    if code != ExitCode::SUCCESS {
        println!("nothing was written (all or nothing)");
    }
    for e in errors {
        println!("  row {} {}: {}", e.row, e.column, e.reason);
    }
    if total > errors.len() {
        println!("  … and {} more", total - errors.len());
    }
    if !ignored.is_empty() {
        println!("columns not read: {}", ignored.join(", "));
    }
}

fn parse_crs(s: &str) -> Result<Crs, String> {
    Crs::parse(s).map_err(|e| e.to_string())
}

/// A dry run's list of changes, one a line.
fn print_changes(o: &crate::http::api::tree::ImportOutcome) {
    for c in &o.changes {
        let code = c["code"].as_str().unwrap_or("");
        let name = c["name"].as_str();
        let shape = if c["shape"] == true { ", shape" } else { "" };
        match c["action"].as_str() {
            Some("insert") => println!(
                "  insert {code} {} ({}{shape})",
                name.unwrap_or(""),
                c["level"].as_str().unwrap_or("")
            ),
            _ => {
                let renamed = match (c["name_before"].as_str(), name) {
                    (Some(before), Some(after)) => format!("name {before} → {after}"),
                    _ => "name unchanged".to_owned(),
                };
                println!("  update {code}: {renamed}{shape}");
            }
        }
    }
    if o.changes.len() < o.written() {
        println!(
            "  … and {} more (the list stops at {})",
            o.written() - o.changes.len(),
            o.changes.len()
        );
    }
}

/// An import's refusal on standard error: the summary, then each feature or row refused.
fn print_refusal(e: &ApiError) {
    if e.message.contains("nothing was written") {
        eprintln!("import refused: {}", e.message);
    } else {
        eprintln!("import refused, nothing was written: {}", e.message);
    }
    let errors = e
        .details
        .as_ref()
        .and_then(|d| d.get("errors"))
        .and_then(|v| v.as_array());
    for err in errors.into_iter().flatten() {
        let code = err["code"].as_str();
        let place = match (err["row"].as_u64(), err["index"].as_u64()) {
            (Some(row), _) => sheet::row_name(row as usize, code),
            (None, Some(i)) => match code {
                Some(c) => format!("feature {i} (code {c})"),
                None => format!("feature {i}"),
            },
            _ => "the file".to_owned(),
        };
        eprintln!(
            "  {place}: {}: {}",
            err["field"].as_str().unwrap_or(""),
            err["message"].as_str().unwrap_or("")
        );
    }
}
