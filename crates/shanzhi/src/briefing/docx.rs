//! A briefing as a Word document (A4, in Chinese like the centre's paper reports): the title,
//! the period, each section as a table with the change against the previous briefing, and the
//! charts as PNG images drawn by [`super::chart`]. Built from the archived figures only.

use std::io::Cursor;
use std::path::Path;

use docx_rs::{
    AlignmentType, Docx, LineSpacing, Paragraph, Pic, Run, RunFonts, Table, TableCell, TableRow,
    WidthType,
};
use serde_json::Value;
use shanzhi_domain::calendar::local_date;

/// Half-points: 二号 (22 pt) title, 小四 (12 pt) text.
const TITLE_SIZE: usize = 44;
const TEXT_SIZE: usize = 24;
/// Usable A4 width with docx-rs's default margins, in twentieths of a point.
const TEXT_WIDTH: usize = 11906 - 1701 - 1701;
/// Chart width on the page: 15 cm in EMU.
const CHART_EMU: u32 = 5_400_000;

fn fonts() -> RunFonts {
    RunFonts::new()
        .east_asia("宋体")
        .ascii("Times New Roman")
        .hi_ansi("Times New Roman")
}

fn text(s: impl Into<String>) -> Run {
    Run::new().add_text(s).size(TEXT_SIZE).fonts(fonts())
}

fn para(s: impl Into<String>) -> Paragraph {
    Paragraph::new()
        .add_run(text(s))
        .line_spacing(LineSpacing::new().after(80))
}

fn heading(s: &str) -> Paragraph {
    Paragraph::new()
        .add_run(text(s).bold().size(28))
        .line_spacing(LineSpacing::new().before(240).after(80))
}

fn cell(s: &str, width: usize) -> TableCell {
    TableCell::new()
        .add_paragraph(Paragraph::new().add_run(text(s)))
        .width(width, WidthType::Dxa)
}

fn table(header: &[&str], rows: &[Vec<String>]) -> Table {
    let first = TEXT_WIDTH - 1500 * (header.len() - 1);
    let widths: Vec<usize> = (0..header.len())
        .map(|i| if i == 0 { first } else { 1500 })
        .collect();
    let mut out = vec![TableRow::new(
        header
            .iter()
            .zip(&widths)
            .map(|(h, w)| cell(h, *w))
            .collect(),
    )];
    for r in rows {
        out.push(TableRow::new(
            r.iter().zip(&widths).map(|(v, w)| cell(v, *w)).collect(),
        ));
    }
    Table::new(out)
        .set_grid(widths)
        .width(TEXT_WIDTH, WidthType::Dxa)
}

/// "+3", "-1", "0", or "—" without a previous briefing.
pub fn change(v: &Value) -> String {
    match v.as_i64() {
        Some(n) if n > 0 => format!("+{n}"),
        Some(n) => n.to_string(),
        None => "—".to_owned(),
    }
}

fn datetime(ms: i64) -> String {
    let d = local_date(ms);
    let minutes = (ms - shanzhi_domain::calendar::local_ms(d, 0)) / 60_000;
    format!(
        "{}年{}月{}日 {:02}:{:02}",
        chrono::Datelike::year(&d),
        chrono::Datelike::month(&d),
        chrono::Datelike::day(&d),
        minutes / 60,
        minutes % 60
    )
}

/// `(label, n)` of a section's items, for its chart.
fn bars_of(items: &Value, label: &str) -> Vec<(String, i64)> {
    items
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| {
                    (
                        i[label].as_str().unwrap_or("").to_owned(),
                        i["n"].as_i64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Numbered rows (the chart labels rows by number when its font lacks the characters).
fn numbered(items: &Value, label: &str) -> Vec<Vec<String>> {
    items
        .as_array()
        .map(|a| {
            a.iter()
                .enumerate()
                .map(|(i, it)| {
                    vec![
                        format!("{}. {}", i + 1, it[label].as_str().unwrap_or("")),
                        it["n"].as_i64().unwrap_or(0).to_string(),
                        change(&it["change"]),
                    ]
                })
                .collect()
        })
        .unwrap_or_default()
}

fn chart(items: &Value, label: &str, font: Option<&Path>) -> std::io::Result<Option<Paragraph>> {
    let bars = bars_of(items, label);
    if bars.is_empty() {
        return Ok(None);
    }
    let (png, w, h) = super::chart::bars(&bars, font).map_err(std::io::Error::other)?;
    let height = (u64::from(CHART_EMU) * u64::from(h) / u64::from(w)) as u32;
    let pic = Pic::new_with_dimensions(png, w, h).size(CHART_EMU, height);
    Ok(Some(
        Paragraph::new()
            .add_run(Run::new().add_image(pic))
            .align(AlignmentType::Center),
    ))
}

/// The document of a briefing's figures (the JSON archived with it).
pub fn render(f: &Value, font: Option<&Path>) -> std::io::Result<Vec<u8>> {
    let kind_zh = if f["kind"] == "morning" {
        "早报"
    } else {
        "晚报"
    };
    let node = f["node"]["name"].as_str().unwrap_or("");
    let day = f["day"].as_i64().unwrap_or(0);
    let t = &f["totals"];
    let mut doc = Docx::new()
        .add_paragraph(
            Paragraph::new()
                .add_run(
                    text(format!("{node}社会治理{kind_zh}"))
                        .size(TITLE_SIZE)
                        .bold(),
                )
                .align(AlignmentType::Center)
                .line_spacing(LineSpacing::new().after(200)),
        )
        .add_paragraph(
            para(format!(
                "{}年{}月{}日　统计时段：{} 至 {}",
                day / 10_000,
                day / 100 % 100,
                day % 100,
                datetime(f["from"].as_i64().unwrap_or(0)),
                datetime(f["to"].as_i64().unwrap_or(0))
            ))
            .align(AlignmentType::Center),
        )
        .add_paragraph(heading("一、总体情况"));
    let totals = [
        ("新增事件", "events"),
        ("超期未办结工单", "overdue"),
        ("新增风险线索", "clues_new"),
        ("研判定级风险", "risks_new"),
        ("调整等级风险", "risks_regraded"),
        ("受理矛盾纠纷", "disputes"),
        ("被督办部门", "lagging_departments"),
        ("未报进展（部门·日）", "missed_reports"),
        ("发布预警", "warnings"),
    ];
    let rows: Vec<Vec<String>> = totals
        .iter()
        .map(|(label, key)| {
            vec![
                (*label).to_owned(),
                t[key]["n"].as_i64().unwrap_or(0).to_string(),
                change(&t[key]["change"]),
            ]
        })
        .collect();
    doc = doc.add_table(table(&["指标", "本期", "较上期"], &rows));
    let sections = [
        ("二、新增事件（按类别）", "events_by_category", "name"),
        ("三、新增事件（按区域）", "events_by_area", "name"),
        ("四、事件高发网格", "hotspots", "name"),
        ("五、超期工单（按区域）", "overdue_by_area", "name"),
        ("六、受理矛盾纠纷（按类型）", "disputes_by_type", "name"),
        ("七、被督办部门排名", "lagging", "name"),
    ];
    for (title, key, label) in sections {
        doc = doc.add_paragraph(heading(title));
        let items = &f[key];
        let rows = numbered(items, label);
        if rows.is_empty() {
            doc = doc.add_paragraph(para("本期无。"));
            continue;
        }
        doc = doc.add_table(table(&["项目", "本期", "较上期"], &rows));
        if let Some(p) = chart(items, label, font)? {
            doc = doc.add_paragraph(p);
        }
    }
    doc = doc.add_paragraph(heading("八、风险线索与研判"));
    let clues: Vec<Vec<String>> = f["clues"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    vec![
                        format!(
                            "{}（{}）",
                            r["number"].as_str().unwrap_or(""),
                            r["type_name"].as_str().unwrap_or("")
                        ),
                        r["level"].as_str().unwrap_or("线索").to_owned(),
                        r["source"].as_str().unwrap_or("").to_owned(),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    if clues.is_empty() {
        doc = doc.add_paragraph(para("本期无新增线索。"));
    } else {
        doc = doc.add_table(table(&["新增线索", "等级", "来源"], &clues));
    }
    let graded: Vec<Vec<String>> = f["risks_graded"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    vec![
                        format!(
                            "{}（{}）",
                            r["number"].as_str().unwrap_or(""),
                            r["type_name"].as_str().unwrap_or("")
                        ),
                        r["from_level"].as_str().unwrap_or("—").to_owned(),
                        r["level"].as_str().unwrap_or("").to_owned(),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    if !graded.is_empty() {
        doc = doc.add_table(table(&["研判、调级", "原等级", "现等级"], &graded));
    }
    doc = doc.add_paragraph(heading("九、预警发布"));
    let warnings = numbered(&f["warnings_by_level"], "level");
    if warnings.is_empty() {
        doc = doc.add_paragraph(para("本期未发布预警。"));
    } else {
        doc = doc.add_table(table(&["等级", "条数", "较上期"], &warnings));
    }
    let mut out = Cursor::new(Vec::new());
    doc.pack(&mut out).map_err(std::io::Error::other)?;
    Ok(out.into_inner())
}
