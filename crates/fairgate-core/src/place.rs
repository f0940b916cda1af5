//! Places where people are registered and cross: ports of entry and local offices.
//! Each carries an IANA time zone, because days of stay are counted in the local
//! calendar of the port where the crossing happened.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PlaceKind {
    /// A port of entry: crossings and port-of-entry registrations happen here.
    Port,
    /// A local office: office registrations and re-registrations happen here.
    Office,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Place {
    #[cfg_attr(feature = "openapi", schema(example = "JFK"))]
    pub code: String,
    pub name: String,
    pub kind: PlaceKind,
    /// IANA time zone name, e.g. `America/New_York`.
    pub zone: String,
}

/// A place together with its resolved time zone. The caller resolves the zone
/// (which may read a tz database) and hands the result to the core.
#[derive(Debug, Clone)]
pub struct ZonedPlace {
    pub place: Place,
    pub tz: jiff::tz::TimeZone,
}

/// The places a new installation starts with.
pub fn default_places() -> Vec<Place> {
    let p = |code: &str, name: &str, kind, zone: &str| Place {
        code: code.into(),
        name: name.into(),
        kind,
        zone: zone.into(),
    };
    use PlaceKind::{Office, Port};
    vec![
        p("JFK", "New York John F. Kennedy International Airport", Port, "America/New_York"),
        p("EWR", "Newark Liberty International Airport", Port, "America/New_York"),
        p("MIA", "Miami International Airport", Port, "America/New_York"),
        p("ORD", "Chicago O'Hare International Airport", Port, "America/Chicago"),
        p("LAX", "Los Angeles International Airport", Port, "America/Los_Angeles"),
        p("SEA", "Seattle-Tacoma International Airport", Port, "America/Los_Angeles"),
        p("BLA", "Blaine land port (Peace Arch)", Port, "America/Los_Angeles"),
        p("ELP", "El Paso land port (Bridge of the Americas)", Port, "America/Denver"),
        p("NYC-FO", "New York field office", Office, "America/New_York"),
        p("CHI-FO", "Chicago field office", Office, "America/Chicago"),
        p("LOS-FO", "Los Angeles field office", Office, "America/Los_Angeles"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_places_have_unique_codes_and_real_zones() {
        let places = default_places();
        let mut codes: Vec<_> = places.iter().map(|p| p.code.clone()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), places.len());
        assert_eq!(PlaceBook::resolve(places.clone()).map(|b| b.iter().count()), Ok(places.len()));
        assert_eq!(PlaceBook::defaults().iter().count(), places.len());
        let mut bad = places[0].clone();
        bad.zone = "Mars/Olympus_Mons".into();
        let e = PlaceBook::resolve([bad]).unwrap_err();
        assert_eq!((e.code.as_str(), e.zone.as_str()), ("JFK", "Mars/Olympus_Mons"));
        assert!(places.iter().any(|p| p.kind == PlaceKind::Office));
    }
}

/// A place whose IANA time zone is not in the time-zone database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("place {code} has the unknown time zone `{zone}`: use an IANA name such as America/New_York")]
pub struct UnknownZone {
    pub code: String,
    pub zone: String,
}

/// The places known to the system, by code, with their zones resolved.
#[derive(Debug, Clone, Default)]
pub struct PlaceBook {
    by_code: std::collections::BTreeMap<String, ZonedPlace>,
}

impl PlaceBook {
    pub fn new(places: impl IntoIterator<Item = ZonedPlace>) -> Self {
        Self { by_code: places.into_iter().map(|p| (p.place.code.clone(), p)).collect() }
    }

    /// Resolve each place's IANA zone (from the time-zone database bundled into the
    /// binary: no file is read) and build the book. Names the first place whose zone
    /// is unknown.
    pub fn resolve(places: impl IntoIterator<Item = Place>) -> Result<Self, UnknownZone> {
        let zoned = places
            .into_iter()
            .map(|p| match jiff::tz::TimeZone::get(&p.zone) {
                Ok(tz) => Ok(ZonedPlace { place: p, tz }),
                Err(_) => Err(UnknownZone { code: p.code, zone: p.zone }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(zoned))
    }

    /// The book of [`default_places`].
    pub fn defaults() -> Self {
        // Their zones are real (`default_places_have_unique_codes_and_real_zones`).
        Self::resolve(default_places()).unwrap_or_default()
    }
    pub fn get(&self, code: &str) -> Option<&ZonedPlace> {
        self.by_code.get(code.trim())
    }
    pub fn iter(&self) -> impl Iterator<Item = &ZonedPlace> {
        self.by_code.values()
    }
    /// Codes of the places of one kind, for messages that list the choices.
    pub fn codes(&self, kind: PlaceKind) -> String {
        self.by_code
            .values()
            .filter(|p| p.place.kind == kind)
            .map(|p| p.place.code.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
