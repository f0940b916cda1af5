//! Any text as a checkpoint, a signed note, a verifier key, a witness request or a
//! cosignature line: each is parsed or refused, never a panic, and no note the
//! fuzzer writes verifies under a key it does not hold.
#![no_main]
use fairgate_ledger::checkpoint::{Checkpoint, NoteSigner, NoteVerifier};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(cp) = Checkpoint::parse_body(text) {
        // A body that parses writes back to the same body.
        assert_eq!(Checkpoint::parse_body(&cp.body()).ok().map(|c| c.body()), Some(cp.body()));
    }
    let _ = NoteVerifier::parse(text);
    let signer = NoteSigner::from_seed("fuzz.example/log", &[3; 32]);
    let verifier = NoteVerifier::parse(&signer.verifier_key()).expect("own key parses");
    if let Ok(cp) = verifier.verify(text) {
        // Only a note this signer signed verifies: the fuzzer holds no key.
        assert_eq!(signer.sign(&cp), text, "a note verified that this key never signed");
    }
    let _ = fairgate_ledger::witness::AddCheckpoint::parse(text);
    let _ = fairgate_ledger::witness::CosignatureVerifier::parse(text);
    // A cosignature line from the fuzzer never verifies under a witness's key.
    let witness = fairgate_ledger::witness::Cosigner::from_seed("witness.example", &[5; 32]);
    let wv = fairgate_ledger::witness::CosignatureVerifier::parse(&witness.verifier_key()).expect("own key parses");
    let body = "fuzz.example/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    if wv.verify_line(body, text).is_ok() {
        assert_eq!(witness.cosign(body, wv.verify_line(body, text).unwrap()), text);
    }
    let _ = fairgate_ledger::witness::note_body(text);
});
