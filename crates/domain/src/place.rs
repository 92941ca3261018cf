//! Places (场所) of the base data: shops, schools, hospitals, enterprise sites and the "nine
//! small places" (九小场所), with their business licence and their safety checks (安全检查).
//! Each kind is checked at least every so many days; a check that finds hazards or fails is
//! followed up sooner; a place whose next check has passed is overdue.

use chrono::NaiveDate;

use crate::calendar::local_date;
use crate::text::{label, note};
use crate::DomainError;

const DAY_MS: i64 = 86_400_000;
/// A new place is first checked within this many days of being registered (or sooner if its
/// kind is checked more often).
pub const FIRST_CHECK_DAYS: i64 = 30;
/// Hazards found (发现隐患): the rectification is checked again within this many days.
pub const HAZARD_RECHECK_DAYS: i64 = 15;
/// A failed check (不合格): checked again within this many days.
pub const FAILED_RECHECK_DAYS: i64 = 7;
/// Longest licence number, in characters.
pub const MAX_LICENCE_CHARS: usize = 64;
/// Longest check note, in characters.
pub const MAX_CHECK_NOTE_CHARS: usize = 2000;

/// What kind of place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlaceKind {
    /// 商铺
    Shop,
    /// 学校
    School,
    /// 医院
    Hospital,
    /// 企业场所
    EnterpriseSite,
    /// 小商店
    SmallShop,
    /// 小餐饮
    SmallRestaurant,
    /// 小旅馆
    SmallHotel,
    /// 小歌舞娱乐
    SmallEntertainment,
    /// 小网吧
    SmallInternetCafe,
    /// 小美容洗浴
    SmallBeautyBath,
    /// 小学校/幼儿园
    SmallSchool,
    /// 小医院/诊所
    SmallClinic,
    /// 小生产加工
    SmallWorkshop,
}

impl PlaceKind {
    pub const ALL: [PlaceKind; 13] = [
        PlaceKind::Shop,
        PlaceKind::School,
        PlaceKind::Hospital,
        PlaceKind::EnterpriseSite,
        PlaceKind::SmallShop,
        PlaceKind::SmallRestaurant,
        PlaceKind::SmallHotel,
        PlaceKind::SmallEntertainment,
        PlaceKind::SmallInternetCafe,
        PlaceKind::SmallBeautyBath,
        PlaceKind::SmallSchool,
        PlaceKind::SmallClinic,
        PlaceKind::SmallWorkshop,
    ];

    /// The word the API and the database use.
    pub fn as_str(self) -> &'static str {
        match self {
            PlaceKind::Shop => "shop",
            PlaceKind::School => "school",
            PlaceKind::Hospital => "hospital",
            PlaceKind::EnterpriseSite => "enterprise_site",
            PlaceKind::SmallShop => "small_shop",
            PlaceKind::SmallRestaurant => "small_restaurant",
            PlaceKind::SmallHotel => "small_hotel",
            PlaceKind::SmallEntertainment => "small_entertainment",
            PlaceKind::SmallInternetCafe => "small_internet_cafe",
            PlaceKind::SmallBeautyBath => "small_beauty_bath",
            PlaceKind::SmallSchool => "small_school",
            PlaceKind::SmallClinic => "small_clinic",
            PlaceKind::SmallWorkshop => "small_workshop",
        }
    }

    /// Every API word, for the OpenAPI document.
    pub fn words() -> Vec<&'static str> {
        PlaceKind::ALL.iter().map(|k| k.as_str()).collect()
    }

    /// Parses the API word.
    pub fn parse(s: &str) -> Result<PlaceKind, DomainError> {
        PlaceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DomainError::invalid("kind", "is not a kind of place"))
    }

    /// The name a spreadsheet and the console show in Chinese.
    pub fn label_zh(self) -> &'static str {
        match self {
            PlaceKind::Shop => "商铺",
            PlaceKind::School => "学校",
            PlaceKind::Hospital => "医院",
            PlaceKind::EnterpriseSite => "企业场所",
            PlaceKind::SmallShop => "小商店",
            PlaceKind::SmallRestaurant => "小餐饮",
            PlaceKind::SmallHotel => "小旅馆",
            PlaceKind::SmallEntertainment => "小歌舞娱乐",
            PlaceKind::SmallInternetCafe => "小网吧",
            PlaceKind::SmallBeautyBath => "小美容洗浴",
            PlaceKind::SmallSchool => "小学校/幼儿园",
            PlaceKind::SmallClinic => "小医院/诊所",
            PlaceKind::SmallWorkshop => "小生产加工",
        }
    }

    /// The kind a spreadsheet's cell names: its Chinese name (or a common short form), or the
    /// API word.
    pub fn of_word(s: &str) -> Option<PlaceKind> {
        let w = s.trim();
        if let Some(k) = PlaceKind::ALL
            .into_iter()
            .find(|k| k.label_zh() == w || k.as_str() == w.to_lowercase())
        {
            return Some(k);
        }
        Some(match w {
            "商店" | "门店" => PlaceKind::Shop,
            "企业" => PlaceKind::EnterpriseSite,
            "小餐馆" | "餐饮" => PlaceKind::SmallRestaurant,
            "小歌舞厅" | "歌舞娱乐" => PlaceKind::SmallEntertainment,
            "网吧" => PlaceKind::SmallInternetCafe,
            "美容洗浴" | "小美容" => PlaceKind::SmallBeautyBath,
            "小学校" | "幼儿园" => PlaceKind::SmallSchool,
            "小医院" | "诊所" => PlaceKind::SmallClinic,
            "小作坊" | "小加工" => PlaceKind::SmallWorkshop,
            _ => return None,
        })
    }

    /// One of the nine small places (九小场所).
    pub fn is_small(self) -> bool {
        self.as_str().starts_with("small_")
    }

    /// A safety check at least every so many days: places where people sleep, gather at night
    /// or where fire and gas are used are checked most often.
    pub fn check_days(self) -> i64 {
        match self {
            PlaceKind::SmallEntertainment | PlaceKind::SmallInternetCafe => 30,
            PlaceKind::SmallHotel
            | PlaceKind::SmallRestaurant
            | PlaceKind::SmallWorkshop
            | PlaceKind::SmallSchool => 60,
            PlaceKind::SmallBeautyBath
            | PlaceKind::SmallClinic
            | PlaceKind::School
            | PlaceKind::Hospital
            | PlaceKind::EnterpriseSite => 90,
            PlaceKind::Shop | PlaceKind::SmallShop => 180,
        }
    }

    /// When a place registered at `registered_at` is first due for a check.
    pub fn first_check_at(self, registered_at: i64) -> i64 {
        registered_at + self.check_days().min(FIRST_CHECK_DAYS) * DAY_MS
    }

    /// When the next check falls due after a check with `result` at `at`.
    pub fn next_check_at(self, result: CheckResult, at: i64) -> i64 {
        let days = match result {
            CheckResult::Passed => self.check_days(),
            CheckResult::HazardsFound => self.check_days().min(HAZARD_RECHECK_DAYS),
            CheckResult::Failed => self.check_days().min(FAILED_RECHECK_DAYS),
        };
        at + days * DAY_MS
    }
}

/// What a safety check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckResult {
    /// 合格
    Passed,
    /// 发现隐患
    HazardsFound,
    /// 不合格
    Failed,
}

impl CheckResult {
    pub const ALL: [CheckResult; 3] = [
        CheckResult::Passed,
        CheckResult::HazardsFound,
        CheckResult::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckResult::Passed => "passed",
            CheckResult::HazardsFound => "hazards_found",
            CheckResult::Failed => "failed",
        }
    }

    /// 合格, 发现隐患, 不合格.
    pub fn label_zh(self) -> &'static str {
        match self {
            CheckResult::Passed => "合格",
            CheckResult::HazardsFound => "发现隐患",
            CheckResult::Failed => "不合格",
        }
    }

    /// The result a spreadsheet's cell names, in Chinese or as the API word.
    pub fn of_word(s: &str) -> Option<CheckResult> {
        let w = s.trim();
        CheckResult::ALL
            .into_iter()
            .find(|r| r.label_zh() == w || r.as_str() == w.to_lowercase())
            .or(match w {
                "有隐患" | "隐患" => Some(CheckResult::HazardsFound),
                _ => None,
            })
    }

    pub fn parse(s: &str) -> Result<CheckResult, DomainError> {
        CheckResult::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid("result", "must be passed, hazards_found or failed")
            })
    }
}

/// A check's note: required unless it passed (hazards and failures say what was found).
pub fn parse_check_note(
    result: CheckResult,
    raw: Option<&str>,
) -> Result<Option<String>, DomainError> {
    let n = note("note", raw.unwrap_or(""), MAX_CHECK_NOTE_CHARS)?;
    if n.is_none() && result != CheckResult::Passed {
        return Err(DomainError::invalid(
            "note",
            "say what was found when a check does not pass",
        ));
    }
    Ok(n)
}

/// Is a place whose next check is due at `next_check_at` overdue at `now`?
pub fn is_overdue(next_check_at: i64, now: i64) -> bool {
    now > next_check_at
}

/// A business licence (营业执照 or permit): its number and the last day it is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Licence {
    pub number: String,
    pub expires: Option<NaiveDate>,
}

impl Licence {
    /// A number (1 to 64 characters) and an optional expiry `YYYY-MM-DD`; no number, no licence.
    pub fn parse(
        number: Option<&str>,
        expires: Option<&str>,
    ) -> Result<Option<Licence>, DomainError> {
        let number = number
            .map(|n| note("licence_no", n, MAX_LICENCE_CHARS))
            .transpose()?
            .flatten();
        let expires = expires
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| {
                NaiveDate::parse_from_str(e, "%Y-%m-%d").map_err(|_| {
                    DomainError::invalid("licence_expires", "must be a date YYYY-MM-DD")
                })
            })
            .transpose()?;
        match (number, expires) {
            (Some(number), expires) => Ok(Some(Licence { number, expires })),
            (None, None) => Ok(None),
            (None, Some(_)) => Err(DomainError::invalid(
                "licence_no",
                "give the licence number with its expiry date",
            )),
        }
    }

    /// Has the licence expired at `now` (a local day after its last valid one)?
    pub fn expired(&self, now: i64) -> bool {
        self.expires.is_some_and(|d| local_date(now) > d)
    }
}

/// A place's name.
pub fn parse_place_name(raw: &str) -> Result<String, DomainError> {
    label("name", raw, 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_780_000_000_000;

    #[test]
    fn kinds_round_trip_and_nine_are_small() {
        for k in PlaceKind::ALL {
            assert_eq!(PlaceKind::parse(k.as_str()).unwrap(), k);
        }
        assert_eq!(PlaceKind::ALL.iter().filter(|k| k.is_small()).count(), 9);
        assert!(PlaceKind::parse("bar").is_err());
    }

    #[test]
    fn kinds_and_results_are_read_from_their_chinese_names() {
        for k in PlaceKind::ALL {
            assert_eq!(PlaceKind::of_word(k.label_zh()), Some(k));
            assert_eq!(PlaceKind::of_word(k.as_str()), Some(k));
        }
        assert_eq!(
            PlaceKind::of_word(" 网吧 "),
            Some(PlaceKind::SmallInternetCafe)
        );
        assert_eq!(PlaceKind::of_word("幼儿园"), Some(PlaceKind::SmallSchool));
        assert_eq!(PlaceKind::of_word("酒吧"), None);
        for r in CheckResult::ALL {
            assert_eq!(CheckResult::of_word(r.label_zh()), Some(r));
            assert_eq!(CheckResult::of_word(r.as_str()), Some(r));
        }
        assert_eq!(CheckResult::of_word("良好"), None);
    }

    #[test]
    fn the_next_check_follows_the_result() {
        let cases = [
            (PlaceKind::SmallInternetCafe, CheckResult::Passed, 30),
            (PlaceKind::SmallInternetCafe, CheckResult::HazardsFound, 15),
            (PlaceKind::SmallInternetCafe, CheckResult::Failed, 7),
            (PlaceKind::Shop, CheckResult::Passed, 180),
            (PlaceKind::Shop, CheckResult::HazardsFound, 15),
            (PlaceKind::School, CheckResult::Passed, 90),
            (PlaceKind::SmallHotel, CheckResult::Failed, 7),
        ];
        for (kind, result, days) in cases {
            assert_eq!(
                kind.next_check_at(result, T0),
                T0 + days * DAY_MS,
                "{kind:?} {result:?}"
            );
        }
        assert_eq!(PlaceKind::Shop.first_check_at(T0), T0 + 30 * DAY_MS);
        assert_eq!(
            PlaceKind::SmallEntertainment.first_check_at(T0),
            T0 + 30 * DAY_MS
        );
    }

    #[test]
    fn a_place_is_overdue_once_its_check_falls_due() {
        let due = PlaceKind::SmallRestaurant.next_check_at(CheckResult::Passed, T0);
        assert!(!is_overdue(due, T0));
        assert!(!is_overdue(due, due));
        assert!(is_overdue(due, due + 1));
    }

    #[test]
    fn a_check_that_does_not_pass_says_why() {
        assert_eq!(parse_check_note(CheckResult::Passed, None).unwrap(), None);
        assert!(parse_check_note(CheckResult::HazardsFound, Some("  ")).is_err());
        assert!(parse_check_note(CheckResult::Failed, None).is_err());
        assert_eq!(
            parse_check_note(CheckResult::HazardsFound, Some("灭火器过期"))
                .unwrap()
                .as_deref(),
            Some("灭火器过期")
        );
        assert!(CheckResult::parse("ok").is_err());
    }

    #[test]
    fn a_licence_has_a_number_and_maybe_an_expiry() {
        assert_eq!(Licence::parse(None, None).unwrap(), None);
        let l = Licence::parse(Some("JY14415020001"), Some("2026-12-31"))
            .unwrap()
            .unwrap();
        assert_eq!(l.expires, NaiveDate::from_ymd_opt(2026, 12, 31));
        assert!(Licence::parse(None, Some("2026-12-31")).is_err());
        assert!(Licence::parse(Some("X1"), Some("2026-13-01")).is_err());
        // 2027-01-01 00:30 in UTC+8 is past a licence valid through 2026-12-31.
        let new_year = 1_798_761_600_000 - 8 * 3_600_000 + 30 * 60_000;
        assert!(l.expired(new_year));
        assert!(!l.expired(new_year - 3_600_000));
    }
}
