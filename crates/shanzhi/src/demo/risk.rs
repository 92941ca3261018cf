//! The demo's stability command centre (风险研判预警): the rules the seeds describe (rising water
//! in a grid, garbage piling up, disputes with many parties or violence, the same person
//! reporting again and again, unpaid wages rising before the Spring Festival) and a year of
//! clues and risks. Every record is walked move by move through the domain's own transition at
//! its own time and saved through the store like a live move, so its timeline, clock, progress
//! reports, missed days and figures are what the running system would have written; records
//! whose next move falls after "now" stay where they are, so the board holds every state.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use shanzhi_domain::calendar::{local_date, WorkCalendar};
use shanzhi_domain::risk::{transition, Action, Level, State};
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::{Actor, Role, Scope};
use shanzhi_store::category::Category;
use shanzhi_store::event::LogEntry;
use shanzhi_store::risk::{HistoryRisk, RiskRow, RuleValues};
use shanzhi_store::Db;

use super::{DemoCity, Scale};
use crate::calendar::day_number;
use crate::risk::{apply, state_of};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Clues found in a year, by scale.
pub fn clues_a_year(scale: Scale) -> usize {
    match scale {
        Scale::Town => 60,
        Scale::City => 400,
        Scale::Province => 3_000,
    }
}

/// What clues are about: (type, title, share).
const KINDS: [(&str, &str, f64); 8] = [
    ("disaster", "强降雨致河道水位上涨", 0.18),
    ("safety", "在建工地脚手架存在坍塌隐患", 0.16),
    ("stability", "培训学校拟停业，学员家长聚集", 0.12),
    ("dispute", "拖欠农民工工资引发聚集苗头", 0.16),
    ("public_order", "夜间烧烤摊聚集斗殴隐患", 0.1),
    ("public_health", "小区生活垃圾长时间未清运", 0.12),
    ("finance", "非法集资宣传进村入户", 0.06),
    ("other", "景区节假日客流超载", 0.1),
];

fn pick<'a>(rng: &mut StdRng) -> &'a (&'static str, &'static str, f64) {
    let mut x: f64 = rng.gen();
    for k in &KINDS {
        if x < k.2 {
            return k;
        }
        x -= k.2;
    }
    &KINDS[0]
}

/// Writes the rules and `n` records over the year ending at `now_ms`; answers how many records.
pub async fn write(
    db: &Db,
    city: &DemoCity,
    categories: &[Category],
    department_ids: &[i64],
    user_ids: &HashMap<String, i64>,
    n: usize,
    now_ms: i64,
) -> anyhow::Result<usize> {
    let admin = user_ids.get("admin").copied().unwrap_or(1);
    let cat = |code: &str| categories.iter().find(|c| c.code == code).map(|c| c.id);
    let root = city.root.as_str().to_owned();
    let mut rules: Vec<(i64, &str)> = Vec::new();
    let mut add = async |name: &str,
                         kind: &str,
                         params: serde_json::Value,
                         risk_type: &'static str|
           -> anyhow::Result<()> {
        let id = shanzhi_store::risk::add_rule(
            db,
            &RuleValues {
                name: name.to_owned(),
                kind: kind.to_owned(),
                params,
                node_code: root.clone(),
                risk_type: risk_type.to_owned(),
                enabled: true,
            },
            admin,
            now_ms - 366 * DAY,
        )
        .await?;
        rules.push((id, risk_type));
        Ok(())
    };
    if let Some(flood) = cat("flood_risk") {
        add(
            "汛情险情即报即研判",
            "category_burst",
            json!({"category_id": flood, "min_events": 1, "days": 1}),
            "disaster",
        )
        .await?;
    }
    if let Some(garbage) = cat("exposed_garbage") {
        add(
            "同一网格三天内垃圾问题集中",
            "category_burst",
            json!({"category_id": garbage, "min_events": 8, "days": 3}),
            "public_health",
        )
        .await?;
    }
    add(
        "多方或涉暴矛盾纠纷",
        "dispute_flags",
        json!({"min_parties": 5, "violence": true}),
        "dispute",
    )
    .await?;
    add(
        "同一群众七天内重复反映",
        "repeat_reporter",
        json!({"min_reports": 5, "days": 7}),
        "stability",
    )
    .await?;
    add("春节前欠薪纠纷上升", "dispute_rise", json!({"type_code": "wages", "days": 30, "min_cases": 3, "rise_percent": 50, "before_spring_festival": 30}), "stability").await?;

    let grids: Vec<&NodeCode> = city
        .nodes
        .iter()
        .filter(|n| n.level.is_grid() && city.root.contains(&n.code))
        .map(|n| &n.code)
        .collect();
    if grids.is_empty() || department_ids.is_empty() {
        return Ok(0);
    }
    let centre = Actor {
        user_id: user_ids.get("analyst").copied().unwrap_or(admin),
        role: Role::Analyst,
        scope: Scope::Node(city.root.clone()),
    };
    let handler = |i: usize| Actor {
        user_id: user_ids
            .get(&format!("h-{}", city.departments[i].code))
            .copied()
            .unwrap_or(admin),
        role: Role::Handler,
        scope: Scope::Department {
            id: department_ids[i],
            region: city.departments[i].region.clone(),
        },
    };
    let cal = WorkCalendar::china_default();
    let mut rng = StdRng::seed_from_u64(city.seed ^ 0x815C_0001);
    // Each record is walked in memory through the same rules the API applies, and the walked
    // records are written in bulk (one moved through the API costs dozens of round trips).
    let mut written = 0;
    let mut records: Vec<HistoryRisk> = Vec::new();
    for nth in 0..n {
        if records.len() >= RECORDS_PER_PART {
            written += shanzhi_store::risk::insert_history(db, &records)
                .await?
                .len();
            records.clear();
        }
        let grid = grids[rng.gen_range(0..grids.len())];
        // Clues cluster in the recent past: a third in the last month.
        let back = if rng.gen_bool(0.33) {
            rng.gen_range(0..30 * DAY)
        } else {
            rng.gen_range(30 * DAY..365 * DAY)
        };
        let t0 = now_ms - back;
        let (type_code, title, _) = *pick(&mut rng);
        let rule = rules
            .iter()
            .find(|r| r.1 == type_code)
            .filter(|_| rng.gen_bool(0.4));
        let source = match rule {
            Some(_) => "rule",
            None => ["manual", "department"][rng.gen_range(0..2)],
        };
        let mut row = RiskRow::clue(grid.as_str(), type_code, source, title.to_owned(), t0);
        row.rule_id = rule.map(|r| r.0);
        row.created_by = Some(centre.user_id);
        let log = LogEntry {
            actor_id: rule.map_or(Some(centre.user_id), |_| None),
            action: "raise".into(),
            from_state: None,
            to_state: "clue".into(),
            note: None,
            data: json!({"source": source}),
        };
        let mut at = t0 + rng.gen_range(HOUR..8 * HOUR);
        let mut record = HistoryRisk {
            row,
            log: vec![(log, t0)],
            reports: Vec::new(),
            lags: Vec::new(),
        };
        let step = |record: &mut HistoryRisk,
                    action: Action,
                    actor: &Actor,
                    at: i64,
                    lags: Vec<(i64, i64)>|
         -> anyhow::Result<bool> {
            if at > now_ms {
                return Ok(false);
            }
            let row = &record.row;
            let st = state_of(row).map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let t = transition(&st, &action, actor)
                .map_err(|e| anyhow::anyhow!("demo risk #{nth}: {e}"))?;
            let hours = t
                .level
                .or(st.level)
                .filter(|_| t.start_clock)
                .map(Level::default_deadline_hours);
            let (mut after, writes) = apply(row, &action, &t, actor, hours, at);
            // As `risk::save_move` stores it.
            after.version = row.version + 1;
            after.updated_at = at;
            record.row = after;
            record.log.extend(writes.log.map(|l| (l, at)));
            record.reports.extend(writes.report.map(|r| (r, at)));
            record.lags.extend(lags.into_iter().map(|l| (l, at)));
            Ok(true)
        };
        'walk: {
            if rng.gen_bool(0.15) {
                step(
                    &mut record,
                    Action::Dismiss {
                        reason: "经核实，情况已自行消除，不构成风险".into(),
                    },
                    &centre,
                    at,
                    vec![],
                )?;
                break 'walk;
            }
            let level = match rng.gen_range(0..100) {
                0..5 => Level::Red,
                5..22 => Level::Orange,
                22..60 => Level::Yellow,
                _ => Level::Blue,
            };
            let lead = rng.gen_range(0..department_ids.len());
            let helper = rng.gen_range(0..department_ids.len());
            let helpers = if helper != lead && rng.gen_bool(0.5) {
                vec![department_ids[helper]]
            } else {
                vec![]
            };
            if !step(
                &mut record,
                Action::Assess {
                    level,
                    lead_department_id: department_ids[lead],
                    helper_ids: helpers,
                    measures: "落实专人盯守，每日报告进展，必要时转移群众".into(),
                },
                &centre,
                at,
                vec![],
            )? {
                break 'walk;
            }
            let hours = level.default_deadline_hours();
            let on_time = rng.gen_bool(0.9);
            let took = if on_time {
                rng.gen_range(hours * HOUR / 3..hours * HOUR)
            } else {
                hours * HOUR + rng.gen_range(HOUR..2 * DAY)
            };
            let done_at = at + took;
            // Daily reports (red and orange owe one each working day; the others report now and then).
            let mut day = local_date(at).succ_opt().expect("a next day");
            let mut missed: Vec<(i64, i64)> = Vec::new();
            let mut alive = true;
            while alive && shanzhi_domain::calendar::local_ms(day, 17 * 60) < done_at.min(now_ms) {
                let when = shanzhi_domain::calendar::local_ms(day, rng.gen_range(9 * 60..18 * 60));
                let daily = level.needs_daily_report() && cal.is_working_day(day);
                if daily && rng.gen_bool(0.1) {
                    missed.push((department_ids[lead], day_number(day)));
                } else if daily || rng.gen_bool(0.2) {
                    let text = [
                        "已落实专人盯守，情况稳定",
                        "已疏导相关群众，未发现异常",
                        "整改措施正在推进",
                    ][rng.gen_range(0..3)];
                    alive = step(
                        &mut record,
                        Action::Report { text: text.into() },
                        &handler(lead),
                        when,
                        std::mem::take(&mut missed),
                    )?;
                }
                day = day.succ_opt().expect("a next day");
            }
            if !alive || record.row.state != State::Active.as_str() {
                break 'walk;
            }
            if !step(
                &mut record,
                Action::Finish {
                    summary: "风险已化解，现场恢复正常".into(),
                },
                &handler(lead),
                done_at,
                missed,
            )? {
                break 'walk;
            }
            at = done_at + rng.gen_range(2 * HOUR..2 * DAY);
            step(
                &mut record,
                Action::Review {
                    approve: true,
                    note: None,
                },
                &centre,
                at,
                vec![],
            )?;
        }
        records.push(record);
    }
    written += shanzhi_store::risk::insert_history(db, &records)
        .await?
        .len();
    Ok(written)
}

/// Records walked and written per part, so that memory stays bounded for a large year.
const RECORDS_PER_PART: usize = 20_000;
