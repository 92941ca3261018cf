//! Buildings (楼栋) and houses (房屋) of the base data: where people live and work. A building
//! belongs to a node (a grid or a smallest unit), has floors, and may be drawn as a point and a
//! footprint; a house is a room in a building (or a house number in a village) with its use
//! and its owner.

use serde_json::Value;

use crate::grid::{LonLat, Shape};
use crate::text::{label, note};
use crate::DomainError;

/// Most floors a building may have (the tallest towers have about 160).
pub const MAX_FLOORS: i64 = 200;
/// Longest building name, room text or owner name, in characters.
pub const MAX_LABEL_CHARS: usize = 100;
/// Longest building address, in characters.
pub const MAX_ADDRESS_CHARS: usize = 200;

/// What a house is used for (房屋用途).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HouseUse {
    /// 自住
    SelfOccupied,
    /// 出租
    Rented,
    /// 空置
    Vacant,
    /// 商用
    Commercial,
}

impl HouseUse {
    pub const ALL: [HouseUse; 4] = [
        HouseUse::SelfOccupied,
        HouseUse::Rented,
        HouseUse::Vacant,
        HouseUse::Commercial,
    ];

    /// The word the API and the database use.
    pub fn as_str(self) -> &'static str {
        match self {
            HouseUse::SelfOccupied => "self_occupied",
            HouseUse::Rented => "rented",
            HouseUse::Vacant => "vacant",
            HouseUse::Commercial => "commercial",
        }
    }

    /// Parses the API word.
    pub fn parse(s: &str) -> Result<HouseUse, DomainError> {
        HouseUse::ALL
            .into_iter()
            .find(|u| u.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid("use", "must be self_occupied, rented, vacant or commercial")
            })
    }
}

/// A building's number of floors: 1 to [`MAX_FLOORS`].
pub fn parse_floors(n: i64) -> Result<i64, DomainError> {
    if (1..=MAX_FLOORS).contains(&n) {
        Ok(n)
    } else {
        Err(DomainError::invalid(
            "floors",
            format!("must be between 1 and {MAX_FLOORS}"),
        ))
    }
}

/// A building's point: both coordinates or neither.
pub fn parse_point(lon: Option<f64>, lat: Option<f64>) -> Result<Option<LonLat>, DomainError> {
    match (lon, lat) {
        (None, None) => Ok(None),
        (Some(lon), Some(lat)) => LonLat::parse(lon, lat).map(Some),
        (Some(_), None) => Err(DomainError::invalid("lat", "give lat with lon")),
        (None, Some(_)) => Err(DomainError::invalid("lon", "give lon with lat")),
    }
}

/// A building's footprint: a valid GeoJSON Polygon or MultiPolygon (the checks of grid shapes).
pub fn parse_footprint(v: &Value) -> Result<Shape, DomainError> {
    Shape::from_geojson(v).map_err(|e| match e {
        DomainError::Invalid { reason, .. } => DomainError::invalid("footprint", reason),
        other => other,
    })
}

/// A building's name (3栋, 幸福里12号楼).
pub fn parse_building_name(raw: &str) -> Result<String, DomainError> {
    label("name", raw, MAX_LABEL_CHARS)
}

/// A building's own address (not a person's), optional.
pub fn parse_address(raw: &str) -> Result<Option<String>, DomainError> {
    note("address", raw, MAX_ADDRESS_CHARS)
}

/// A house's room text: 2单元301, or a house number in a village.
pub fn parse_room(raw: &str) -> Result<String, DomainError> {
    label("room", raw, MAX_LABEL_CHARS)
}

/// Who owns a house: a resident of the register, or a name (a firm, someone living elsewhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    Resident(i64),
    Named(String),
}

impl Owner {
    /// A resident of the register, else a name; none is an unknown owner. Given both, the
    /// resident is the owner (their record names them).
    pub fn parse(
        resident_id: Option<i64>,
        name: Option<&str>,
    ) -> Result<Option<Owner>, DomainError> {
        let name = name
            .map(|n| note("owner_name", n, MAX_LABEL_CHARS))
            .transpose()?
            .flatten();
        match (resident_id, name) {
            (Some(id), _) => Ok(Some(Owner::Resident(id))),
            (None, Some(n)) => Ok(Some(Owner::Named(n))),
            (None, None) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floors_run_from_one_to_two_hundred() {
        for (n, ok) in [
            (0, false),
            (1, true),
            (33, true),
            (200, true),
            (201, false),
            (-3, false),
        ] {
            assert_eq!(parse_floors(n).is_ok(), ok, "{n}");
        }
    }

    #[test]
    fn a_point_needs_both_coordinates_in_range() {
        let cases = [
            (None, None, Ok(false)),
            (Some(115.3), Some(22.78), Ok(true)),
            (Some(115.3), None, Err("lat")),
            (None, Some(22.7), Err("lon")),
            (Some(181.0), Some(22.7), Err("lon")),
            (Some(115.3), Some(-91.0), Err("lat")),
        ];
        for (lon, lat, want) in cases {
            match (parse_point(lon, lat), want) {
                (Ok(p), Ok(some)) => assert_eq!(p.is_some(), some),
                (Err(DomainError::Invalid { field, .. }), Err(f)) => assert_eq!(field, f),
                (got, want) => panic!("{lon:?},{lat:?}: {got:?} vs {want:?}"),
            }
        }
    }

    #[test]
    fn a_footprint_is_checked_like_a_grid_and_blamed_on_its_field() {
        let square = json!({"type": "Polygon", "coordinates": [[[115.3, 22.78], [115.3001, 22.78], [115.3001, 22.7801], [115.3, 22.7801], [115.3, 22.78]]]});
        assert!(parse_footprint(&square).is_ok());
        let bow =
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]});
        let point = json!({"type": "Point", "coordinates": [0, 0]});
        for bad in [bow, point, json!("x")] {
            match parse_footprint(&bad) {
                Err(DomainError::Invalid { field, .. }) => assert_eq!(field, "footprint"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn house_uses_round_trip_and_others_are_refused() {
        for u in HouseUse::ALL {
            assert_eq!(HouseUse::parse(u.as_str()).unwrap(), u);
        }
        assert!(HouseUse::parse("hotel").is_err());
    }

    #[test]
    fn an_owner_is_a_resident_else_a_name() {
        assert_eq!(Owner::parse(None, None).unwrap(), None);
        assert_eq!(
            Owner::parse(Some(7), None).unwrap(),
            Some(Owner::Resident(7))
        );
        assert_eq!(
            Owner::parse(None, Some(" 汕尾置业有限公司 ")).unwrap(),
            Some(Owner::Named("汕尾置业有限公司".into()))
        );
        assert_eq!(
            Owner::parse(Some(7), Some("  ")).unwrap(),
            Some(Owner::Resident(7))
        );
        assert_eq!(
            Owner::parse(Some(7), Some("张三")).unwrap(),
            Some(Owner::Resident(7))
        );
    }
}
