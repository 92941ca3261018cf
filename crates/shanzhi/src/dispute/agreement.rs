//! The mediation agreement (人民调解协议书): one value, [`Agreement`], that the JSON route answers
//! for the printable A4 page and that [`render_docx`] turns into a Word document.
//!
//! The document is the official form and so always in Chinese, whatever the reader's language.
//! Whether the parties' ID numbers are masked is the caller's decision: the value carries them as
//! they may be shown (masked for every reader, revealed only in the copy an entitled mediator prints
//! for signature, which the caller audits). Nothing here touches the database or the keyring.

use std::io::Cursor;

use chrono::{Datelike, NaiveDate};
use docx_rs::{
    AlignmentType, Docx, LineSpacing, Paragraph, Run, RunFonts, Table, TableCell, TableRow,
    WidthType,
};
use serde::Serialize;
pub use shanzhi_domain::dispute::PartyRole;

/// A party's role as the form names it.
pub fn role_label(role: PartyRole) -> &'static str {
    match role {
        PartyRole::Applicant => "申请人",
        PartyRole::Respondent => "被申请人",
        PartyRole::Other => "其他当事人",
    }
}

/// One party as the document shows them. `id_number` is already masked or revealed by the caller.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct AgreementParty {
    pub role: PartyRole,
    pub name: String,
    /// 男 / 女, or none when the record does not say.
    pub gender: Option<String>,
    /// The ID number as it may be shown here (e.g. `4401**********1234`), or none when not on file.
    pub id_number: Option<String>,
    pub address: Option<String>,
}

/// Never prints the ID number, even a masked one: logs are not the place for it.
impl std::fmt::Debug for AgreementParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgreementParty")
            .field("role", &self.role)
            .field("name", &self.name)
            .field("gender", &self.gender)
            .field("id_number", &self.id_number.as_ref().map(|_| "[redacted]"))
            .field("address", &self.address.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// The agreement of one case, everything the form needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agreement {
    /// The case number, e.g. `(2026)调字第0012号`.
    pub number: String,
    /// The centre (or committee) that mediated and seals the agreement.
    pub centre: String,
    pub parties: Vec<AgreementParty>,
    /// The mediators' names, the one in charge first.
    pub mediators: Vec<String>,
    /// 纠纷主要事实、争议事项.
    pub facts: String,
    /// The terms, in order; the document numbers them.
    pub terms: Vec<String>,
    /// 履行方式、时限.
    pub performance: String,
    /// The day the agreement is signed.
    pub date: NaiveDate,
}

/// The terms as the case keeps them (one text, one term a line) → the list the form numbers.
/// Blank lines go, and so does a number the mediator typed in front ("1." "2、" "（3）"), since
/// the form numbers the terms itself.
pub fn terms_from_text(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| strip_number(line.trim()).trim().to_owned())
        .filter(|line| !line.is_empty())
        .collect()
}

fn strip_number(line: &str) -> &str {
    let inner = line
        .strip_prefix('（')
        .or_else(|| line.strip_prefix('('))
        .unwrap_or(line);
    let digits = inner.len() - inner.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return line;
    }
    let rest = &inner[digits..];
    for mark in ['.', '、', '．', '）', ')'] {
        // "10.5米" is a quantity, not the tenth term.
        match rest.strip_prefix(mark) {
            Some(after) if !after.starts_with(|c: char| c.is_ascii_digit()) => return after,
            _ => {}
        }
    }
    line
}

/// How many copies the form says were made: one for each party and one for the centre.
pub fn copies(agreement: &Agreement) -> usize {
    agreement.parties.len() + 1
}

/// The date as the form writes it: 2026年12月2日.
pub fn chinese_date(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

/// Document fonts: SimSun (宋体) for Chinese, as official forms use, with a Latin fallback.
fn fonts() -> RunFonts {
    RunFonts::new()
        .east_asia("宋体")
        .ascii("Times New Roman")
        .hi_ansi("Times New Roman")
}

/// Sizes in half-points: 二号 (22 pt) for the title, 四号 (14 pt) for the text.
const TITLE_SIZE: usize = 44;
const TEXT_SIZE: usize = 28;
/// The usable width of an A4 page with docx-rs's default margins, in twentieths of a point.
const TEXT_WIDTH: usize = 11906 - 1701 - 1701;

fn text(s: impl Into<String>) -> Run {
    Run::new().add_text(s).size(TEXT_SIZE).fonts(fonts())
}

fn para(s: impl Into<String>) -> Paragraph {
    Paragraph::new()
        .add_run(text(s))
        .line_spacing(LineSpacing::new().after(120))
}

/// A heading line within the body: bold label.
fn heading(s: &str) -> Paragraph {
    Paragraph::new()
        .add_run(text(s).bold())
        .line_spacing(LineSpacing::new().before(120).after(60))
}

fn cell(s: &str, width: usize) -> TableCell {
    TableCell::new()
        .add_paragraph(Paragraph::new().add_run(text(s)))
        .width(width, WidthType::Dxa)
}

/// The parties' table: role, name, gender, ID number, address.
fn parties_table(parties: &[AgreementParty]) -> Table {
    let widths = [1500, 1500, 800, 2800, TEXT_WIDTH - 6600];
    let header = ["身份", "姓名", "性别", "公民身份号码", "住址"];
    let mut rows = vec![TableRow::new(
        header.iter().zip(widths).map(|(h, w)| cell(h, w)).collect(),
    )];
    for p in parties {
        let values = [
            role_label(p.role),
            p.name.as_str(),
            p.gender.as_deref().unwrap_or(""),
            p.id_number.as_deref().unwrap_or(""),
            p.address.as_deref().unwrap_or(""),
        ];
        rows.push(TableRow::new(
            values.iter().zip(widths).map(|(v, w)| cell(v, w)).collect(),
        ));
    }
    Table::new(rows)
        .set_grid(widths.to_vec())
        .width(TEXT_WIDTH, WidthType::Dxa)
}

/// The agreement as a .docx file (A4).
pub fn render_docx(agreement: &Agreement) -> std::io::Result<Vec<u8>> {
    let mut doc = Docx::new()
        .add_paragraph(
            Paragraph::new()
                .add_run(
                    Run::new()
                        .add_text("人民调解协议书")
                        .size(TITLE_SIZE)
                        .bold()
                        .fonts(fonts()),
                )
                .align(AlignmentType::Center)
                .line_spacing(LineSpacing::new().after(240)),
        )
        .add_paragraph(para(format!("编号：{}", agreement.number)).align(AlignmentType::Right))
        .add_paragraph(heading("当事人"))
        .add_table(parties_table(&agreement.parties))
        .add_paragraph(heading("纠纷主要事实、争议事项"))
        .add_paragraph(para(&agreement.facts))
        .add_paragraph(heading("经调解，当事人自愿达成如下协议："));
    for (i, term) in agreement.terms.iter().enumerate() {
        doc = doc.add_paragraph(para(format!("{}. {}", i + 1, term)));
    }
    doc = doc
        .add_paragraph(heading("履行方式、时限"))
        .add_paragraph(para(&agreement.performance))
        .add_paragraph(para(format!(
            "本协议一式{}份，当事人、调解组织各持一份，自各方当事人签名（盖章或按指印）、人民调解员签名并加盖调解组织印章之日起生效。",
            copies(agreement)
        )))
        .add_paragraph(heading("当事人签名（盖章或按指印）"));
    for p in &agreement.parties {
        doc = doc.add_paragraph(para(format!(
            "{}：{}　　签名：＿＿＿＿＿＿＿＿　　日期：＿＿＿＿年＿＿月＿＿日",
            role_label(p.role),
            p.name
        )));
    }
    doc = doc.add_paragraph(heading("人民调解员签名"));
    for m in &agreement.mediators {
        doc = doc.add_paragraph(para(format!("{m}　　签名：＿＿＿＿＿＿＿＿")));
    }
    doc = doc
        .add_paragraph(
            para(format!("{}（印章）", agreement.centre))
                .align(AlignmentType::Right)
                .line_spacing(LineSpacing::new().before(480)),
        )
        .add_paragraph(para(chinese_date(agreement.date)).align(AlignmentType::Right));
    let mut out = Cursor::new(Vec::new());
    doc.pack(&mut out).map_err(std::io::Error::other)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn sample() -> Agreement {
        Agreement {
            number: "(2026)调字第0012号".into(),
            centre: "城关镇矛盾纠纷调解中心".into(),
            parties: vec![
                AgreementParty {
                    role: PartyRole::Applicant,
                    name: "王秀英".into(),
                    gender: Some("女".into()),
                    id_number: Some("440103**********21".into()),
                    address: Some("城关镇东街12号".into()),
                },
                AgreementParty {
                    role: PartyRole::Respondent,
                    name: "李建国".into(),
                    gender: Some("男".into()),
                    id_number: None,
                    address: None,
                },
            ],
            mediators: vec!["陈明".into()],
            facts: "双方因宅基地边界的围墙发生争执。".into(),
            terms: vec![
                "李建国于2026年12月20日前将围墙后移0.5米。".into(),
                "王秀英承担拆墙费用的一半，计人民币800元。".into(),
            ],
            performance: "当场履行第二项，第一项由调解员回访核实。".into(),
            date: NaiveDate::from_ymd_opt(2026, 12, 2).expect("a valid date"),
        }
    }

    /// The text of word/document.xml inside the package.
    fn document_xml(docx: &[u8]) -> String {
        let mut archive = zip::ZipArchive::new(Cursor::new(docx)).expect("a zip archive");
        let mut xml = String::new();
        archive
            .by_name("word/document.xml")
            .expect("word/document.xml in the package")
            .read_to_string(&mut xml)
            .expect("UTF-8 XML");
        xml
    }

    #[test]
    fn the_docx_opens_and_holds_the_numbered_terms_the_parties_and_the_signature_lines() {
        let a = sample();
        let xml = document_xml(&render_docx(&a).expect("rendered"));
        assert!(xml.contains("人民调解协议书"));
        assert!(xml.contains("(2026)调字第0012号"));
        assert!(xml.contains("1. 李建国于2026年12月20日前将围墙后移0.5米。"));
        assert!(xml.contains("2. 王秀英承担拆墙费用的一半，计人民币800元。"));
        assert!(xml.contains("双方因宅基地边界的围墙发生争执。"));
        assert!(xml.contains("440103**********21"));
        assert!(xml.contains("申请人：王秀英"));
        assert!(xml.contains("被申请人：李建国"));
        assert!(xml.contains("陈明　　签名"));
        assert!(xml.contains("城关镇矛盾纠纷调解中心（印章）"));
        assert!(xml.contains("2026年12月2日"));
        assert!(xml.contains("本协议一式3份"));
    }

    #[test]
    fn the_document_shows_the_id_numbers_exactly_as_the_caller_gives_them() {
        let mut a = sample();
        a.parties[0].id_number = Some("440103199001011221".into());
        let xml = document_xml(&render_docx(&a).expect("rendered"));
        assert!(xml.contains("440103199001011221"));
        assert!(!xml.contains("440103**********21"));
    }

    #[test]
    fn text_that_looks_like_markup_is_escaped_not_interpreted() {
        let mut a = sample();
        a.terms = vec!["<w:p>A & B</w:p>".into()];
        let xml = document_xml(&render_docx(&a).expect("rendered"));
        assert!(xml.contains("&lt;w:p&gt;A &amp; B&lt;/w:p&gt;"));
    }

    #[test]
    fn terms_typed_one_a_line_lose_blank_lines_and_their_own_numbers() {
        let text = "1. 赔偿医药费800元。\n\n2、道歉。\n（3）互不追究。\n 2026年前拆除围墙 \n10.5米以内不得堆放杂物";
        assert_eq!(
            terms_from_text(text),
            vec![
                "赔偿医药费800元。",
                "道歉。",
                "互不追究。",
                "2026年前拆除围墙",
                "10.5米以内不得堆放杂物",
            ]
        );
        assert!(terms_from_text(" \n\n").is_empty());
    }

    #[test]
    fn debug_never_prints_an_id_number() {
        let a = sample();
        let shown = format!("{a:?}");
        assert!(!shown.contains("440103"));
        assert!(shown.contains("王秀英"));
    }
}
