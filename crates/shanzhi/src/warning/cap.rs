//! Warnings as OASIS Common Alerting Protocol 1.2 messages, and the Atom feed that lists them
//! (the CAP-feed practice of public-warning systems). XML is written here with every text
//! escaped; the tests validate the result against the OASIS schema.
//!
//! A warning is one `<alert>` (status Actual, msgType Alert, scope Public) with one `<info>` in
//! zh-CN: category Safety, the level graded by [`Level::cap`], the title as event and
//! headline, the message as description, and one `<area>` whose `<areaDesc>` names the grids
//! and which holds one `<polygon>` per outer ring of each grid's outline.

use chrono::{DateTime, FixedOffset};
use shanzhi_domain::grid::Shape;
use shanzhi_domain::warning::{cap_polygons, Level};
use shanzhi_store::warning::Warning;

/// The CAP 1.2 namespace.
pub const CAP_NS: &str = "urn:oasis:names:tc:emergency:cap:1.2";

/// A grid of a warning's area.
pub struct Grid {
    pub name: String,
    pub shape: Option<Shape>,
}

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and newlines are not allowed in XML 1.0.
            c if c.is_control() && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// A time as CAP writes it: `2026-05-01T08:30:00+08:00` (China Standard Time; CAP forbids `Z`).
pub fn cap_time(ms: i64) -> String {
    let cst = FixedOffset::east_opt(8 * 3600).expect("a valid offset");
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&cst)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// The CAP identifier of a warning: the sender's and the warning's number (no spaces, commas,
/// `<` or `&`, as CAP asks).
pub fn identifier(sender: &str, w: &Warning) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, ',' | '<' | '&'))
            .collect()
    };
    format!("{}.{}", clean(sender), clean(&w.number))
}

fn identifier_part(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, ',' | '<' | '&'))
        .collect()
}

/// The `<alert>` of a warning.
pub fn alert(sender: &str, sender_name: &str, w: &Warning, grids: &[Grid]) -> String {
    let level = Level::parse(&w.level).unwrap_or(Level::Blue);
    let grade = level.cap();
    let sender_clean: String = sender
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, ',' | '<' | '&'))
        .collect();
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!("<alert xmlns=\"{CAP_NS}\">\n"));
    let el = |x: &mut String, indent: usize, name: &str, text: &str| {
        x.push_str(&" ".repeat(indent));
        x.push_str(&format!("<{name}>{}</{name}>\n", escape(text)));
    };
    el(&mut x, 2, "identifier", &identifier(sender, w));
    el(&mut x, 2, "sender", &sender_clean);
    el(&mut x, 2, "sent", &cap_time(w.created_at));
    el(&mut x, 2, "status", "Actual");
    el(&mut x, 2, "msgType", "Alert");
    el(&mut x, 2, "scope", "Public");
    x.push_str("  <info>\n");
    el(&mut x, 4, "language", "zh-CN");
    el(&mut x, 4, "category", "Safety");
    el(&mut x, 4, "event", &w.title);
    el(&mut x, 4, "urgency", grade.urgency);
    el(&mut x, 4, "severity", grade.severity);
    el(&mut x, 4, "certainty", grade.certainty);
    x.push_str("    <eventCode>\n");
    el(&mut x, 6, "valueName", "shanzhi:level");
    el(&mut x, 6, "value", level.as_str());
    x.push_str("    </eventCode>\n");
    el(&mut x, 4, "senderName", sender_name);
    el(
        &mut x,
        4,
        "headline",
        &format!("{}：{}", level.zh(), w.title),
    );
    el(&mut x, 4, "description", &w.message);
    x.push_str("    <area>\n");
    let names: Vec<&str> = grids.iter().map(|g| g.name.as_str()).collect();
    el(&mut x, 6, "areaDesc", &names.join("、"));
    for g in grids {
        for p in g.shape.as_ref().map(cap_polygons).unwrap_or_default() {
            el(&mut x, 6, "polygon", &p);
        }
    }
    x.push_str("    </area>\n");
    x.push_str("  </info>\n");
    x.push_str("</alert>\n");
    x
}

/// The Atom feed of `warnings` (newest first): each entry links to its CAP message.
pub fn feed(
    base: &str,
    sender: &str,
    sender_name: &str,
    warnings: &[Warning],
    now_ms: i64,
) -> String {
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    let updated = warnings.first().map(|w| w.created_at).unwrap_or(now_ms);
    x.push_str(&format!(
        "  <id>{}</id>\n  <title>{}</title>\n  <updated>{}</updated>\n",
        escape(&format!("urn:shanzhi:warnings:{}", identifier_part(sender))),
        escape(&format!("{sender_name} 预警信息")),
        cap_time(updated)
    ));
    x.push_str(&format!(
        "  <author><name>{}</name><email>{}</email></author>\n",
        escape(sender_name),
        escape(sender)
    ));
    x.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n",
        escape(&format!("{base}/api/v1/warnings/feed"))
    ));
    for w in warnings {
        let level = Level::parse(&w.level).unwrap_or(Level::Blue);
        let cap = format!("{base}/api/v1/warnings/{}/cap", w.id);
        x.push_str("  <entry>\n");
        x.push_str(&format!(
            "    <id>urn:shanzhi:warning:{}</id>\n",
            escape(&identifier(sender, w))
        ));
        x.push_str(&format!(
            "    <title>{}</title>\n",
            escape(&format!("{}：{}", level.zh(), w.title))
        ));
        x.push_str(&format!(
            "    <updated>{}</updated>\n",
            cap_time(w.created_at)
        ));
        x.push_str(&format!(
            "    <link rel=\"alternate\" type=\"application/cap+xml\" href=\"{}\"/>\n",
            escape(&cap)
        ));
        x.push_str(&format!("    <summary>{}</summary>\n", escape(&w.message)));
        x.push_str("  </entry>\n");
    }
    x.push_str("</feed>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_times_carry_the_china_offset() {
        assert_eq!(cap_time(0), "1970-01-01T08:00:00+08:00");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }
}
