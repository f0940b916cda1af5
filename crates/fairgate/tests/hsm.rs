//! Master keys in a PKCS#11 token, against SoftHSM2 (Debian's `softhsm2`): the test
//! initialises its own token in a temporary directory, points a key store at it, and
//! checks that the master key is made in the token and never written out, that
//! nothing reads without the token (or its PIN), and that a rotation destroys the
//! old epoch in the token, so a backup taken before it reads nothing.
//!
//! Without SoftHSM2 installed the test says so and passes, unless
//! `FAIRGATE_REQUIRE_SOFTHSM=1` (set by `.ci/run`), when it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "246810";

struct Hsm {
    conf: PathBuf,
}

impl Hsm {
    /// A SoftHSM2 configuration of its own, with one token, `fairgate`, initialised.
    fn init(dir: &Path) -> Option<Hsm> {
        let module = std::env::var("FAIRGATE_SOFTHSM_MODULE").unwrap_or_else(|_| MODULE.into());
        if !Path::new(&module).exists() {
            assert!(
                std::env::var("FAIRGATE_REQUIRE_SOFTHSM").is_err(),
                "FAIRGATE_REQUIRE_SOFTHSM is set but {module} is missing: apt-get install -y softhsm2"
            );
            eprintln!("SKIPPED: {module} is missing (apt-get install -y softhsm2 to run this test)");
            return None;
        }
        let tokens = dir.join("tokens");
        std::fs::create_dir_all(&tokens).unwrap();
        let conf = dir.join("softhsm2.conf");
        std::fs::write(&conf, format!("directories.tokendir = {}\nobjectstore.backend = file\n", tokens.display()))
            .unwrap();
        let out = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", "fairgate", "--so-pin", "13579", "--pin", PIN])
            .env("SOFTHSM2_CONF", &conf)
            .output()
            .expect("softhsm2-util");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        Some(Hsm { conf })
    }

    fn run(&self, data: &Path, keys: &Path, args: &[&str], pin: Option<&str>) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fairgate"));
        c.arg("--data").arg(data).arg("--keys").arg(keys).args(args).env("RUST_LOG", "warn");
        c.env("SOFTHSM2_CONF", &self.conf).env_remove("FAIRGATE_HSM_PIN");
        if let Some(p) = pin {
            c.env("FAIRGATE_HSM_PIN", p);
        }
        c.output().unwrap()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn master_keys_made_in_a_pkcs11_token_never_leave_it_and_a_rotation_destroys_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let Some(hsm) = Hsm::init(dir.path()) else { return };
    let (data, keys) = (dir.path().join("data"), dir.path().join("keys"));
    let module = std::env::var("FAIRGATE_SOFTHSM_MODULE").unwrap_or_else(|_| MODULE.into());

    // A wrong PIN is refused before anything is written.
    let bad = hsm.run(
        &data,
        &keys,
        &["keys", "hsm", "--module", &module, "--token", "fairgate", "--pin-env", "FAIRGATE_HSM_PIN"],
        Some("000000"),
    );
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("PIN"), "{}", text(&bad.stderr));
    assert!(!keys.join("pkcs11.json").exists());
    let ok = hsm.run(
        &data,
        &keys,
        &["keys", "hsm", "--module", &module, "--token", "fairgate", "--pin-env", "FAIRGATE_HSM_PIN"],
        Some(PIN),
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));

    let seeded = hsm.run(&data, &keys, &["demo", "--travellers", "20"], Some(PIN));
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    // The key file names the key; the key is in the token only.
    let reference = std::fs::read_to_string(keys.join("master.key")).unwrap();
    assert!(reference.starts_with("pkcs11:") && reference.trim().len() == "pkcs11:".len() + 32, "{reference}");
    let status = hsm.run(&data, &keys, &["keys", "status"], Some(PIN));
    assert!(text(&status.stdout).contains("master key hsm-"), "{}", text(&status.stdout));

    let id = common::first_subjects(&data.join("fairgate.db"), 1).remove(0);
    let read = |pin: Option<&str>, data: &Path, keys: &Path| {
        hsm.run(data, keys, &["obligations", &id, "--as", "demo-officer", "--purpose", "border-check"], pin)
    };
    let r = read(Some(PIN), &data, &keys);
    assert!(r.status.success(), "{}", text(&r.stderr));

    // Without the PIN: nothing opens, and the error says what to set.
    let r = read(None, &data, &keys);
    assert!(!r.status.success());
    assert!(text(&r.stderr).contains("FAIRGATE_HSM_PIN"), "{}", text(&r.stderr));

    // The data and the whole key store, copied to a machine without the token: nothing reads.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(elsewhere.join("tokens")).unwrap();
    std::fs::write(
        elsewhere.join("softhsm2.conf"),
        format!("directories.tokendir = {}\nobjectstore.backend = file\n", elsewhere.join("tokens").display()),
    )
    .unwrap();
    let copy = |from: &Path, to: &Path| {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    };
    copy(&data, &elsewhere.join("data"));
    copy(&keys, &elsewhere.join("keys"));
    let out = Command::new(env!("CARGO_BIN_EXE_fairgate"))
        .arg("--data")
        .arg(elsewhere.join("data"))
        .arg("--keys")
        .arg(elsewhere.join("keys"))
        .args(["obligations", &id, "--as", "demo-officer", "--purpose", "border-check"])
        .env("SOFTHSM2_CONF", elsewhere.join("softhsm2.conf"))
        .env("FAIRGATE_HSM_PIN", PIN)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a copy without the token must read nothing");
    assert!(text(&out.stderr).contains("no token labelled `fairgate`"), "{}", text(&out.stderr));

    // Back up, rotate (a new key made in the token, the old one destroyed), and the
    // old backup reads nothing while a fresh one reads everyone.
    let b1 = dir.path().join("b1");
    assert!(hsm.run(&data, &keys, &["backup", "--to", b1.to_str().unwrap()], Some(PIN)).status.success());
    let rotated = hsm.run(&data, &keys, &["keys", "rotate"], Some(PIN));
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    let after = std::fs::read_to_string(keys.join("master.key")).unwrap();
    assert!(after.starts_with("pkcs11:") && after != reference, "{after}");
    assert!(!keys.join("master.key.destroy").exists(), "the old epoch's destruction finished");
    let old = hsm.run(&dir.path().join("data-old"), &keys, &["restore", "--from", b1.to_str().unwrap()], Some(PIN));
    assert!(!old.status.success(), "a backup of the destroyed epoch must not restore");
    // The old key is gone from the token: the old reference no longer opens.
    let stale = dir.path().join("stale-keys");
    copy(&keys, &stale);
    std::fs::write(stale.join("master.key"), &reference).unwrap();
    let r = read(Some(PIN), &data, &stale);
    assert!(!r.status.success());
    assert!(text(&r.stderr).contains("no master key with id"), "{}", text(&r.stderr));
    let r = read(Some(PIN), &data, &keys);
    assert!(r.status.success(), "{}", text(&r.stderr));
}
