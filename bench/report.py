#!/usr/bin/env python3
"""Writes BENCHMARKS.md from the JSON files bench/run leaves in bench/cache/results-full/."""
import datetime
import json
import os
import platform
import subprocess
import sys

res, out = sys.argv[1], sys.argv[2]


def load(name):
    try:
        with open(os.path.join(res, name + ".json")) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None


def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def mem_gib():
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def fmt(v, digits=1):
    if v is None:
        return "—"
    if isinstance(v, (int, float)) and abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def ok(cond):
    return "**met**" if cond else "**missed**"


def git_rev():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


data = load("data") or {}
build = load("build") or {}
loc, pgl = load("locate"), load("pg_locate")
rp, rc = load("rollup_province"), load("rollup_county")
rpc, rcc = load("rollup_province_cold") or {}, load("rollup_county_cold") or {}
pgp, pgc = load("pg_rollup_province"), load("pg_rollup_county")
lst, ing, dur = load("list"), load("ingest"), load("durable")
maps = [(n, load(n), load(n + "_shape")) for n in ("map_city_z10", "map_city_z12", "map_town_z14")]
idle, loaded, tg = load("mem_idle"), load("mem_loaded"), load("targets") or {}

rows, notes = [], []
if build.get("build_s") and data.get("events"):
    n, secs = data["events"], build["build_s"]
    rows.append(["data set: the demo's history written", f"{n:,} events in {secs:.0f} s ({fmt(n / secs)} events/s, with the tree, users and everything else)",
                 "—", "—", "10 M events in < 20 min", ok(n >= 10_000_000 and secs < 1200)])
if loc:
    v = loc["median_lookups_per_s"]
    peer = pgl["median_lookups_per_s"] if pgl else None
    ratio = v / peer if peer else None
    met = v >= 1e6 and (ratio is None or ratio >= 10)
    rows.append(["locate: points → deepest grid", f"{fmt(v)} lookups/s (1 core)",
                 f"PostGIS ST_Contains + GiST: {fmt(peer)} lookups/s" if peer else "PostGIS: not run",
                 f"{ratio:.0f}×" if ratio else "—", "≥ 10× peer, ≥ 1 M/s", ok(met)])
    notes.append(f"**locate** — `cargo bench --bench locate` (driven by `bench/run`), {loc['points']:,} points "
                 f"(seed {loc['seed']}, a grid picked uniformly then a point uniformly in its bounding box), "
                 f"{loc['grids']:,} grids, {loc['hits']:,} points inside a grid; one thread; median of {loc['runs']} passes "
                 f"({', '.join(fmt(r) for r in loc['lookups_per_s'])}). Index built in {loc['build_ms']:.0f} ms after "
                 f"{loc['parse_ms']:.0f} ms of GeoJSON parsing.")
    if pgl:
        notes.append(f"**locate peer** — PostgreSQL + PostGIS on the same machine, the same polygons (GiST index), the first "
                     f"{pgl['points']:,} of the same points, batches of 10,000 points per `SELECT` (a correlated "
                     f"`ST_Contains` sub-select picking the longest code, as the Locator does), one backend, "
                     f"no parallel workers; median of {pgl['runs']} runs after a warm-up. PostGIS found {pgl['found']:,} "
                     f"(Locator: {pgl['locator_found']:,}); {pgl['agree_with_locator']:,} answers identical.")
if ing:
    pgi = load("pg_ingest")
    peer = f"same server on PostgreSQL: {fmt(pgi['per_s'])} reports/s, p99 {fmt(pgi['p99_ms'])} ms" if pgi else "server on PostgreSQL: not run"
    ratio = f"{ing['per_s'] / pgi['per_s']:.1f}×" if pgi and pgi["per_s"] else "—"
    met = ing["per_s"] >= 10000 and dur and dur["acked"] == dur["found_after_kill9"]
    iob = load("ingest_io")
    per = f", {fmt(iob['bytes_per_report'] / 1024)} KiB written per report" if iob else ""
    rows.append(["ingest: reports over HTTP, 256 clients", f"{fmt(ing['per_s'])} reports/s, p99 {fmt(ing['p99_ms'])} ms{per}", peer, ratio,
                 "≥ 10,000/s, all acknowledged durable", ok(met)])
    notes.append(f"**ingest** — `http` bench in ingest mode: {ing['requests']:,} `POST /api/v1/events` (bearer token of "
                 f"`citizen`, unique Idempotency-Key, points from the locate set that fall in a grid), "
                 f"{ing['concurrency']} concurrent clients on loopback, load generator on the same 2 cores; one run. "
                 f"p50 {fmt(ing['p50_ms'])} ms, p95 {fmt(ing['p95_ms'])} ms. Statuses: {ing['statuses']}. "
                 f"Each report is validated, located, checked against its idempotency key and written with its timeline "
                 f"line, counters and audit row; reports that arrive together share one transaction (group commit) on "
                 f"SQLite's single writer connection, which commits with `synchronous=FULL` (the WAL is fsynced before "
                 f"any report of the group is acknowledged). "
                 + (f"The server wrote {fmt(iob['bytes'] / 1e6)} MB to storage during the run (`write_bytes` of "
                    f"/proc/PID/io: the WAL and its checkpoints), {fmt(iob['bytes_per_report'])} bytes per report. " if iob else "")
                 + (f"After `kill -9` of the server, {dur['found_after_kill9']:,} of {dur['acked']:,} acknowledged reports "
                    f"were in the database." if dur else "")
                 + (f" Peer: the same binary on PostgreSQL 15 (Debian, loopback, default durability), demo built into it "
                    f"with {(load('pg_build') or {}).get('events', 100000):,} events (`BENCH_PG_EVENTS`; building it is slower on PostgreSQL), same load." if pgi else ""))
if rp:
    ratio = pgp["p95_ms"] / rp["p95_ms"] if pgp else None
    met = rp["p95_ms"] < 20 and (ratio is None or ratio >= 20)
    rows.append(["roll-up: figures, whole province, a year", f"p50 {fmt(rp['p50_ms'])} / p95 {fmt(rp['p95_ms'])} ms",
                 f"GROUP BY on PostgreSQL: p50 {fmt(pgp['p50_ms'])} / p95 {fmt(pgp['p95_ms'])} ms" if pgp else "—",
                 f"{ratio:.1f}×" if ratio else "—", "p95 < 20 ms, ≥ 20× peer", ok(met)])
if rc:
    ratio = pgc["p95_ms"] / rc["p95_ms"] if pgc else None
    rows.append(["roll-up: figures, one county, a year", f"p50 {fmt(rc['p50_ms'])} / p95 {fmt(rc['p95_ms'])} ms",
                 f"GROUP BY on PostgreSQL: p50 {fmt(pgc['p50_ms'])} / p95 {fmt(pgc['p95_ms'])} ms" if pgc else "—",
                 f"{ratio:.1f}×" if ratio else "—", "p95 < 10 ms, ≥ 20× peer", ok(rc["p95_ms"] < 10 and (ratio is None or ratio >= 20))])
if rp:
    notes.append(f"**roll-up** — `GET /api/v1/figures?node=…&from={tg.get('from')}&to={tg.get('to')}` (a year) for "
                 f"{tg.get('root')} and county {tg.get('county')}, one client, {rp['requests']} sequential requests "
                 f"each after 3 warm-ups, over the demo's {data.get('events', 0):,} events (not 10 M: see below). The answer holds "
                 f"the node's counters, Σ/Σ rates, median and p90 time to close, per category, and per department: every "
                 f"department with work under the node, wherever it is based (the default since issue 12; `departments=chain` "
                 f"keeps to those based at the node and above). The year ends today in China time, as the "
                 f"dashboard asks: today's counters are read on every request, the settled days before it from the "
                 f"sums the server keeps (summed by the first request, kept until a write to a settled day's counters "
                 f"changes the database's settled epoch). "
                 + (f"The first request, which sums the settled days, took {fmt(rpc['cold_ms'])} ms (province) and "
                    f"{fmt(rcc['cold_ms'])} ms (county), curl's total. " if rpc and rcc else "")
                 + f"Peer: the same year's counts per category by `GROUP BY` over a copy of the event table in "
                 f"PostgreSQL with an index on (grid_code, created_at) and a code-prefix range, timed by psql "
                 f"`\\timing`" + (f", {pgp['runs']} runs" if pgp else "") + ".")
if lst:
    rows.append(["list: town dispatcher's inbox and lists", f"p95 {fmt(lst['p95_ms'])} ms (p50 {fmt(lst['p50_ms'])})",
                 "—", "—", "p95 < 20 ms at 64 clients", ok(lst["p95_ms"] < 20)])
    notes.append(f"**list** — `http` bench, user `{tg.get('town_dispatcher')}`, 64 concurrent clients, {lst['requests']:,} "
                 f"requests round-robin over the inbox and four filtered `GET /api/v1/events` lists (50 a page); "
                 f"{fmt(lst['per_s'])} requests/s; one run.")
labels = {"map_city_z10": "town outlines over a city, zoom 10", "map_city_z12": "village outlines over a whole city, zoom 12",
          "map_town_z14": "grid outlines over a town, zoom 14"}
for name, m, shape in maps:
    if m:
        pm = load("pg_" + name)
        ratio = pm["p50_ms"] / m["p50_ms"] if pm and m["p50_ms"] else None
        rows.append([f"map: {labels[name]}", f"p50 {fmt(m['p50_ms'])} / p95 {fmt(m['p95_ms'])} ms, "
                     f"{fmt(m['mean_bytes'] / 1024)} KiB gzip" + (f" ({fmt(shape['raw_bytes'] / 1024)} KiB plain, {shape['features']:,} shapes)" if shape else ""),
                     f"PostGIS: p50 {fmt(pm['p50_ms'])} / p95 {fmt(pm['p95_ms'])} ms ({pm['features']:,} shapes)" if pm else "PostGIS: not run",
                     f"{ratio:.0f}×" if ratio else "—", "p95 < 30 ms, ≥ 10× PostGIS",
                     ok(m["p95_ms"] < 30 and m["mean_bytes"] < 1_000_000 and (ratio is None or ratio >= 10))])
if any(m for _, m, _ in maps):
    notes.append(f"**map** — `GET /api/v1/map/nodes?level=L&bbox=B&zoom=Z` as the console's map asks for it (towns at zoom "
                 f"10–11, villages at 12–13, grids from 14), with `Accept-Encoding: gzip` as a browser sends; bytes are those "
                 f"on the wire. City box {tg.get('city_bbox')} (the first city; neighbours' shapes in the box are included), "
                 f"town box {tg.get('town_bbox')} (that city's town with the most grids). One client, "
                 f"{next(m for _, m, _ in maps if m)['requests']} requests each. Outlines are simplified to a pixel at the "
                 f"zoom and rounded to a tenth of one; the server keeps each level's boxes and each outline simplified "
                 f"per zoom in memory (made on first use, dropped when the tree changes), so the times are those of a "
                 f"map in use (the warm-up request made them). Peer: PostGIS on the same outlines (GiST), "
                 f"`ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, one pixel), digits)` in one `json_agg` over "
                 f"`geom && ST_MakeEnvelope(box)`, the answer read by psql, `\\timing`, the same number of runs; "
                 f"ratio of the medians.")
rim = load("residents_import")
if rim:
    for kind, what in [("csv", "CSV"), ("xlsx", ".xlsx")]:
        v = rim[kind + "_rows_per_s"]
        rows.append([f"import: residents from {what}", f"{fmt(v)} rows/s ({rim['rows']:,} rows)",
                     f"sqlite3 .import of the same CSV, unchecked: {fmt(rim['peer_rows_per_s'])} rows/s",
                     f"{v / rim['peer_rows_per_s']:.2f}×", "≥ 50,000 rows/s on SQLite", ok(v >= 50000)])
    notes.append(f"**import** — `shanzhi import residents FILE` (whole command: start-up, reading, checking every row's "
                 f"ID number, phone, grid and tags, duplicate checks in the file and against the register, sealing ID "
                 f"numbers and phones with AES-256-GCM and their blind indexes, one transaction, the tally recount) into a fresh "
                 f"copy of the town's tree; {rim['rows']:,} synthetic residents from `bench/residents.py` (households of "
                 f"three, tags now and then); median of {len(rim['csv_s'])} runs (CSV {', '.join(f'{s:.1f}' for s in rim['csv_s'])} s; "
                 f".xlsx {', '.join(f'{s:.1f}' for s in rim['xlsx_s'])} s). Peer: sqlite3's `.import` of the same CSV into "
                 f"a plain table of text columns, no checks and no encryption.")
srch, rlst, rpeer, sset = load("resident_search"), load("resident_list"), load("resident_peer"), load("search_set")
if srch and sset:
    peer = f"sqlite3 (Python), a plain indexed ID column: p95 {fmt(rpeer['search_p95_ms'], 3)} ms" if rpeer else "—"
    rows.append([f"search: exact ID number over {sset['residents']:,} residents", f"p50 {fmt(srch['p50_ms'], 2)} / p95 {fmt(srch['p95_ms'], 2)} ms",
                 peer, f"{srch['p95_ms'] / rpeer['search_p95_ms']:.0f}×" if rpeer else "—", "p95 < 5 ms", ok(srch["p95_ms"] < 5)])
    notes.append(f"**search** — `POST /api/v1/residents/search {{\"id_number\": …}}` as the town's dispatcher `{sset['dispatcher']}`, "
                 f"one client, {srch['requests']:,} ID numbers drawn from the imported file; the server finds the row by the "
                 f"number's keyed blind index (HMAC-SHA256) and answers it masked. Set: the town's tree with "
                 f"{sset['residents']:,} synthetic residents imported by `shanzhi import residents`. Peer: the same lookup "
                 f"by a plain-text indexed column through Python's sqlite3 on the same file (no HTTP, no scope, no JSON): "
                 f"the storage floor.")
if rlst and sset:
    peer = f"sqlite3 (Python), the same page by the node index: p95 {fmt(rpeer['list_p95_ms'], 3)} ms" if rpeer else "—"
    rows.append(["list: a grid's residents, 64 clients", f"p50 {fmt(rlst['p50_ms'])} / p95 {fmt(rlst['p95_ms'])} ms ({fmt(rlst['per_s'])}/s)",
                 peer, "—", "p95 < 20 ms at 64 clients", ok(rlst["p95_ms"] < 20)])
    notes.append(f"**residents list** — `GET /api/v1/residents` as grid worker `{sset['worker']}` of grid {sset['grid']} "
                 f"({sset['grid_residents']:,} residents), 64 concurrent clients, {rlst['requests']:,} requests round-robin over the "
                 f"plain list, by residence, by tag and by a surname, 50 a page.")
servers = []
try:
    with open(os.path.join(res, "servers.json")) as f:
        servers = [json.loads(line) for line in f if line.strip()]
except (OSError, ValueError):
    servers = []
if servers:
    ing = ", ".join(f"{s['servers']}: {fmt(s['ingest_per_s'])}/s (p99 {fmt(s['ingest_p99_ms'])} ms)" for s in servers)
    lst = ", ".join(f"{s['servers']}: {fmt(s['list_per_s'])}/s (p95 {fmt(s['list_p95_ms'])} ms)" for s in servers)
    rows.append(["several servers on PostgreSQL + replica: ingest", ing, "1 server in the same run", "—",
                 "the scaling, measured", "measured"])
    rows.append(["several servers on PostgreSQL + replica: town dispatcher's lists", lst, "1 server in the same run", "—",
                 "the scaling, measured", "measured"])
    notes.append("**several servers** — `bench/servers`: its own PostgreSQL primary and streaming replica "
                 "(`pg_basebackup -R`) on loopback, the city demo built into the primary, then 1, 2 and 3 "
                 "`shanzhi serve` processes on it with `SHANZHI_REPLICA_URL` (lists read from the replica), one load "
                 "generator per server in parallel sharing 256 reporting clients, then 64 list clients. Servers, "
                 "PostgreSQL, the replica and the load share this machine's cores: the row shows what several servers "
                 "cost or gain here, not on separate machines.")
pan = load("pan")
if pan:
    slow = max(pan["steps"][1:], key=lambda s: s["ms"])
    rows.append(["map in the browser: the leader's area → one grid and across its neighbours",
                 f"{pan['moves']} moves: p50 {pan['p50_ms']:,} ms, slowest {pan['max_ms']:,} ms ({slow['step']}, {slow['shapes']:,} shapes); "
                 f"first view {pan['open_ms']:,} ms", "—", "—", "no visible wait", ok(pan["max_ms"] < 500)])
    notes.append(f"**map in the browser** — `web/tests/pan.mjs`: headless Chromium ({pan['viewport']}) opens the console's map as "
                 f"`{pan['user']}` (the whole area fitted), zooms step by step to the grid at {pan['target']['lon']:.5f}, "
                 f"{pan['target']['lat']:.5f} (zoom 16), then pans half a screen each way at zoom 15 and goes back out. A move's time "
                 "runs from the move until the new view's outlines and points are drawn and the next frame is painted; it includes "
                 "the map's wait after a move before it asks (100 ms). Counted as \"no visible wait\" when every move is under "
                 "500 ms. Each step: " + "; ".join(f"{s['step']} ({s['level']}) {s['ms']} ms" for s in pan["steps"]) + ".")
if idle:
    hwm = loaded["hwm_kb"] / 1024 if loaded else None
    rows.append(["memory: server holding the province", f"{fmt(idle['rss_kb_idle'] / 1024)} MiB idle, peak {fmt(hwm)} MiB",
                 "—", "—", "< 1 GiB", ok((hwm or idle["rss_kb_idle"] / 1024) < 1024)])
    notes.append(f"**memory** — VmRSS of `shanzhi serve` from /proc after start-up ({idle['startup_s']:.1f} s to a healthy "
                 f"`/healthz`), and VmHWM after all the HTTP benches above.")

with open(out, "w") as f:
    f.write("# Benchmarks\n\n")
    f.write("Written by `bench/run` (issue 6); do not edit by hand — rerun it.\n\n")
    run = load("run") or {}
    started = run.get("started") or f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}"
    f.write(f"- Date: run started {started} UTC, commit {run.get('commit') or git_rev()}\n")
    f.write(f"- Machine: {cpu()}, {os.cpu_count()} cores, {mem_gib():.1f} GiB RAM, {platform.system()} {platform.release()}; "
            "shared and noisy (CI jobs ran on it), load generator and server on the same cores\n")
    disk = load("disk")
    if disk:
        f.write(f"- Disk (the physical limit, measured by `bench/disk.py` in the run's work directory): "
                f"{fmt(disk['fsyncs_per_s'])} durable 4 KiB appends/s (write + fdatasync, one at a time), "
                f"{fmt(disk['seq_write_mb_per_s'])} MB/s sequential writes ({disk['seq_mib']} MiB, one fsync)\n")
    f.write(f"- Data: `shanzhi demo --scale province --events N` (Guangdong): {data.get('grids', 0):,} grids, {data.get('users', 0):,} users, "
            f"{data.get('events', 0):,} events" + (f"; built in {build['build_s']:.0f} s, cached in bench/cache/" if build.get("build_s") else "") + "\n\n")
    f.write("| measure | Shanzhi | peer (same run) | ratio | target | |\n|---|---|---|---|---|---|\n")
    for r in rows:
        f.write("| " + " | ".join(r) + " |\n")
    f.write("\n## How each figure was measured\n\n")
    for n in notes:
        f.write(f"- {n}\n")
    extra = os.path.join(os.path.dirname(os.path.abspath(__file__)), "NOTES.md")
    if os.path.exists(extra):
        f.write("\n" + open(extra).read())
