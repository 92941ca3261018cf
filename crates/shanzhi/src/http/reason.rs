//! Stable keys for why a request was refused, so that a client can say it in its user's
//! language: every error body carries `reason` (a key from the table below, or the error's
//! `code` when no entry fits) and `params` (the values the sentence needs), while `message`
//! stays the English sentence for API users.
//!
//! The keys are read off the English messages by templates, in this one place: the domain and
//! the handlers keep writing plain sentences, and a sentence no template knows falls back to
//! the code, which clients translate generically (never showing the English).

use serde_json::{Map, Value};

/// (key, template): `{name}` stands for a non-empty run of text, returned as a parameter.
/// The first template that matches the whole message wins, so the specific come first.
pub const TEMPLATES: &[(&str, &str)] = &[
    // The loop: refusals of a move.
    ("wrong_state", "{rule}; this one is {state}"),
    ("already_rated", "this order has already been rated"),
    ("bounce_limit", "this order was returned {count} times; the centre has decided who handles it and it can no longer be returned"),
    ("department_area", "this department does not serve the order's area"),
    ("department_area", "a department does not serve the order's area"),
    ("summon_count", "summon {min} to {max} departments"),
    ("summon_twice", "a department is listed twice"),
    ("summon_lead", "the lead must be one of the summoned departments"),
    ("merge_self", "an order cannot be merged into itself"),
    ("merge_target", "cannot merge into a rejected or merged order"),
    ("merge_unknown", "no event {id} in your area"),
    ("no_department", "no department {id}"),
    ("no_default_department", "this category has no default department; choose one"),
    ("no_default_department", "no '{kind}' department serves this area; choose one"),
    ("stale", "the event was changed by someone else; reload and try again"),
    ("stale", "the event was changed by someone else at the same moment; reload and try again"),
    ("stale", "the record was changed by someone else; reload and try again"),
    // Reports.
    ("position_outside_area", "the position is outside your area"),
    ("position_outside_jurisdiction", "the position is outside the jurisdiction: no region or grid contains it"),
    ("idempotency_reused", "this Idempotency-Key was already used for a different report; use a new key for a new report"),
    ("photos_max", "at most {max} photos"),
    ("no_category", "no such category"),
    ("phone", "not a mobile or landline number with area code"),
    // Tags and visits (走访).
    ("tag_exists", "a tag with this code exists"),
    ("tag_builtin", "a builtin tag keeps its names and kind; only visit_days and vulnerable change"),
    ("tag_already", "the resident already has this tag"),
    ("no_tag", "no such tag"),
    ("resident_gone", "the resident has moved out or died; they are not tagged any more"),
    ("visit_position", "the resident's grid has no shape: give the visit's position to report a problem"),
    ("visit_days", "must be between {min} and {max} days, or null for no visits"),
    // The village books (三资).
    ("ledger_invoice", "an expense needs at least one invoice image before it can be approved (不上图不给报销)"),
    ("ledger_state", "an entry that is {state} cannot be {action}"),
    ("ledger_duty", "only the village's treasurer enters its entries"),
    ("ledger_duty", "only the village's treasurer changes its entries"),
    ("ledger_duty", "only the village's treasurer submits or voids an entry"),
    ("ledger_duty", "only the village committee approves an entry"),
    ("ledger_duty", "only the town's agency reviews an entry into the books"),
    ("ledger_duty", "only the town's agency closes a village's month"),
    ("ledger_own_entry", "whoever entered an entry does not approve or review it (不相容岗位相分离)"),
    ("ledger_incompatible", "one person cannot be both {duty} of {node} and {other} of {other_node} (不相容岗位相分离)"),
    ("ledger_invoice_used", "this invoice image is attached to entry {number} already"),
    ("ledger_date", "an entry is dated between 2000-01-01 and today"),
    ("ledger_close_order", "{month} is not closed yet: months close in order"),
    ("ledger_close_over", "a month is closed once it is over"),
    ("ledger_unbalanced", "debits ({debit}) must equal credits ({credit}) (借贷必须相等)"),
    ("ledger_month_closed", "{month} is closed: date the entry in an open month"),
    ("ledger_month_closed", "the entry's month is closed: send it back to be dated in an open month"),
    ("ledger_month_closed", "the entry's month was closed meanwhile: send it back to be re-dated"),
    ("ledger_close_waiting", "approved entries of the month wait for the review: post or send them back first"),
    ("ledger_closed_already", "the month is already closed"),
    ("ledger_reason", "a reason is needed to send an entry back"),
    ("ledger_upload", "upload the image first (POST /api/v1/photos)"),
    ("ledger_sides", "an entry has at least one debit and one credit line"),
    ("ledger_lines", "an entry has 2 to {max} lines"),
    ("ledger_account", "{code} is not an account of this village's chart"),
    ("ledger_expense_kind", "a debit to a cost or expenditure account is an expense: give the entry kind expense"),
    // Public notices (四务公开) and villagers' questions (我要监督).
    ("village_node", "a village's affairs are kept at a village (村、社区): give a village's code"),
    ("notice_speaker", "only the village, or the staff over it, writes its notices"),
    ("notice_speaker", "only the village, or the staff over it, changes its notices"),
    ("notice_speaker", "only the village, or the staff over it, publishes its notices"),
    ("notice_published", "a published notice is not changed: withdraw it with a reason, correct it and publish it again"),
    ("notice_move", "{why} (the notice is {state})"),
    ("question_asker", "villagers ask; the village answers"),
    ("question_answerer", "the village, or the staff over it, answers its villagers"),
    ("question_answered", "the question was answered already"),
    ("question_too_many", "{max} of your questions wait for their answers: ask again once they are answered"),
    ("changed_meanwhile", "the notice was changed by someone else; reload and try again"),
    ("changed_meanwhile", "the question was changed meanwhile; reload and try again"),
    // The contracts register (一清三规范).
    ("contract_duty", "only the village committee or the town's agency registers its contracts"),
    ("contract_duty", "only the village committee or the town's agency changes its contracts"),
    ("contract_duty", "only the village committee or the town's agency moves a flag's clean-up"),
    ("contract_number", "the village has a contract numbered {number} already"),
    ("contract_end", "the end is before the start"),
    ("contract_area", "must be an area above zero with at most two decimals, e.g. 12.50"),
    ("contract_kind", "land, forest, grassland, pond, building or other"),
    ("contract_unit", "mu, m2 or piece"),
    ("contract_meeting", "give the meeting's date with its reference"),
    ("contract_cleanup", "a flag that is {from} cannot become {to}"),
    ("contract_note", "say how the flag was cleaned up, or why it is reopened"),
    ("contract_no_flag", "the contract carries no open {flag} flag"),
    ("contract_flag_word", "expired, term_too_long, price_low or no_meeting_approval"),
    ("contract_status_word", "open, rectifying or cleaned"),
    ("contract_village", "a contract stays in its village"),
    ("contract_staff", "contracts are read by staff of an area; citizens read theirs under /api/v1/me/contracts"),
    ("contract_public", "these are a villager's public contracts; staff read /api/v1/contracts"),
    // The village points system (积分制).
    ("points_outside", "outside your area: the points of a village are for its staff and residents"),
    ("points_manage", "only the village's staff or committee manage its points"),
    ("points_staff_read", "the village's awards are read by its staff; residents read theirs under /api/v1/me/points"),
    ("points_new_rule", "a new rule is in force"),
    ("points_rule_points", "a rule gives or takes 1 to {max} points (not 0)"),
    ("points_rule_kind", "manual or report_confirmed"),
    ("points_report_positive", "a confirmed report earns points: give a positive number"),
    ("points_report_rule_twice", "the village has a rule for confirmed reports already: change that one"),
    ("points_stays", "a rule stays in its village"),
    ("points_stays", "an item stays in its village"),
    ("points_rule_keeps_kind", "a rule keeps its kind: withdraw it and publish another"),
    ("points_rule_unknown", "not a rule of this village"),
    ("points_rule_withdrawn", "the rule was withdrawn"),
    ("points_rule_automatic", "points for a confirmed report are given by themselves, once the report is closed"),
    ("points_note", "say what the resident did"),
    ("photo_hash", "a photo's hash"),
    ("photo_once", "a photo is attached once"),
    ("points_not_resident", "not a resident of this village (a citizen registered in it)"),
    ("points_upload", "upload the photos first (POST /api/v1/photos)"),
    ("points_new_item", "a new item gives its stock"),
    ("points_restock", "give restock: what is added to the stock (negative: a count correction)"),
    ("points_stock_max", "the stock is at most {max}"),
    ("points_stock_negative", "the stock cannot go below zero"),
    ("points_residents_redeem", "residents redeem their points; staff keep the shop"),
    ("points_withdrawn", "the item is no longer offered"),
    ("points_short_balance", "not enough points: the balance is {balance}, this costs {cost}"),
    ("points_short_stock", "not enough in stock: {stock} left, {quantity} asked for"),
    ("points_own", "these are a resident's own points; staff read /api/v1/points/awards"),
    ("amount", "must be an amount in yuan with at most two decimals, e.g. 1234.50"),
    ("email", "must be an e-mail address such as name@example.org"),
    // Consultations (协商议事).
    ("consult_speaker", "only the village, or the staff over it, puts topics to its residents"),
    ("consult_speaker", "only the village, or the staff over it, moves its topics"),
    ("consult_commenter", "the village's residents comment, and the village itself"),
    ("consult_too_many", "at most {max} comments each on a topic"),
    ("consult_move", "{why} (the topic is {state})"),
    ("consult_held_at", "the meeting is held after the topic was opened, and not in the future"),
    ("consult_attendees", "must be 1 to {max} people"),
    ("consult_decision", "agreed, rejected or deferred"),
    ("consult_state_word", "open, held, concluded or withdrawn"),
    ("consult_staff", "citizens read their villages' topics under /api/v1/me/consultations"),
    ("consult_public", "these are a villager's topics; staff read /api/v1/consultations"),
    ("changed_meanwhile", "the topic was changed meanwhile; reload and try again"),
    // Legislative-opinion collection (立法意见征集).
    ("law_move", "{why} (the draft is {state})"),
    ("law_closed", "the collection has ended: its closing date has passed"),
    ("law_unmarked", "{count} opinions are not marked yet: mark each adopted or not"),
    ("law_articles", "a draft has 1 to {max} articles"),
    ("law_closes_on", "the collection closes from today to {max} days on"),
    ("law_article", "an article of the draft, 1 to {max}, or 0 for the draft as a whole"),
    ("law_node", "a draft is put out at a region (a county, a town, a village), not a grid"),
    ("law_collector", "drafts are put out by the dispatchers and administrators over the area"),
    ("law_collector", "only the draft's collector (a dispatcher or administrator over its area) moves it"),
    ("law_giver", "opinions are given by the residents of the draft's area"),
    ("law_too_many", "at most {max} opinions each on a draft"),
    ("law_state_word", "open, closed or done"),
    ("law_staff", "citizens read the drafts of their area under /api/v1/me/draft-laws"),
    ("law_public", "these are a resident's drafts; staff read /api/v1/draft-laws"),
    ("changed_meanwhile", "the draft was changed meanwhile; reload and try again"),
    ("changed_meanwhile", "the opinion was changed meanwhile; reload and try again"),
    // Any form.
    ("required", "is required for this action"),
    ("required", "must not be empty"),
    ("required", "is missing"),
    ("control_chars", "must not contain control characters"),
    ("too_long", "must be at most {max} characters"),
    ("range", "must be between {min} and {max} working minutes"),
    ("range", "must be between {min} and {max}"),
    ("range", "must be {min} to {max}"),
    ("date", "must be a date YYYY-MM-DD"),
    ("node_code", "not a region or grid code"),
    // The register of residents.
    ("id_registered", "the ID number {mask} is registered already, at {node}"),
    ("id_length", "an ID number has 18 characters"),
    ("id_digits", "an ID number is 17 digits and a check digit (0-9 or X)"),
    ("id_region", "the region code {code} names no province (its first two digits)"),
    ("id_region", "the region code {code} is not the code of a county or district"),
    ("id_birth_date", "the birth date {date} in the number is not a real past date"),
    ("id_check_digit", "the check digit does not match: a digit is wrong or swapped"),
    ("household_has_head", "the household has a head already: change the head instead"),
    ("household_first_head", "a household's first member is its head"),
    ("household_head_last", "the head leaves last: make another member head first"),
    ("resident_elsewhere", "the resident is in another household already"),
    ("resident_status", "a resident who is {from} cannot become {to}"),
    ("correction_decided", "this correction was {state} already"),
    ("purpose_required", "say why you need it (目的)"),
    // The rows of an import (residents, places, organisations, buildings and houses).
    ("name_missing", "the name is missing"),
    ("name_long", "a name has at most {max} characters"),
    ("gender_word", "{word} is not 男 or 女"),
    ("gender_mismatch", "the gender does not match the ID number's"),
    ("gender_needed", "the gender is needed when there is no ID number"),
    ("residence_word", "{word} is not 户籍, 流动 or 境外"),
    ("relation_word", "{word} is not a relation to the head (户主, 配偶, 子女, 父母, 孙子女, 兄弟姐妹, 其他)"),
    ("grid_code", "{code} is not a grid code: {why}"),
    ("grid_missing", "the grid is missing (or name one for the whole import)"),
    ("not_a_tag", "{word} is not a tag of the catalogue"),
    ("id_on_row", "the same ID number is on row {row}"),
    ("id_in_register", "the ID number is in the register already"),
    ("room_needs_building", "a room needs its building"),
    ("at_most", "at most {max} characters"),
    ("no_node", "no grid or region {node}"),
    ("outside_scope", "{node} is outside your scope"),
    ("code_15_digits", "the code is stored as a number of more than 15 digits, and Excel keeps only 15: format the column as text and type the codes again"),
    ("code_whole", "{value} is not a code: codes are whole numbers"),
    ("code_scientific", "the code is written in scientific notation ({value}), which has lost its last digits: format the column as text and type the codes again"),
    ("date_not_code", "a date is not a code"),
    ("not_code", "{value} is not a code"),
    ("place_kind_missing", "the kind of place is missing"),
    ("place_kind", "{word} is not a kind of place (商铺, 学校, 医院, 企业场所 or one of the nine small places)"),
    ("degrees", "{value} is not a number of degrees"),
    ("lat_with_lon", "give lat with lon"),
    ("lon_with_lat", "give lon with lat"),
    ("not_date", "{value} is not a date YYYY-MM-DD"),
    ("not_date", "is not a date YYYY-MM-DD"),
    ("licence_with_number", "give the licence number with its expiry date"),
    ("check_after_today", "the last check cannot be after today"),
    ("check_result", "{word} is not 合格, 发现隐患 or 不合格"),
    ("result_with_date", "give the result with the check's date"),
    ("date_with_result", "give the check's date with its result"),
    ("name_registered", "{name} is registered here already"),
    ("name_on_row", "the same name is on row {row}"),
    ("org_kind_missing", "the kind of organisation is missing"),
    ("org_kind", "{word} is not 企业, 社会组织 or 网格党支部"),
    ("branch_exists", "{node} has a party branch already"),
    ("branch_on_row", "the party branch of {node} is on row {row}"),
    ("house_needs_room", "a house's use, area or owner needs its room"),
    ("house_use_missing", "the use of the house is missing"),
    ("house_use", "{word} is not 自住, 出租, 空置 or 商用"),
    ("floors_word", "{value} is not a whole number of floors"),
    ("area_word", "{value} is not an area in m²"),
    ("area_range", "the area must be more than 0 and at most {max} m²"),
    ("building_registered_differs", "the building {name} is registered with another value"),
    ("building_on_row", "the building {name} has another value on row {row}"),
    ("room_on_row", "{room} of {building} is on row {row}"),
    ("room_registered", "{room} of {building} is registered already"),
];

/// Matches `message` against `template`; the parameters when the whole message fits.
fn fit(template: &str, message: &str) -> Option<Map<String, Value>> {
    let mut params = Map::new();
    let mut rest = message;
    let mut tpl = template;
    loop {
        let Some(open) = tpl.find('{') else {
            return (rest == tpl).then_some(params);
        };
        let literal = &tpl[..open];
        rest = rest.strip_prefix(literal)?;
        let close = open + tpl[open..].find('}')?;
        let name = &tpl[open + 1..close];
        tpl = &tpl[close + 1..];
        let next = tpl.find('{').map_or(tpl, |i| &tpl[..i]);
        let end = if next.is_empty() {
            rest.len()
        } else {
            rest.find(next)?
        };
        if end == 0 {
            return None;
        }
        params.insert(name.to_owned(), Value::String(rest[..end].to_owned()));
        rest = &rest[end..];
    }
}

/// The reason key and its parameters for an error of `code` with this `message`.
pub fn reason_of(code: &str, message: &str) -> (String, Value) {
    for (key, template) in TEMPLATES {
        if let Some(params) = fit(template, message) {
            return ((*key).to_owned(), Value::Object(params));
        }
    }
    (code.to_owned(), Value::Object(Map::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_map_to_stable_keys_with_their_values() {
        let cases = [
            (
                "invalid",
                "summon 2 to 20 departments",
                "summon_count",
                json!({"min": "2", "max": "20"}),
            ),
            (
                "conflict",
                "only a reported order can be accepted; this one is dispatched",
                "wrong_state",
                json!({"rule": "only a reported order can be accepted", "state": "dispatched"}),
            ),
            (
                "invalid",
                "must be at most 2000 characters",
                "too_long",
                json!({"max": "2000"}),
            ),
            (
                "invalid",
                "must be between 1 and 43200 working minutes",
                "range",
                json!({"min": "1", "max": "43200"}),
            ),
            (
                "invalid",
                "must be between 1 and 500",
                "range",
                json!({"min": "1", "max": "500"}),
            ),
            (
                "invalid",
                "must be 1 to 5",
                "range",
                json!({"min": "1", "max": "5"}),
            ),
            (
                "invalid",
                "is required for this action",
                "required",
                json!({}),
            ),
            (
                "invalid",
                "no '城管' department serves this area; choose one",
                "no_default_department",
                json!({"kind": "城管"}),
            ),
            (
                "conflict",
                "this order has already been rated",
                "already_rated",
                json!({}),
            ),
            // No template: the code, no parameters.
            ("invalid", "something new entirely", "invalid", json!({})),
            ("not_found", "event not found", "not_found", json!({})),
            // A template must fit the whole message.
            ("invalid", "must not be empty, ever", "invalid", json!({})),
            ("invalid", "summon  to 20 departments", "invalid", json!({})),
        ];
        for (code, message, key, params) in cases {
            assert_eq!(
                reason_of(code, message),
                (key.to_owned(), params),
                "{message}"
            );
        }
    }

    #[test]
    fn every_key_is_said_in_chinese_and_in_english() {
        let zh = include_str!("../../../../web/src/js/i18n/zh-CN.js");
        let en = include_str!("../../../../web/src/js/i18n/en.js");
        for (key, _) in TEMPLATES {
            let entry = format!("'reason.{key}':");
            assert!(zh.contains(&entry), "no Chinese for reason.{key}");
            assert!(en.contains(&entry), "no English for reason.{key}");
        }
    }

    #[test]
    fn every_template_is_well_formed_and_reachable() {
        for (i, (key, template)) in TEMPLATES.iter().enumerate() {
            assert_eq!(
                template.matches('{').count(),
                template.matches('}').count(),
                "{template}"
            );
            // Filled with sample values, each template gives its own key (not an earlier one's).
            let mut sample = String::new();
            let mut in_name = false;
            for c in template.chars() {
                match (c, in_name) {
                    ('{', _) => in_name = true,
                    ('}', _) => {
                        in_name = false;
                        sample.push('7');
                    }
                    (_, true) => {}
                    (c, false) => sample.push(c),
                }
            }
            let first = TEMPLATES
                .iter()
                .position(|(_, t)| fit(t, &sample).is_some());
            assert_eq!(first.map(|f| TEMPLATES[f].0), Some(*key), "#{i} {template}");
        }
    }
}
