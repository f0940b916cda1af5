//! The public log: raw leaves, RFC 9162 inclusion and consistency proofs from the
//! stored tree, signed checkpoints (never over a log inconsistent with the last
//! one), and the tree head.

use super::*;

impl Registry {
    /// Raw leaves `[start, start + count)` as stored. Public: every payload is sealed.
    pub fn leaves(&self, start: u64, count: u64) -> Result<Vec<LeafRow>> {
        Ok(self.store.leaves(start, count)?)
    }

    pub(super) fn check_size(&self, field: &str, size: u64) -> Result<()> {
        let stored = self.store.tree_size()?;
        if size > stored {
            return Err(Invalid::one(field, format!("{size} is larger than the log, which has {stored} leaves")).into());
        }
        Ok(())
    }

    /// RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.check_size("size", size)?;
        if index >= size {
            return Err(Invalid::one("index", format!("{index} is not below the tree size {size}")).into());
        }
        inclusion_proof(&mut StoredTree { store: self.store.as_ref() }, index, size).map_err(proof_error)
    }

    /// RFC 9162 consistency proof between the trees of `from` and `to` leaves.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>> {
        self.check_size("to", to)?;
        if from > to {
            return Err(Invalid::one("from", format!("{from} is larger than to ({to})")).into());
        }
        consistency_proof(&mut StoredTree { store: self.store.as_ref() }, from, to).map_err(proof_error)
    }

    /// The signed checkpoint at exactly `size`, if one was signed, else the latest.
    pub fn checkpoint(&self, size: Option<u64>) -> Result<Option<CheckpointRow>> {
        Ok(match size {
            None => self.store.latest_checkpoint()?,
            Some(n) => self.store.checkpoints()?.into_iter().find(|c| c.size == n),
        })
    }

    /// Sign a checkpoint of the current tree unless one exists at this size. Refuses
    /// (with `Corrupt`) to sign a tree that is not provably an extension of the last
    /// signed one: a ledger that shrank or whose stored leaves changed must never get
    /// a fresh signature that would hide it.
    ///
    /// Signing needs the database's signing lease (see [`Lease`]): a registry takes it
    /// when it is free or expired and renews it each time it signs or checks, for
    /// [`LEASE_TTL`]. While another registry (another process) holds it, nothing is
    /// signed and `Ok(None)` is returned, so two processes on one database never
    /// both sign.
    pub fn sign_checkpoint(&self, now: Timestamp) -> Result<Option<CheckpointRow>> {
        let w = self.lock()?;
        let (size, root) = (w.frontier.size(), w.frontier.root());
        let lease = Lease {
            holder: self.lease_holder.clone(),
            expires_ms: now.as_millisecond().saturating_add(LEASE_TTL.as_millis() as i64),
        };
        let mut row = None;
        if let Some(last) = self.store.latest_checkpoint()? {
            if size < last.size {
                return Err(corrupt(format!(
                    "the ledger has {size} leaves but a checkpoint was signed at {}: leaves were removed; refusing to sign",
                    last.size
                )));
            }
            if size == last.size && root != last.root {
                return Err(corrupt(format!(
                    "the root at {size} differs from the signed checkpoint: refusing to sign"
                )));
            }
            if size > last.size {
                let proof = consistency_proof(&mut StoredTree { store: self.store.as_ref() }, last.size, size)
                    .map_err(proof_error)?;
                if !verify_consistency(last.size, size, &last.root, &root, &proof) {
                    return Err(corrupt(format!(
                        "the stored tree at {size} is not consistent with the checkpoint signed at {}: refusing to sign",
                        last.size
                    )));
                }
                row = Some(size);
            }
        } else {
            row = Some(size);
        }
        let row = row.map(|size| {
            let cp = Checkpoint { origin: self.origin().to_string(), size, root };
            CheckpointRow { size, root, note: self.signer.sign(&cp), signed_at_ms: now.as_millisecond() }
        });
        match self.store.put_checkpoint(row.as_ref(), &lease, now.as_millisecond())? {
            None => {
                self.holds_lease.store(true, std::sync::atomic::Ordering::Relaxed);
                Ok(row)
            }
            Some(other) => {
                tracing::debug!(until_ms = other.expires_ms, "another process holds the signing lease: not signing");
                Ok(None)
            }
        }
    }

    /// A signed checkpoint that includes leaf `leaf`: signed now, or (while another
    /// process holds the signing lease) the one it signs next, waited for up to
    /// `wait`.
    pub fn checkpoint_including(&self, now: Timestamp, leaf: u64, wait: std::time::Duration) -> Result<CheckpointRow> {
        self.sign_checkpoint(now)?;
        let started = std::time::Instant::now();
        let deadline = started + wait;
        let mut tried = started;
        loop {
            if let Some(cp) = self.store.latest_checkpoint()?.filter(|c| c.size > leaf) {
                return Ok(cp);
            }
            // The holder of the lease may have died: once its lease runs out, this
            // process signs (tried again each second, not only at the start).
            if tried.elapsed() >= std::time::Duration::from_secs(1) {
                tried = std::time::Instant::now();
                let at = now + jiff::SignedDuration::try_from(started.elapsed()).unwrap_or_default();
                self.sign_checkpoint(at)?;
                continue;
            }
            if std::time::Instant::now() >= deadline {
                return Err(RegistryError::Unavailable(format!(
                    "no checkpoint includes leaf {leaf} yet: what was recorded stays recorded (an expungement is done, and its certificate will be listed at GET /expungements); the process holding the signing lease (a running `fairgate serve`) signs a checkpoint within seconds, or within 30 if it died"
                )));
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Give up the signing lease (a serving process stopping), so another process
    /// may sign at once instead of when the lease expires.
    pub fn release_signing_lease(&self) -> Result<()> {
        if self.holds_lease.swap(false, std::sync::atomic::Ordering::Relaxed) {
            self.store.release_lease(&self.lease_holder)?;
        }
        Ok(())
    }

    /// The checkpoint at `size` with the witnesses' cosignature lines appended, as
    /// `/log/checkpoint` serves it.
    pub fn cosigned_note(&self, cp: &CheckpointRow) -> Result<String> {
        let mut note = cp.note.clone();
        for (_, line) in self.store.cosignatures(cp.size)? {
            note.push_str(&line);
        }
        Ok(note)
    }

    /// The latest checkpoint carrying at least `witnesses` cosignatures.
    pub fn latest_cosigned(&self, witnesses: usize) -> Result<Option<CheckpointRow>> {
        Ok(match self.store.latest_cosigned(witnesses)? {
            Some(size) => self.checkpoint(Some(size))?,
            None => None,
        })
    }

    /// Keep witness cosignature lines for the checkpoint at `size`.
    pub fn add_cosignatures(&self, size: u64, lines: &[(String, String)]) -> Result<()> {
        Ok(self.store.put_cosignatures(size, lines)?)
    }

    /// The current tree size and root, as this writer sees them.
    pub fn tree_head(&self) -> Result<(u64, Hash)> {
        let w = self.lock()?;
        Ok((w.frontier.size(), w.frontier.root()))
    }
}
