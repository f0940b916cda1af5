//! Ports and offices as data: added, changed and closed by administrators as ledger
//! events (`place-set`, `place-closed`, sealed under the system key, the list public),
//! folded into the registry's place book. A database made before places were events
//! keeps its `places` table as the base the events are folded over.

use fairgate_core::event::{Event, EventKind, PlaceClosed, PlaceSet};
use fairgate_core::place::{ClosureInput, Place, PlaceBook, PlaceInput};
use fairgate_core::policy::{self, Action};
use fairgate_core::Invalid;
use jiff::Timestamp;

use super::*;

/// A closure recorded, and the bookings it moved.
#[derive(Debug, Clone, Copy)]
pub struct Closed {
    pub receipt: Receipt,
    pub moved: u64,
}

impl Registry {
    /// Fold the place events over the legacy places and make the result current.
    pub(super) fn load_places(&self) -> Result<()> {
        let mut places: Vec<Place> = legacy_places(self.store.as_ref())?;
        let mut idx: Vec<u64> = Vec::new();
        for kind in [EventKind::PlaceSet, EventKind::PlaceClosed] {
            idx.extend(self.store.system_leaves(kind.code())?.into_iter().map(|(i, _)| i));
        }
        idx.sort_unstable();
        for l in self.store.leaves_at(&idx)? {
            match self.open_leaf(&l, &self.system)? {
                Event::PlaceSet(e) => match places.iter_mut().find(|p| p.code == e.place.code) {
                    // A change keeps the place's closures: those are their own events.
                    Some(p) => *p = Place { closures: std::mem::take(&mut p.closures), ..e.place },
                    None => places.push(e.place),
                },
                Event::PlaceClosed(e) => {
                    if let Some(p) = places.iter_mut().find(|p| p.code == e.code) {
                        p.closures.push(e.closure);
                    }
                }
                other => {
                    return Err(corrupt(format!("leaf {} is a {:?} among the place events", l.index, other.kind())))
                }
            }
        }
        let book = PlaceBook::resolve(places).map_err(corrupt)?;
        *self.places.write().map_err(|_| corrupt("places lock poisoned"))? = Arc::new(book);
        Ok(())
    }

    /// Every port and office, by code, with its closures, as the ledger has them
    /// now (another process may have changed them).
    pub fn place_list(&self) -> Result<Vec<Place>> {
        self.load_places()?;
        Ok(self.places().iter().map(|p| p.place.clone()).collect())
    }

    /// Add a port or office (`edit: false`), or change one (`edit: true`; its
    /// closures stay). Administrators only; a ledger event.
    pub fn set_place(&self, now: Timestamp, admin: &Actor, input: &PlaceInput, edit: bool) -> Result<Receipt> {
        policy::authorize(admin, Action::ManagePlaces)?;
        let place = input.validate()?;
        let exists = self.places().get(&place.code).is_some();
        match (edit, exists) {
            (false, true) => {
                return Err(Invalid::one(
                    "code",
                    format!(
                        "{} is already a place: change it with `places edit` (PUT /places/{})",
                        place.code, place.code
                    ),
                )
                .into())
            }
            (true, false) => {
                return Err(Invalid::one(
                    "code",
                    format!("{} is not a place: add it with `places add` (POST /places)", place.code),
                )
                .into())
            }
            _ => {}
        }
        if let Some(old) = self.places().get(&place.code) {
            if old.place.kind != place.kind {
                return Err(Invalid::one(
                    "kind",
                    "a port stays a port and an office an office: close this one and add a new place",
                )
                .into());
            }
        }
        let event = Event::PlaceSet(PlaceSet { place, edit, by: admin.clone() });
        let ((), receipt) = self.write(now, |b| b.append_system(event))?;
        self.load_places()?;
        Ok(receipt)
    }

    /// Close a place for a time, or for good, with the reason. Administrators only;
    /// a ledger event, published with the place. The bookings it covers move to the
    /// nearest open office with their deadlines extended by the closure, and each
    /// person gets a new notice (`Closed::moved` counts them).
    pub fn close_place(&self, now: Timestamp, admin: &Actor, code: &str, input: &ClosureInput) -> Result<Closed> {
        policy::authorize(admin, Action::ManagePlaces)?;
        let closure = input.validate()?;
        let code = code.trim().to_uppercase();
        let Some(place) = self.places().get(&code).map(|p| p.place.clone()) else {
            return Err(Invalid::one("code", format!("{code} is not a place: see GET /places")).into());
        };
        if place.closed_for_good(closure.from) {
            return Err(Invalid::one("code", format!("{code} is closed for good already")).into());
        }
        let event = Event::PlaceClosed(PlaceClosed { code: code.clone(), closure: closure.clone(), by: admin.clone() });
        let ((), receipt) = self.write(now, |b| b.append_system(event))?;
        self.load_places()?;
        // If this fails, the closure stands; closing again is refused only for good,
        // so a bounded closure can be sent again to finish the moves.
        let moved = self.move_for_closure(now, &code, &closure)?;
        Ok(Closed { receipt, moved })
    }

    /// Add the places not yet known among `places` (the demo's, a migration), in one
    /// write. Administrators only.
    pub fn add_places(&self, now: Timestamp, admin: &Actor, places: &[Place]) -> Result<usize> {
        policy::authorize(admin, Action::ManagePlaces)?;
        let book = self.places();
        let new: Vec<Place> = places.iter().filter(|p| book.get(&p.code).is_none()).cloned().collect();
        for p in &new {
            PlaceInput::of(p).validate()?;
        }
        if new.is_empty() {
            return Ok(0);
        }
        self.write(now, |b| {
            for place in &new {
                b.append_system(Event::PlaceSet(PlaceSet { place: place.clone(), edit: false, by: admin.clone() }))?;
            }
            Ok(())
        })?;
        self.load_places()?;
        Ok(new.len())
    }
}
