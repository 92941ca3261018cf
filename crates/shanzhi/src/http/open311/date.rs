//! Dates as GeoReport writes them: the W3C profile of ISO 8601 with a zone offset. We answer in
//! China time (+08:00), the zone of the jurisdictions Shanzhi serves.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};

const CHINA_OFFSET_SECONDS: i32 = 8 * 3600;

fn china() -> FixedOffset {
    FixedOffset::east_opt(CHINA_OFFSET_SECONDS).expect("+08:00 is a valid offset")
}

/// Unix milliseconds as `2026-11-18T09:30:00+08:00`.
pub fn format(ms: i64) -> String {
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => t
            .with_timezone(&china())
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
        None => String::new(),
    }
}

/// Unix milliseconds as a short local time for notices (`2026-11-18 09:30`).
pub fn local_minutes(ms: i64) -> String {
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => t
            .with_timezone(&china())
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        None => String::new(),
    }
}

/// Parses a W3C datetime (every form of the W3C profile of ISO 8601) into unix milliseconds:
/// `2010-01-01T00:00:00Z`, an offset instead of `Z`, optional fractional seconds, or no seconds
/// (`2010-01-01T08:00+08:00`). The forms without a time, a date (`2010-01-01`), a year and
/// month (`2010-01`) or a year (`2010`), mean the start of that day, month or year, midnight
/// China time. A `+` sent unescaped in a query string arrives as a space; it is read back as
/// `+`.
pub fn parse(input: &str) -> Option<i64> {
    let s = input.trim();
    let fixed;
    let s = match s.find('T').or_else(|| s.find('t')) {
        Some(t) if s[t..].contains(' ') => {
            fixed = format!("{}{}", &s[..t], s[t..].replace(' ', "+"));
            fixed.as_str()
        }
        _ => s,
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    let zoned = if let Some(rest) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        format!("{rest}+00:00")
    } else {
        s.to_owned()
    };
    if let Ok(t) = DateTime::parse_from_str(&zoned, "%Y-%m-%dT%H:%M%:z") {
        return Some(t.timestamp_millis());
    }
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let date = match (s.len(), s.split_once('-')) {
        (4, None) if digits(s) => NaiveDate::from_ymd_opt(s.parse().ok()?, 1, 1),
        (7, Some((y, m))) if digits(y) && digits(m) => {
            NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
        }
        (10, _) => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
        _ => None,
    };
    if let Some(d) = date {
        let midnight: NaiveDateTime = d.and_hms_opt(0, 0, 0)?;
        return china()
            .from_local_datetime(&midnight)
            .single()
            .map(|t| t.timestamp_millis());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_w3c_forms_and_writes_china_time() {
        let t = parse("1994-11-05T13:15:30Z").unwrap();
        assert_eq!(parse("1994-11-05T08:15:30-05:00"), Some(t));
        assert_eq!(
            parse("1994-11-05T21:15:30 08:00"),
            Some(t),
            "an unescaped + read back"
        );
        assert_eq!(parse("1994-11-05T13:15:30.000Z"), Some(t));
        assert_eq!(parse("1994-11-05T13:15Z"), Some(t - 30_000));
        assert_eq!(format(t), "1994-11-05T21:15:30+08:00");
        assert_eq!(parse(&format(t)), Some(t));
        assert_eq!(
            parse("1994-11-06"),
            Some(parse("1994-11-05T16:00:00Z").unwrap())
        );
        assert_eq!(parse("2026-12"), parse("2026-12-01"));
        assert_eq!(
            parse("2026-12"),
            Some(parse("2026-11-30T16:00:00Z").unwrap())
        );
        assert_eq!(parse("2026"), parse("2026-01-01"));
        for bad in [
            "",
            "yesterday",
            "1994-13-05T00:00:00Z",
            "1994-11-05T13:15:30",
            "05/11/1994",
            "2026-13",
            "2026-1",
            "202",
            "+2026",
            "2026-00",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
