//! Importing buildings (楼栋) and houses (房屋) from a spreadsheet (.xlsx or CSV): a row a
//! house, or a building without houses. Each row is checked on its own (name, grid, address,
//! point, floors; a house's room, use, area and owner), then against the file and the register:
//! the grid known and inside the importer's scope; rows naming one building (its grid and name)
//! agree on its columns, and a building registered already is reused and must agree with them;
//! a room once per building, in the file and in the register. A report names every bad row
//! and column; the buildings and houses of the good rows are written in one transaction with
//! their counts — all or nothing, or the valid rows only. One audit row records the import.

use std::collections::{HashMap, HashSet};

use shanzhi_domain::house::{parse_building_name, parse_floors, parse_room, Owner};
use shanzhi_domain::tree::NodeCode;
use shanzhi_store::house::{Building, BuildingInput, ImportedBuilding, NewHouse};
use shanzhi_store::Db;

use super::column::{use_of_word, use_word, Column};
use crate::import::{
    audit_entry, read_sheet, reason_of, required, whereabouts, Columns, Nodes, RegisterReport,
    Request, RowError, Sheet, SheetColumn, SheetRead, TemplateColumn, Whereabouts,
};
use crate::workbook::Cell;

/// Why an import of buildings and houses wrote nothing.
pub type Refusal = crate::import::Refusal<RegisterReport>;

/// The largest area of a house, in m² (as the API takes it).
const MAX_AREA: f64 = 1_000_000.0;

/// A row read and checked on its own: its building's columns (the name always; the others as
/// given) and its house, if it names a room.
pub struct Draft {
    building: BuildingInput,
    house: Option<NewHouse>,
}

/// The building sheet: rows without a grid go to `default_node`.
struct Buildings<'a> {
    default_node: Option<&'a NodeCode>,
}

impl Sheet for Buildings<'_> {
    type Column = Column;
    type Row = Draft;
    const NAME: Column = Column::Name;
    const HEADER_HELP: &'static str =
        "楼栋名称 (building name) is needed, and 所属网格代码, 房号, 房屋用途… may follow";

    fn read(
        &self,
        columns: &Columns<Column>,
        row: usize,
        cells: &[Cell],
    ) -> Result<Draft, Vec<RowError>> {
        read_row(columns, self.default_node, row, cells)
    }
}

/// One data row: the building and its house, or what is wrong with it.
fn read_row(
    columns: &Columns<Column>,
    default_node: Option<&NodeCode>,
    row: usize,
    cells: &[Cell],
) -> Result<Draft, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut bad = |c: Column, reason: String| {
        errors.push(RowError {
            row,
            column: columns.header_of(c),
            reason,
        })
    };
    let cell = |c: Column| columns.cell(cells, c);
    let text = |c: Column| cell(c).text();
    let name = required(text(Column::Name), "the name is missing", |n| {
        parse_building_name(n).map_err(reason_of)
    })
    .map_err(|r| bad(Column::Name, r))
    .ok();
    let (node, address, point) = whereabouts(
        columns,
        cells,
        default_node,
        &Whereabouts {
            node: Column::Node,
            address: Column::Address,
            lon: Column::Lon,
            lat: Column::Lat,
        },
        &mut bad,
    );
    let floors = floors_of(cell(Column::Floors))
        .map_err(|r| bad(Column::Floors, r))
        .ok()
        .flatten();
    let house = match text(Column::Room) {
        None => {
            // A house's details without its room: say the room is missing, not lose them.
            if [Column::Use, Column::Area, Column::Owner]
                .iter()
                .any(|&c| !cell(c).is_empty())
            {
                bad(
                    Column::Room,
                    "a house's use, area or owner needs its room".into(),
                );
            }
            None
        }
        Some(room) => {
            let room = parse_room(&room)
                .map_err(|e| bad(Column::Room, reason_of(e)))
                .ok();
            let use_kind = required(text(Column::Use), "the use of the house is missing", |u| {
                use_of_word(u).ok_or_else(|| format!("{u} is not 自住, 出租, 空置 or 商用"))
            })
            .map_err(|r| bad(Column::Use, r))
            .ok();
            let area = area_of(cell(Column::Area))
                .map_err(|r| bad(Column::Area, r))
                .ok()
                .flatten();
            let owner_name = match Owner::parse(None, text(Column::Owner).as_deref()) {
                Ok(Some(Owner::Named(n))) => Some(n),
                Ok(_) => None,
                Err(e) => {
                    bad(Column::Owner, reason_of(e));
                    None
                }
            };
            room.zip(use_kind).map(|(room, u)| NewHouse {
                room,
                use_kind: u.as_str().to_owned(),
                area,
                owner_name,
            })
        }
    };
    match (name, node) {
        (Some(name), Some(node_code)) if errors.is_empty() => Ok(Draft {
            building: BuildingInput {
                node_code,
                name,
                address,
                point,
                footprint: None,
                floors,
            },
            house,
        }),
        _ => Err(errors),
    }
}

/// A building's floors: a whole number from 1 to 200 (a trailing 层 allowed), or none.
fn floors_of(cell: &Cell) -> Result<Option<i64>, String> {
    let n = match cell {
        Cell::Int(i) => *i,
        Cell::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => *f as i64,
        other => match other.text() {
            None => return Ok(None),
            Some(t) => t
                .trim_end_matches('层')
                .trim()
                .parse::<i64>()
                .map_err(|_| format!("{t} is not a whole number of floors"))?,
        },
    };
    parse_floors(n).map(Some).map_err(reason_of)
}

/// A house's area in m²: above 0 and at most [`MAX_AREA`] (a trailing ㎡, m² or 平方米
/// allowed), or none.
fn area_of(cell: &Cell) -> Result<Option<f64>, String> {
    let a = match cell {
        Cell::Int(i) => *i as f64,
        Cell::Float(f) => *f,
        other => match other.text() {
            None => return Ok(None),
            Some(t) => t
                .trim_end_matches(['㎡', '米'])
                .trim_end_matches("m²")
                .trim_end_matches("平方")
                .trim_end_matches('平')
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("{t} is not an area in m²"))?,
        },
    };
    if a.is_finite() && a > 0.0 && a <= MAX_AREA {
        Ok(Some(a))
    } else {
        Err(format!(
            "the area must be more than 0 and at most {MAX_AREA} m²"
        ))
    }
}

/// The rows a new building's columns came from (the first row to give each).
#[derive(Default)]
struct Given {
    address: Option<usize>,
    point: Option<usize>,
    floors: Option<usize>,
}

/// A building the good rows name: the one to write (with the houses they add), and where its
/// values come from — the register (a stored building is reused as it is) or the rows of the
/// file (`given`).
struct Planned {
    out: ImportedBuilding,
    given: Given,
}

impl Planned {
    fn stored(b: &Building, node_code: NodeCode) -> Planned {
        Planned {
            out: ImportedBuilding {
                stored: Some(b.id),
                building: BuildingInput {
                    node_code,
                    name: b.name.clone(),
                    address: b.address.clone(),
                    point: b.lon.zip(b.lat),
                    footprint: None,
                    floors: b.floors,
                },
                houses: Vec::new(),
            },
            given: Given::default(),
        }
    }

    /// A new building of `b`'s grid and name; its other columns come with [`Planned::merge`].
    fn new(b: &BuildingInput) -> Planned {
        Planned {
            out: ImportedBuilding {
                stored: None,
                building: BuildingInput {
                    node_code: b.node_code.clone(),
                    name: b.name.clone(),
                    address: None,
                    point: None,
                    footprint: None,
                    floors: None,
                },
                houses: Vec::new(),
            },
            given: Given::default(),
        }
    }

    /// The columns a row's `b` gives that disagree with this building, each with the reason: a
    /// stored building with any other value (none included), a new one with a value an
    /// earlier row gave.
    fn conflicts(&self, b: &BuildingInput) -> Vec<(Column, String)> {
        let mine = &self.out.building;
        let name = &mine.name;
        let reason = |from: Option<usize>| match (self.out.stored, from) {
            (Some(_), _) => Some(format!(
                "the building {name} is registered with another value"
            )),
            (None, Some(r)) => Some(format!("the building {name} has another value on row {r}")),
            (None, None) => None,
        };
        let mut out = Vec::new();
        if let Some(a) = &b.address {
            if mine.address.as_ref() != Some(a) {
                out.extend(reason(self.given.address).map(|r| (Column::Address, r)));
            }
        }
        if let Some((lon, lat)) = b.point {
            if mine.point.map(|p| p.0) != Some(lon) {
                out.extend(reason(self.given.point).map(|r| (Column::Lon, r)));
            }
            if mine.point.map(|p| p.1) != Some(lat) {
                out.extend(reason(self.given.point).map(|r| (Column::Lat, r)));
            }
        }
        if let Some(f) = b.floors {
            if mine.floors != Some(f) {
                out.extend(reason(self.given.floors).map(|r| (Column::Floors, r)));
            }
        }
        out
    }

    /// Takes the values a good row's `b` gives that this new building has not got yet.
    fn merge(&mut self, b: &BuildingInput, row: usize) {
        if self.out.stored.is_some() {
            return;
        }
        let mine = &mut self.out.building;
        if mine.address.is_none() && b.address.is_some() {
            mine.address.clone_from(&b.address);
            self.given.address = Some(row);
        }
        if mine.point.is_none() && b.point.is_some() {
            mine.point = b.point;
            self.given.point = Some(row);
        }
        if mine.floors.is_none() && b.floors.is_some() {
            mine.floors = b.floors;
            self.given.floors = Some(row);
        }
    }
}

/// Checks the good rows of `read` against one another and the register, moving the rows
/// refused to the errors; the buildings to write (new ones, and stored ones given houses).
async fn plan(
    db: &Db,
    actor: Option<&shanzhi_domain::user::Actor>,
    read: &mut SheetRead<Column, Draft>,
) -> Result<Vec<ImportedBuilding>, shanzhi_store::StoreError> {
    let mut nodes = Nodes::default();
    nodes
        .check(
            db,
            actor,
            read.good.iter().map(|(_, d)| &d.building.node_code),
        )
        .await?;
    let codes: Vec<String> = read
        .good
        .iter()
        .map(|(_, d)| d.building.node_code.as_str().to_owned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    // The buildings registered at those grids (the first of a name when there are two), and
    // the rooms of those the rows name.
    let mut registered: HashMap<(String, String), Building> = HashMap::new();
    for b in shanzhi_store::house::buildings_at(db, &codes).await? {
        registered
            .entry((b.node_code.clone(), b.name.clone()))
            .or_insert(b);
    }
    let named: Vec<i64> = read
        .good
        .iter()
        .filter_map(|(_, d)| registered.get(&key(&d.building)).map(|b| b.id))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let stored_rooms: HashSet<(i64, String)> = shanzhi_store::house::rooms_of(db, &named)
        .await?
        .into_iter()
        .collect();

    let mut planned: Vec<Planned> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut rooms: HashMap<(usize, String), usize> = HashMap::new();
    let mut kept = Vec::with_capacity(read.good.len());
    for (row, d) in std::mem::take(&mut read.good) {
        let k = key(&d.building);
        // A building not named before is planned at once, and dropped if its row is refused.
        let (i, first_named) = match index.get(&k) {
            Some(&i) => (i, false),
            None => {
                planned.push(match registered.get(&k) {
                    Some(b) => Planned::stored(b, d.building.node_code.clone()),
                    None => Planned::new(&d.building),
                });
                (planned.len() - 1, true)
            }
        };
        let mut refusals: Vec<(Column, String)> = Vec::new();
        if let Some(reason) = nodes.refusal(&d.building.node_code) {
            refusals.push((Column::Node, reason.to_owned()));
        } else {
            refusals.extend(planned[i].conflicts(&d.building));
            if let Some(h) = &d.house {
                let (room, name) = (&h.room, &d.building.name);
                if let Some(first) = rooms.get(&(i, room.clone())) {
                    refusals.push((Column::Room, format!("{room} of {name} is on row {first}")));
                } else if planned[i]
                    .out
                    .stored
                    .is_some_and(|id| stored_rooms.contains(&(id, room.clone())))
                {
                    refusals.push((
                        Column::Room,
                        format!("{room} of {name} is registered already"),
                    ));
                }
            }
        }
        if !refusals.is_empty() {
            if first_named {
                planned.pop();
            }
            read.errors
                .extend(refusals.into_iter().map(|(c, reason)| RowError {
                    row,
                    column: read.columns.header_of(c),
                    reason,
                }));
            continue;
        }
        if first_named {
            index.insert(k, i);
        }
        planned[i].merge(&d.building, row);
        if let Some(h) = &d.house {
            rooms.insert((i, h.room.clone()), row);
            planned[i].out.houses.push(h.clone());
        }
        kept.push((row, d));
    }
    read.good = kept;
    // A stored building the rows add no house to has nothing to write.
    Ok(planned
        .into_iter()
        .map(|p| p.out)
        .filter(|b| b.stored.is_none() || !b.houses.is_empty())
        .collect())
}

/// What a building is known by: its grid and its name.
fn key(b: &BuildingInput) -> (String, String) {
    (b.node_code.as_str().to_owned(), b.name.clone())
}

/// Reads, checks and (by the mode) writes an import of buildings and houses.
pub async fn import(db: &Db, req: Request<'_>) -> Result<RegisterReport, Refusal> {
    let sheet = Buildings {
        default_node: req.node.as_ref(),
    };
    let mut read = read_sheet(&sheet, &req.bytes, req.format)?;
    let buildings = plan(db, req.actor, &mut read).await?;
    // The good rows are all in `buildings` (a row refused added nothing to it).
    let (mut report, _) = read.report(req.mode)?;
    let (created, added) = (
        buildings.iter().filter(|b| b.stored.is_none()).count(),
        buildings.iter().map(|b| b.houses.len()).sum::<usize>(),
    );
    report.buildings = Some(0);
    report.houses = Some(0);
    if created + added > 0 {
        let audit = audit_entry(
            req.actor,
            "building.import",
            "building",
            req.file_name,
            &report,
            created + added,
        );
        let done = shanzhi_store::house::import_many(db, &buildings, &audit, req.now_ms).await?;
        report.written = done.buildings + done.houses;
        report.buildings = Some(done.buildings);
        report.houses = Some(done.houses);
    }
    Ok(report)
}

/// The building import's template (.xlsx): notes on the headers, a drop-down list of the uses,
/// the grid code and the room as text.
pub fn template() -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let uses: Vec<&str> = shanzhi_domain::house::HouseUse::ALL
        .iter()
        .map(|&u| use_word(u))
        .collect();
    let columns: Vec<TemplateColumn> = Column::ALL
        .iter()
        .map(|&c| TemplateColumn {
            header: c.header(),
            note: c.note(),
            width: match c {
                Column::Name | Column::Address => 24.0,
                _ => 14.0,
            },
            text: matches!(c, Column::Node | Column::Room),
            date: false,
            list: (c == Column::Use).then_some(uses.as_slice()),
        })
        .collect();
    crate::import::template("楼栋房屋", &columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_are_whole_numbers_from_one_to_two_hundred() {
        let text = |s: &str| Cell::Text(s.into());
        assert_eq!(floors_of(&Cell::Empty), Ok(None));
        assert_eq!(floors_of(&Cell::Int(18)), Ok(Some(18)));
        assert_eq!(floors_of(&Cell::Float(11.0)), Ok(Some(11)));
        assert_eq!(floors_of(&text("33层")), Ok(Some(33)));
        assert!(floors_of(&Cell::Float(2.5))
            .unwrap_err()
            .contains("whole number"));
        assert!(floors_of(&text("三十"))
            .unwrap_err()
            .contains("whole number"));
        assert!(floors_of(&Cell::Int(0)).is_err());
        assert!(floors_of(&Cell::Int(201)).is_err());
    }

    #[test]
    fn areas_are_above_zero_with_or_without_their_unit() {
        let text = |s: &str| Cell::Text(s.into());
        assert_eq!(area_of(&Cell::Empty), Ok(None));
        assert_eq!(area_of(&Cell::Float(89.5)), Ok(Some(89.5)));
        for t in ["120", "120㎡", "120m²", "120平方米", "120平米", " 120 "] {
            assert_eq!(area_of(&text(t)), Ok(Some(120.0)), "{t}");
        }
        assert!(area_of(&Cell::Int(0)).unwrap_err().contains("more than 0"));
        assert!(area_of(&Cell::Float(-3.0)).is_err());
        assert!(area_of(&Cell::Float(2_000_000.0)).is_err());
        assert!(area_of(&text("大")).unwrap_err().contains("not an area"));
    }
}
