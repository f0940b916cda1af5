//! Places where people are registered and cross: ports of entry and local offices.
//! Each carries an IANA time zone, because days of stay are counted in the local
//! calendar of the port where the crossing happened. An office also carries what
//! makes a visit work: its address, the postal codes it serves, its opening hours,
//! closures and holidays, its desks, and the minutes each kind of service takes.
//! Places are data (ledger events, see `event::PlaceSet`); the rules here are pure.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::error::{clip, text, Errors, Invalid};

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
    #[serde(default)]
    pub address: String,
    /// Postal-code prefixes of the area an office serves (`100`, `112`…).
    #[serde(default)]
    pub service_area: Vec<String>,
    /// Opening hours, Monday first; `None` closed that weekday.
    #[serde(default = "closed_week")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Option<Hours>>))]
    pub hours: [Option<Hours>; 7],
    /// Days the place is closed (holidays), in its local calendar.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub holidays: Vec<Date>,
    /// Closures with their reasons (a closure event adds one).
    #[serde(default)]
    pub closures: Vec<Closure>,
    /// Desks serving at once.
    #[serde(default)]
    pub desks: u16,
    /// Minutes each kind of service takes at a desk.
    #[serde(default)]
    pub minutes: ServiceMinutes,
}

fn closed_week() -> [Option<Hours>; 7] {
    [None; 7]
}

/// Opening and closing time, in minutes after local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hours {
    pub opens: u16,
    pub closes: u16,
}

impl Hours {
    pub fn minutes(&self) -> u32 {
        u32::from(self.closes.saturating_sub(self.opens))
    }
    /// `09:00-17:00`.
    pub fn parse(s: &str) -> Option<Hours> {
        let (a, b) = s.trim().split_once('-')?;
        let hm = |t: &str| -> Option<u16> {
            let (h, m) = t.trim().split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
        };
        let (opens, closes) = (hm(a)?, hm(b)?);
        (opens < closes).then_some(Hours { opens, closes })
    }
}

impl std::fmt::Display for Hours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}-{:02}:{:02}", self.opens / 60, self.opens % 60, self.closes / 60, self.closes % 60)
    }
}

/// A closure: from and until (inclusive) in the place's calendar, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Closure {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2026-12-24"))]
    pub from: Date,
    /// The last day closed; `None` when the place is closed for good.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub until: Option<Date>,
    pub reason: String,
}

impl Closure {
    pub fn covers(&self, d: Date) -> bool {
        d >= self.from && self.until.is_none_or(|u| d <= u)
    }
    /// Days closed, when the closure has an end.
    pub fn days(&self) -> Option<i64> {
        self.until.map(|u| (u - self.from).get_days() as i64 + 1)
    }
}

/// The kinds of service a desk gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceKind {
    Registration,
    ReRegistration,
    Interview,
}

/// Minutes a desk spends on each kind of service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceMinutes {
    pub registration: u16,
    pub re_registration: u16,
    pub interview: u16,
}

impl ServiceMinutes {
    pub fn of(&self, kind: ServiceKind) -> u16 {
        match kind {
            ServiceKind::Registration => self.registration,
            ServiceKind::ReRegistration => self.re_registration,
            ServiceKind::Interview => self.interview,
        }
    }
}

impl Place {
    /// The hours the place is open on `d` (its local calendar): its weekday's hours
    /// unless a holiday or a closure covers the day.
    pub fn open_on(&self, d: Date) -> Option<Hours> {
        if self.holidays.contains(&d) || self.closures.iter().any(|c| c.covers(d)) {
            return None;
        }
        self.hours[d.weekday().to_monday_zero_offset() as usize]
    }

    /// Desk-minutes available on `d`.
    pub fn capacity_minutes(&self, d: Date) -> u32 {
        self.open_on(d).map_or(0, |h| h.minutes() * u32::from(self.desks))
    }

    /// How many services of `kind` the desks can give on `d`.
    pub fn services_on(&self, d: Date, kind: ServiceKind) -> u32 {
        match self.minutes.of(kind) {
            0 => 0,
            m => self.open_on(d).map_or(0, |h| h.minutes() / u32::from(m) * u32::from(self.desks)),
        }
    }

    /// Closed for good (a closure without an end that has begun by `d`).
    pub fn closed_for_good(&self, d: Date) -> bool {
        self.closures.iter().any(|c| c.until.is_none() && c.from <= d)
    }

    /// The length of the longest service-area prefix that `postal_code` starts with.
    pub fn serves(&self, postal_code: &str) -> Option<usize> {
        let pc: String = postal_code.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
        self.service_area.iter().filter(|p| pc.starts_with(p.as_str())).map(|p| p.len()).max()
    }
}

impl Place {
    /// A place with only its identity: no address, area, hours, desks or closures.
    pub fn bare() -> Place {
        Place {
            code: String::new(),
            name: String::new(),
            kind: PlaceKind::Port,
            zone: String::new(),
            address: String::new(),
            service_area: Vec::new(),
            hours: [None; 7],
            holidays: Vec::new(),
            closures: Vec::new(),
            desks: 0,
            minutes: ServiceMinutes::default(),
        }
    }
}

/// Opening hours per weekday as sent: `"09:00-17:00"`, or null for closed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeekHours {
    #[serde(default)]
    pub mon: Option<String>,
    #[serde(default)]
    pub tue: Option<String>,
    #[serde(default)]
    pub wed: Option<String>,
    #[serde(default)]
    pub thu: Option<String>,
    #[serde(default)]
    pub fri: Option<String>,
    #[serde(default)]
    pub sat: Option<String>,
    #[serde(default)]
    pub sun: Option<String>,
}

impl WeekHours {
    pub fn of(hours: &[Option<Hours>; 7]) -> WeekHours {
        let h = |i: usize| hours[i].map(|h| h.to_string());
        WeekHours { mon: h(0), tue: h(1), wed: h(2), thu: h(3), fri: h(4), sat: h(5), sun: h(6) }
    }
}

/// The body of `POST /places` and `fairgate places add|edit FILE`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlaceInput {
    /// 2 to 12 capital letters, digits and hyphens, e.g. `JFK` or `BOS-FO`.
    #[cfg_attr(feature = "openapi", schema(example = "BOS-FO"))]
    pub code: String,
    pub name: String,
    /// `port` or `office`.
    pub kind: String,
    /// IANA time zone, e.g. `America/New_York`.
    pub zone: String,
    #[serde(default)]
    pub address: String,
    /// Postal-code prefixes the office serves.
    #[serde(default)]
    pub service_area: Vec<String>,
    #[serde(default)]
    pub hours: WeekHours,
    /// YYYY-MM-DD, in the place's calendar.
    #[serde(default)]
    pub holidays: Vec<String>,
    #[serde(default)]
    pub desks: u16,
    #[serde(default)]
    pub minutes: ServiceMinutes,
}

impl PlaceInput {
    pub fn of(p: &Place) -> PlaceInput {
        PlaceInput {
            code: p.code.clone(),
            name: p.name.clone(),
            kind: match p.kind {
                PlaceKind::Port => "port".into(),
                PlaceKind::Office => "office".into(),
            },
            zone: p.zone.clone(),
            address: p.address.clone(),
            service_area: p.service_area.clone(),
            hours: WeekHours::of(&p.hours),
            holidays: p.holidays.iter().map(|d| d.to_string()).collect(),
            desks: p.desks,
            minutes: p.minutes,
        }
    }

    /// Check every field, naming each one that is wrong. An office needs an
    /// address, a service area, opening hours, desks and the minutes of each service;
    /// a port needs none of them.
    pub fn validate(&self) -> Result<Place, Invalid> {
        let mut e = Errors::default();
        let code = self.code.trim().to_uppercase();
        if !(2..=12).contains(&code.len())
            || !code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        {
            e.push(
                "code",
                format!("`{}` must be 2 to 12 capital letters, digits or hyphens, e.g. BOS-FO", clip(&self.code)),
            );
        }
        e.check(text("name", &self.name, 200, true));
        let kind = match self.kind.trim() {
            "port" => Some(PlaceKind::Port),
            "office" => Some(PlaceKind::Office),
            other => {
                e.push("kind", format!("`{}` is not a kind of place: use port or office", clip(other)));
                None
            }
        };
        if jiff::tz::TimeZone::get(self.zone.trim()).is_err() {
            e.push(
                "zone",
                format!("`{}` is not an IANA time zone: use a name such as America/New_York", clip(&self.zone)),
            );
        }
        e.check(text("address", &self.address, 300, kind == Some(PlaceKind::Office)));
        let mut area = Vec::new();
        for (i, p) in self.service_area.iter().enumerate() {
            let p = p.trim().to_uppercase();
            if p.is_empty() || p.len() > 10 || !p.chars().all(|c| c.is_ascii_alphanumeric()) {
                e.push(format!("service_area[{i}]"), "must be a postal-code prefix of 1 to 10 letters or digits");
            } else if !area.contains(&p) {
                area.push(p);
            }
        }
        let w = &self.hours;
        let mut hours = [None; 7];
        for (i, (day, v)) in [
            ("mon", &w.mon),
            ("tue", &w.tue),
            ("wed", &w.wed),
            ("thu", &w.thu),
            ("fri", &w.fri),
            ("sat", &w.sat),
            ("sun", &w.sun),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(v) = v {
                match Hours::parse(v) {
                    Some(h) => hours[i] = Some(h),
                    None => e.push(
                        format!("hours.{day}"),
                        format!(
                            "`{}` is not opening hours: write HH:MM-HH:MM, opening before closing, e.g. 08:30-16:00",
                            clip(v)
                        ),
                    ),
                }
            }
        }
        let mut holidays = Vec::new();
        for (i, h) in self.holidays.iter().enumerate() {
            if let Some(d) = e.check(crate::error::parse_date(&format!("holidays[{i}]"), h)) {
                holidays.push(d);
            }
        }
        holidays.sort();
        holidays.dedup();
        if kind == Some(PlaceKind::Office) {
            if area.is_empty() {
                e.push("service_area", "an office serves an area: give at least one postal-code prefix");
            }
            if hours.iter().all(Option::is_none) {
                e.push(
                    "hours",
                    "an office opens on at least one weekday: give its hours, e.g. \"mon\": \"08:30-16:00\"",
                );
            }
            if self.desks == 0 {
                e.push("desks", "an office has at least one desk");
            }
            for (field, m) in [
                ("minutes.registration", self.minutes.registration),
                ("minutes.re_registration", self.minutes.re_registration),
                ("minutes.interview", self.minutes.interview),
            ] {
                if m == 0 || m > 480 {
                    e.push(field, "must be 1 to 480 minutes: how long a desk takes for this service");
                }
            }
        }
        e.finish(|| Place {
            code,
            name: self.name.trim().to_string(),
            kind: kind.unwrap_or(PlaceKind::Port),
            zone: self.zone.trim().to_string(),
            address: self.address.trim().to_string(),
            service_area: area,
            hours,
            holidays,
            closures: Vec::new(),
            desks: self.desks,
            minutes: self.minutes,
        })
    }
}

/// The body of `POST /places/{code}/close` and `fairgate places close`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClosureInput {
    /// YYYY-MM-DD, the first day closed.
    pub from: String,
    /// YYYY-MM-DD, the last day closed; leave out to close for good.
    #[serde(default)]
    pub until: Option<String>,
    /// Why: published with the closure.
    pub reason: String,
}

impl ClosureInput {
    pub fn validate(&self) -> Result<Closure, Invalid> {
        let mut e = Errors::default();
        let from = e.check(crate::error::parse_date("from", &self.from));
        let until = match &self.until {
            None => None,
            Some(u) => e.check(crate::error::parse_date("until", u)),
        };
        if let (Some(f), Some(u)) = (from, until) {
            if u < f {
                e.push("until", "is before `from`: a closure ends on or after its first day");
            }
        }
        e.check(text("reason", &self.reason, 1000, true));
        e.finish(|| Closure { from: from.unwrap_or_default(), until, reason: self.reason.trim().to_string() })
    }
}

/// A place together with its resolved time zone. The caller resolves the zone
/// (which may read a tz database) and hands the result to the core.
#[derive(Debug, Clone)]
pub struct ZonedPlace {
    pub place: Place,
    pub tz: jiff::tz::TimeZone,
}

/// The demo's places: eight ports and three offices, with synthetic addresses
/// (`fairgate demo` and `serve --demo` add them as ledger events; a new installation
/// starts with none and its administrator adds its own).
pub fn default_places() -> Vec<Place> {
    let p = |code: &str, name: &str, kind, zone: &str| Place {
        code: code.into(),
        name: name.into(),
        kind,
        zone: zone.into(),
        ..Place::bare()
    };
    let weekdays = |opens: u16, closes: u16| {
        let h = Some(Hours { opens, closes });
        [h, h, h, h, h, None, None]
    };
    let office = |code: &str, name: &str, zone: &str, address: &str, area: &[&str], desks: u16| Place {
        address: address.into(),
        service_area: area.iter().map(|a| a.to_string()).collect(),
        hours: weekdays(8 * 60, 16 * 60),
        desks,
        minutes: ServiceMinutes { registration: 20, re_registration: 15, interview: 30 },
        ..p(code, name, PlaceKind::Office, zone)
    };
    use PlaceKind::Port;
    vec![
        p("JFK", "New York John F. Kennedy International Airport", Port, "America/New_York"),
        p("EWR", "Newark Liberty International Airport", Port, "America/New_York"),
        p("MIA", "Miami International Airport", Port, "America/New_York"),
        p("ORD", "Chicago O'Hare International Airport", Port, "America/Chicago"),
        p("LAX", "Los Angeles International Airport", Port, "America/Los_Angeles"),
        p("SEA", "Seattle-Tacoma International Airport", Port, "America/Los_Angeles"),
        p("BLA", "Blaine land port (Peace Arch)", Port, "America/Los_Angeles"),
        p("ELP", "El Paso land port (Bridge of the Americas)", Port, "America/Denver"),
        office(
            "NYC-FO",
            "New York field office",
            "America/New_York",
            "1 Demo Plaza, New York, NY (synthetic)",
            &["0", "1"],
            8,
        ),
        office(
            "CHI-FO",
            "Chicago field office",
            "America/Chicago",
            "2 Demo Street, Chicago, IL (synthetic)",
            &["2", "3", "4", "5", "6", "7"],
            5,
        ),
        office(
            "LOS-FO",
            "Los Angeles field office",
            "America/Los_Angeles",
            "3 Demo Avenue, Los Angeles, CA (synthetic)",
            &["9", "8"],
            6,
        ),
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
        // Every demo office validates as an administrator would have entered it.
        for p in places.iter().filter(|p| p.kind == PlaceKind::Office) {
            assert_eq!(PlaceInput::of(p).validate().unwrap(), *p);
        }
    }

    fn office() -> Place {
        PlaceBook::defaults().get("NYC-FO").unwrap().place.clone()
    }

    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn an_office_is_open_on_its_weekdays_but_not_on_holidays_or_in_a_closure() {
        let mut o = office();
        // 2026-11-30 is a Monday.
        assert_eq!(o.open_on(day("2026-11-30")), Some(Hours { opens: 480, closes: 960 }));
        assert_eq!(o.open_on(day("2026-12-05")), None, "a Saturday");
        assert_eq!(o.capacity_minutes(day("2026-11-30")), 8 * 8 * 60);
        assert_eq!(o.services_on(day("2026-11-30"), ServiceKind::Interview), 8 * 16);
        o.holidays.push(day("2026-12-25"));
        assert_eq!(o.open_on(day("2026-12-25")), None);
        o.closures.push(Closure { from: day("2026-12-01"), until: Some(day("2026-12-02")), reason: "flood".into() });
        assert_eq!(o.open_on(day("2026-12-02")), None);
        assert_eq!(o.open_on(day("2026-12-03")).map(|h| h.to_string()).as_deref(), Some("08:00-16:00"));
        assert_eq!(o.closures[0].days(), Some(2));
        assert!(!o.closed_for_good(day("2027-01-01")));
        o.closures.push(Closure { from: day("2027-01-01"), until: None, reason: "lease ended".into() });
        assert!(o.closed_for_good(day("2027-01-01")));
    }

    #[test]
    fn the_office_for_a_postal_code_is_the_longest_matching_prefix_among_open_offices() {
        let book = PlaceBook::defaults();
        let on = day("2026-11-30");
        assert_eq!(book.office_for("10001", on).map(|p| p.place.code.as_str()), Some("NYC-FO"));
        assert_eq!(book.office_for("60601", on).map(|p| p.place.code.as_str()), Some("CHI-FO"));
        assert_eq!(book.office_for("90 012", on).map(|p| p.place.code.as_str()), Some("LOS-FO"));
        assert!(book.office_for("", on).is_none());
        let mut closed = book.iter().map(|p| p.place.clone()).collect::<Vec<_>>();
        for p in &mut closed {
            if p.code == "NYC-FO" {
                p.closures.push(Closure { from: on, until: None, reason: "moved".into() });
            }
        }
        let book = PlaceBook::resolve(closed).unwrap();
        assert!(book.office_for("10001", on).is_none(), "no other office serves 1");
    }

    #[test]
    fn a_place_input_names_every_field_that_is_wrong() {
        let input = PlaceInput {
            code: "bos fo".into(),
            name: "".into(),
            kind: "office".into(),
            zone: "Mars/Base".into(),
            address: "".into(),
            service_area: vec!["02!".into()],
            hours: WeekHours { mon: Some("9-17".into()), ..Default::default() },
            holidays: vec!["25/12/2026".into()],
            desks: 0,
            minutes: ServiceMinutes { registration: 20, re_registration: 0, interview: 30 },
        };
        let fields: Vec<String> = input.validate().unwrap_err().0.into_iter().map(|f| f.field).collect();
        assert_eq!(
            fields,
            vec![
                "code",
                "name",
                "zone",
                "address",
                "service_area[0]",
                "hours.mon",
                "holidays[0]",
                "service_area",
                "hours",
                "desks",
                "minutes.re_registration"
            ]
        );
        let port = PlaceInput { kind: "port".into(), ..PlaceInput::of(&office()) };
        assert!(port.validate().is_ok(), "a port needs no office details");
        let closure = ClosureInput { from: "2026-12-02".into(), until: Some("2026-12-01".into()), reason: " ".into() };
        let fields: Vec<String> = closure.validate().unwrap_err().0.into_iter().map(|f| f.field).collect();
        assert_eq!(fields, vec!["until", "reason"]);
    }

    proptest::proptest! {
        #[test]
        fn hours_written_read_back(opens in 0u16..1439, len in 1u16..600) {
            let h = Hours { opens, closes: (opens + len).min(1440) };
            proptest::prop_assume!(h.closes > h.opens);
            proptest::prop_assert_eq!(Hours::parse(&h.to_string()), Some(h));
        }

        #[test]
        fn capacity_is_desks_times_open_minutes_and_services_never_exceed_it(desks in 0u16..50, minutes in 1u16..120, d in 0i64..3650) {
            let mut o = office();
            o.desks = desks;
            o.minutes.interview = minutes;
            let date = day("2026-01-01").checked_add(jiff::Span::new().days(d)).unwrap();
            let cap = o.capacity_minutes(date);
            proptest::prop_assert_eq!(cap, o.open_on(date).map_or(0, |h| h.minutes()) * u32::from(desks));
            proptest::prop_assert!(o.services_on(date, ServiceKind::Interview) * u32::from(minutes) <= cap);
        }
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
    /// The office serving `postal_code`: the longest matching service-area prefix
    /// among offices open for good on `on` (ties go to the first code).
    pub fn office_for(&self, postal_code: &str, on: Date) -> Option<&ZonedPlace> {
        let mut best: Option<(&ZonedPlace, usize)> = None;
        for p in self.by_code.values() {
            if p.place.kind != PlaceKind::Office || p.place.closed_for_good(on) {
                continue;
            }
            if let Some(n) = p.place.serves(postal_code) {
                if best.is_none_or(|(_, b)| n > b) {
                    best = Some((p, n));
                }
            }
        }
        best.map(|(p, _)| p)
    }
    /// The office nearest to office `code` that is open on `on` and not closed for
    /// good: places carry no coordinates, so "nearest" is by postal code, the
    /// office whose service area shares the longest prefix with `code`'s (postal
    /// codes are assigned by area). Ties go to the first code.
    pub fn nearest_open(&self, code: &str, on: Date) -> Option<&ZonedPlace> {
        let from = self.get(code)?;
        let common = |a: &str, b: &str| a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
        let mut best: Option<(&ZonedPlace, usize)> = None;
        for p in self.by_code.values() {
            if p.place.code == from.place.code
                || p.place.kind != PlaceKind::Office
                || p.place.closed_for_good(on)
                || p.place.open_on(on).is_none() && p.place.closures.iter().any(|c| c.covers(on))
            {
                continue;
            }
            let n = from
                .place
                .service_area
                .iter()
                .flat_map(|a| p.place.service_area.iter().map(move |b| common(a, b)))
                .max()
                .unwrap_or(0);
            if best.is_none_or(|(_, b)| n > b) {
                best = Some((p, n));
            }
        }
        best.map(|(p, _)| p)
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
