//! Excel (.xlsx) exports of what the console lists: the event list with its filters, the inbox,
//! and the dashboard's figures. Chinese headers, as the offices that read them expect; scoped
//! exactly like the lists they copy, and capped.

use super::doc::{schema as s, Doc, Routes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{FixedOffset, TimeZone};
use rust_xlsxwriter::{Format, Workbook};
use serde_json::Value;
use shanzhi_domain::event::State as EvState;

use super::event::{list_filter, scope_of, to_json, ListQuery};
use super::figures::{figures_json, FiguresQuery};
use super::names::with_names;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Query};
use crate::http::state::AppState;

/// Most rows one export holds; past it the sheet ends with a note saying so.
pub const MAX_ROWS: usize = 10_000;
/// Rows read from the store at a time.
const PAGE: i64 = 500;
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `/api/v1/…/export.xlsx`.
pub fn routes() -> Routes {
    let states = EvState::ALL.map(EvState::as_str).join("|");
    let pattern = format!("^,*(({states})(,+({states}))*)?,*$");
    Routes::new()
        .get(
            "/api/v1/events/export.xlsx",
            events,
            Doc::new("event", "The event list as an Excel sheet: the same filters and scope as GET /api/v1/events, newest first, at most 10,000 rows")
                .query("state", s::pattern(&pattern), "comma-separated states")
                .query("category", s::int64(), "category id (with its children)")
                .query("department", s::int64(), "department id")
                .query("under", s::node_code(), "region or grid code")
                .query("from", s::int64(), "created at or after (unix ms)")
                .query("to", s::int64(), "created before (unix ms)")
                .query("overdue", s::boolean(), "red light")
                .query("q", s::note(100, false), "text in description or address")
                .produces(XLSX),
        )
        .get(
            "/api/v1/inbox/export.xlsx",
            inbox,
            Doc::new("event", "The inbox (what waits on the user now) as an Excel sheet, at most 10,000 rows")
                .produces(XLSX),
        )
        .get(
            "/api/v1/figures/export.xlsx",
            figures,
            Doc::new("figures", "The dashboard's figures as an Excel workbook: overview, by category, by department, by lower region")
                .query("node", s::node_code(), "region or grid code (default: the user's scope)")
                .query("from", s::date(), "first day (default: 29 days before `to`)")
                .query("to", s::date(), "last day (default: today)")
                .produces(XLSX),
        )
}

/// A cell of a sheet.
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Cell {
        v.map_or(Cell::Empty, Cell::Text)
    }
}

/// One sheet: a name, a header row, rows, and an optional note row at the end.
pub struct Sheet {
    pub name: &'static str,
    pub headers: &'static [&'static str],
    pub rows: Vec<Vec<Cell>>,
    pub note: Option<String>,
}

/// The workbook's bytes.
pub fn workbook(sheets: &[Sheet]) -> ApiResult<Vec<u8>> {
    let fail = |e: rust_xlsxwriter::XlsxError| ApiError::internal(anyhow::anyhow!("xlsx: {e}"));
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    for sheet in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(sheet.name).map_err(fail)?;
        for (c, h) in sheet.headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)
                .map_err(fail)?;
            ws.set_column_width(c as u16, 14).map_err(fail)?;
        }
        ws.set_freeze_panes(1, 0).map_err(fail)?;
        let mut r = 1u32;
        for row in &sheet.rows {
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    Cell::Text(t) => ws.write_string(r, c as u16, t).map(|_| ()),
                    Cell::Number(n) => ws.write_number(r, c as u16, *n).map(|_| ()),
                    Cell::Empty => Ok(()),
                }
                .map_err(fail)?;
            }
            r += 1;
        }
        if let Some(note) = &sheet.note {
            ws.write_string_with_format(r, 0, note, &bold)
                .map_err(fail)?;
        }
    }
    wb.save_to_buffer().map_err(fail)
}

/// An .xlsx download named `name` (ASCII) / `name_zh` (for browsers that read RFC 5987).
pub fn download(bytes: Vec<u8>, name: &str, name_zh: &str) -> Response {
    let encoded: String = form_urlencoded::byte_serialize(name_zh.as_bytes()).collect();
    let disposition = format!(
        "attachment; filename=\"{name}\"; filename*=UTF-8''{}",
        encoded.replace('+', "%20")
    );
    (
        [
            (header::CONTENT_TYPE, XLSX.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

fn state_zh(s: &str) -> &str {
    match s {
        "reported" => "待受理",
        "accepted" => "已受理",
        "rejected" => "不予受理",
        "dispatched" => "已派单",
        "in_progress" => "办理中",
        "resolved" => "待核查",
        "closed" => "已结案",
        "merged" => "已合并",
        other => other,
    }
}

fn light_zh(s: &str) -> &str {
    match s {
        "green" => "正常",
        "yellow" => "临期",
        "red" => "超期",
        other => other,
    }
}

fn supervision_zh(s: &str) -> &str {
    match s {
        "normal" => "督办",
        "yellow" => "黄牌督办",
        "red" => "红牌督办",
        _ => "",
    }
}

fn source_zh(s: &str) -> &str {
    match s {
        "patrol" => "网格巡查",
        "citizen" => "群众上报",
        "open311" => "第三方应用",
        "hotline" => "热线",
        "department" => "部门移交",
        "import" => "导入",
        other => other,
    }
}

/// Unix ms as China time, `2026-12-01 09:00`.
fn time_zh(ms: Option<i64>) -> Cell {
    let china = FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    ms.and_then(|m| china.timestamp_millis_opt(m).single())
        .map_or(Cell::Empty, |t| {
            Cell::Text(t.format("%Y-%m-%d %H:%M").to_string())
        })
}

const EVENT_HEADERS: &[&str] = &[
    "编号",
    "类别",
    "描述",
    "地点",
    "地址",
    "状态",
    "灯色",
    "督办",
    "承办部门",
    "截止时间",
    "上报时间",
    "结案时间",
    "来源",
    "评价",
];

/// Event rows (JSON as the list answers, with names) as sheet rows.
async fn event_sheet(
    app: &AppState,
    name: &'static str,
    mut items: Vec<Value>,
    more: bool,
) -> ApiResult<Sheet> {
    with_names(app, &mut items).await?;
    let categories = shanzhi_store::category::list(&app.db).await?;
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let rows = items
        .iter()
        .map(|e| {
            let cat = categories
                .iter()
                .find(|c| Some(c.id) == e["category_id"].as_i64())
                .map(|c| c.name.clone());
            let open = !matches!(e["state"].as_str(), Some("closed" | "rejected" | "merged"));
            vec![
                Cell::Number(e["id"].as_i64().unwrap_or_default() as f64),
                cat.into(),
                text(&e["description"]).into(),
                text(&e["place"]).into(),
                text(&e["address"]).into(),
                Cell::Text(state_zh(e["state"].as_str().unwrap_or("")).to_owned()),
                if open {
                    Cell::Text(light_zh(e["light"].as_str().unwrap_or("")).to_owned())
                } else {
                    Cell::Empty
                },
                Cell::Text(supervision_zh(e["supervision"].as_str().unwrap_or("")).to_owned()),
                text(&e["department"]).into(),
                time_zh(e["due_at"].as_i64()),
                time_zh(e["created_at"].as_i64()),
                time_zh(e["closed_at"].as_i64()),
                Cell::Text(source_zh(e["source"].as_str().unwrap_or("")).to_owned()),
                e["rating"]
                    .as_i64()
                    .map_or(Cell::Empty, |r| Cell::Number(r as f64)),
            ]
        })
        .collect();
    Ok(Sheet {
        name,
        headers: EVENT_HEADERS,
        rows,
        note: more
            .then(|| format!("仅导出前 {MAX_ROWS} 条，还有更多记录；请缩小筛选范围后再导出。")),
    })
}

async fn events(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let mut f = list_filter(&user, &q, PAGE, PAGE)?;
    f.limit = PAGE;
    let scope = scope_of(&user);
    let mut items = Vec::new();
    let mut more = false;
    loop {
        let rows = shanzhi_store::event::list(&app.db, &scope, &f).await?;
        let full = rows.len() as i64 == PAGE;
        f.before = rows.last().map(|r| (r.created_at, r.id));
        for r in &rows {
            if items.len() == MAX_ROWS {
                more = true;
                break;
            }
            items.push(to_json(r));
        }
        if more || !full {
            break;
        }
    }
    // One more row past the cap tells whether the sheet is cut.
    if !more && items.len() == MAX_ROWS {
        f.limit = 1;
        more = !shanzhi_store::event::list(&app.db, &scope, &f)
            .await?
            .is_empty();
    }
    let sheet = event_sheet(&app, "事件", items, more).await?;
    Ok(download(
        workbook(&[sheet])?,
        "events.xlsx",
        "事件列表.xlsx",
    ))
}

async fn inbox(State(app): State<AppState>, user: CurrentUser) -> ApiResult<Response> {
    // The same list as the inbox page, most urgent first.
    let (rows, capped) = super::inbox::waiting(&app, &user).await?;
    let more = capped || rows.len() > MAX_ROWS;
    let items = rows
        .iter()
        .take(MAX_ROWS)
        .map(|(r, _)| to_json(r))
        .collect();
    let sheet = event_sheet(&app, "待办", items, more).await?;
    Ok(download(workbook(&[sheet])?, "inbox.xlsx", "待办.xlsx"))
}

fn ratio(v: &Value) -> Cell {
    v["value"].as_f64().map_or(Cell::Empty, Cell::Number)
}

fn count(v: &Value, key: &str) -> Cell {
    Cell::Number(v["counters"][key].as_i64().unwrap_or_default() as f64)
}

/// The columns of one line of figures.
fn figure_cells(f: &Value) -> Vec<Cell> {
    vec![
        count(f, "reported"),
        count(f, "closed"),
        count(f, "closed_on_time"),
        ratio(&f["on_time_rate"]),
        ratio(&f["satisfaction_mean"]),
        ratio(&f["reopen_rate"]),
    ]
}

async fn figures(
    State(app): State<AppState>,
    user: CurrentUser,
    Query(mut q): Query<FiguresQuery>,
) -> ApiResult<Response> {
    q.children = true;
    let fig = figures_json(&app, &user, &q).await?.to_value()?;
    let with_name = |rows: &[Value]| -> Vec<Vec<Cell>> {
        rows.iter()
            .map(|r| {
                let mut row = vec![Cell::from(r["name"].as_str().map(str::to_owned))];
                row.extend(figure_cells(&r["figures"]));
                row
            })
            .collect()
    };
    let list = |k: &str| fig[k].as_array().cloned().unwrap_or_default();
    let range = format!(
        "{} {} — {}",
        fig["node"]["name"].as_str().unwrap_or(""),
        fig["from"].as_str().unwrap_or(""),
        fig["to"].as_str().unwrap_or("")
    );
    let mut overview = vec![Cell::Text(range)];
    overview.extend(figure_cells(&fig["figures"]));
    let sheets = [
        Sheet {
            name: "概况",
            headers: &[
                "范围",
                "上报",
                "结案",
                "按期结案",
                "按期办结率",
                "满意度",
                "重办率",
            ],
            rows: vec![overview],
            note: None,
        },
        Sheet {
            name: "按类别",
            headers: &[
                "类别",
                "上报",
                "结案",
                "按期结案",
                "按期办结率",
                "满意度",
                "重办率",
            ],
            rows: with_name(&list("by_category")),
            note: None,
        },
        Sheet {
            name: "部门排名",
            headers: &[
                "部门",
                "上报",
                "结案",
                "按期结案",
                "按期办结率",
                "满意度",
                "重办率",
            ],
            rows: with_name(&list("by_department")),
            note: None,
        },
        Sheet {
            name: "下级区域",
            headers: &[
                "区域",
                "上报",
                "结案",
                "按期结案",
                "按期办结率",
                "满意度",
                "重办率",
            ],
            rows: with_name(&list("children")),
            note: None,
        },
    ];
    Ok(download(
        workbook(&sheets)?,
        "figures.xlsx",
        "统计报表.xlsx",
    ))
}
