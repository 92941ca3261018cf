//! Services are our categories. Their attributes (a finer address, the time seen, the severity,
//! who is affected) are checked against the definition and stored apart from the event's
//! description and address, which stay exactly as the client sent them; the console shows them
//! beside the description, and GET requests returns them with `extensions=true`. An
//! informational attribute shows the category's deadlines. Severity is required for urgent
//! categories.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use shanzhi_store::category::Category;

use super::reply::{Format, Open311Error};
use super::xml::Node;
use super::{date, Lang};

/// One attribute of a service definition.
#[derive(Debug, Clone)]
pub struct AttributeDef {
    pub code: &'static str,
    pub datatype: &'static str,
    /// False: shown to the user, never sent back.
    pub variable: bool,
    pub required: bool,
    pub order: i64,
    pub description: String,
    pub datatype_description: Option<String>,
    /// (key, name) of the options of a list.
    pub values: Vec<(&'static str, String)>,
}

/// Options of `severity`: key, Chinese, English.
const SEVERITY: [(&str, &str, &str); 3] = [
    ("minor", "一般", "Minor"),
    ("serious", "较重", "Serious"),
    ("danger", "危及人身安全", "Danger to people"),
];
/// Options of `affected`: key, Chinese, English.
const AFFECTED: [(&str, &str, &str); 4] = [
    ("traffic", "影响通行", "Blocks traffic"),
    ("children", "涉及儿童或学校", "Children or a school"),
    ("elderly", "涉及老人", "Elderly people"),
    ("environment", "污染环境", "Pollution"),
];

/// Longest value of a string attribute, in characters.
const MAX_STRING_CHARS: usize = 100;

fn duration(minutes: i64, lang: Lang) -> String {
    match (lang, minutes % 60 == 0) {
        (Lang::Zh, true) => format!("{} 小时", minutes / 60),
        (Lang::Zh, false) => format!("{minutes} 分钟"),
        (Lang::En, true) if minutes == 60 => "1 working hour".to_owned(),
        (Lang::En, true) => format!("{} working hours", minutes / 60),
        (Lang::En, false) => format!("{minutes} working minutes"),
    }
}

/// The category's deadlines in a sentence.
pub fn deadlines(c: &Category, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!(
            "受理时限 {}，派单后办理时限 {}（按工作时间计）",
            duration(c.accept_minutes, lang),
            duration(c.handle_minutes, lang)
        ),
        Lang::En => format!(
            "Accepted within {}; handled within {} of dispatch",
            duration(c.accept_minutes, lang),
            duration(c.handle_minutes, lang)
        ),
    }
}

/// The attributes of a service.
pub fn definitions(c: &Category, lang: Lang) -> Vec<AttributeDef> {
    let zh = lang == Lang::Zh;
    let pick = |z: &str, e: &str| if zh { z.to_owned() } else { e.to_owned() };
    let options = |list: &[(&'static str, &str, &str)]| {
        list.iter()
            .map(|(k, z, e)| (*k, pick(z, e)))
            .collect::<Vec<_>>()
    };
    vec![
        AttributeDef {
            code: "address_detail",
            datatype: "string",
            variable: true,
            required: false,
            order: 1,
            description: pick(
                "门牌号、楼栋或附近地标",
                "House number, building or a nearby landmark",
            ),
            datatype_description: Some(pick("不超过 100 字", "Up to 100 characters")),
            values: Vec::new(),
        },
        AttributeDef {
            code: "occurred_at",
            datatype: "datetime",
            variable: true,
            required: false,
            order: 2,
            description: pick("发现问题的时间", "When the problem was seen"),
            datatype_description: Some(pick(
                "如 2026-11-18T09:30:00+08:00",
                "e.g. 2026-11-18T09:30:00+08:00",
            )),
            values: Vec::new(),
        },
        AttributeDef {
            code: "severity",
            datatype: "singlevaluelist",
            variable: true,
            required: c.priority <= 1,
            order: 3,
            description: pick("严重程度", "How serious is it?"),
            datatype_description: None,
            values: options(&SEVERITY),
        },
        AttributeDef {
            code: "affected",
            datatype: "multivaluelist",
            variable: true,
            required: false,
            order: 4,
            description: pick(
                "影响到谁（可多选）",
                "Who or what is affected (several may apply)",
            ),
            datatype_description: None,
            values: options(&AFFECTED),
        },
        AttributeDef {
            code: "deadline",
            datatype: "string",
            variable: false,
            required: false,
            order: 5,
            description: deadlines(c, lang),
            datatype_description: None,
            values: Vec::new(),
        },
    ]
}

/// A service in the list.
pub fn list_item(c: &Category, parent: Option<&Category>, lang: Lang) -> Node {
    let mut keywords = vec![c.code.clone(), c.name.clone()];
    keywords.extend(parent.map(|p| p.name.clone()));
    Node::Obj(vec![
        ("service_code", Node::text(&c.code)),
        ("service_name", Node::text(&c.name)),
        (
            "description",
            Node::Text(format!("{}：{}", c.name, deadlines(c, lang))),
        ),
        ("metadata", Node::Bool(true)),
        ("type", Node::text("realtime")),
        ("keywords", Node::Text(keywords.join(", "))),
        ("group", Node::opt(parent.map(|p| p.name.clone()))),
    ])
}

/// The definition of a service.
pub fn definition(c: &Category, lang: Lang) -> Node {
    let attributes = definitions(c, lang)
        .into_iter()
        .map(|a| {
            let mut fields = vec![
                ("variable", Node::Bool(a.variable)),
                ("code", Node::text(a.code)),
                ("datatype", Node::text(a.datatype)),
                ("required", Node::Bool(a.required)),
                ("datatype_description", Node::opt(a.datatype_description)),
                ("order", Node::Int(a.order)),
                ("description", Node::Text(a.description)),
            ];
            if !a.values.is_empty() {
                let values = a
                    .values
                    .into_iter()
                    .map(|(k, n)| Node::Obj(vec![("key", Node::text(k)), ("name", Node::Text(n))]))
                    .collect();
                fields.push(("values", Node::List("value", values)));
            }
            Node::Obj(fields)
        })
        .collect();
    Node::Obj(vec![
        ("service_code", Node::text(&c.code)),
        ("attributes", Node::List("attribute", attributes)),
    ])
}

/// The attributes of a request, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// The values, `{code: value | [values]}`: option keys as sent, datetimes in China time.
    pub json: Value,
}

/// Checks the attributes sent with a request against the service's definition. Codes the
/// service does not define are ignored (FixMyStreet and others send their own, such as
/// `attribute[fixmystreet_id]`), as are informational attributes.
pub fn apply(
    c: &Category,
    given: &BTreeMap<String, Vec<String>>,
    format: Format,
) -> Result<Applied, Open311Error> {
    let bad = |code: &str, why: String| {
        Open311Error::bad_request(format, format!("attribute[{code}]: {why}"))
    };
    let mut out = Applied {
        json: json!({}),
        ..Applied::default()
    };
    for def in definitions(c, Lang::Zh) {
        let values: Vec<&str> = given
            .get(def.code)
            .map(|v| {
                v.iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if !def.variable {
            continue;
        }
        if values.is_empty() {
            if def.required {
                return Err(bad(def.code, format!("is required for service {}", c.code)));
            }
            continue;
        }
        if def.datatype != "multivaluelist" && values.len() > 1 {
            return Err(bad(def.code, "takes one value".into()));
        }
        let label = |key: &str| {
            def.values
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, n)| n.clone())
        };
        let keys = || {
            def.values
                .iter()
                .map(|(k, _)| *k)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match def.datatype {
            "string" => {
                let v = values[0];
                if v.chars().count() > MAX_STRING_CHARS || v.contains(['\n', '\r']) {
                    return Err(bad(
                        def.code,
                        format!("must be one line of at most {MAX_STRING_CHARS} characters"),
                    ));
                }
                out.json[def.code] = json!(v);
            }
            "datetime" => {
                let ms = date::parse(values[0]).ok_or_else(|| {
                    bad(
                        def.code,
                        "not a W3C datetime such as 2026-11-18T09:30:00+08:00".into(),
                    )
                })?;
                out.json[def.code] = json!(date::format(ms));
            }
            "singlevaluelist" => {
                if label(values[0]).is_none() {
                    return Err(bad(
                        def.code,
                        format!("'{}' is not one of {}", values[0], keys()),
                    ));
                }
                out.json[def.code] = json!(values[0]);
            }
            _ => {
                let mut chosen: Vec<&str> = Vec::new();
                for v in &values {
                    if label(v).is_none() {
                        return Err(bad(def.code, format!("'{v}' is not one of {}", keys())));
                    }
                    if !chosen.contains(v) {
                        chosen.push(v);
                    }
                }
                out.json[def.code] = json!(chosen);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn category(priority: i64) -> Category {
        Category {
            id: 1,
            code: "gas".into(),
            parent_id: None,
            name: "燃气".into(),
            department_kind: None,
            accept_minutes: 60,
            handle_minutes: 420,
            verify_minutes: 420,
            priority,
            on_spot: false,
            escalate_after_minutes: None,
            active: true,
            grid_first: false,
        }
    }

    fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in pairs {
            m.entry((*k).to_owned()).or_default().push((*v).to_owned());
        }
        m
    }

    #[test]
    fn attributes_are_checked_and_kept_as_given() {
        let a = apply(
            &category(1),
            &given(&[
                ("severity", "danger"),
                ("affected", "traffic"),
                ("affected", "children"),
                ("address_detail", "3栋"),
                ("fixmystreet_id", "9"),
            ]),
            Format::Json,
        )
        .unwrap();
        assert_eq!(
            a.json,
            json!({"address_detail": "3栋", "severity": "danger", "affected": ["traffic", "children"]})
        );
    }

    #[test]
    fn required_unknown_and_repeated_values_are_refused() {
        assert!(apply(&category(1), &given(&[]), Format::Xml)
            .unwrap_err()
            .description
            .contains("attribute[severity]: is required"));
        assert!(
            apply(&category(3), &given(&[]), Format::Xml).is_ok(),
            "severity is optional for normal categories"
        );
        assert!(apply(&category(3), &given(&[("severity", "huge")]), Format::Xml).is_err());
        assert!(apply(
            &category(3),
            &given(&[("severity", "minor"), ("severity", "serious")]),
            Format::Xml
        )
        .is_err());
        assert!(apply(
            &category(3),
            &given(&[("occurred_at", "last tuesday")]),
            Format::Xml
        )
        .is_err());
        assert!(apply(
            &category(3),
            &given(&[("affected", "traffic"), ("affected", "aliens")]),
            Format::Xml
        )
        .is_err());
    }
}
