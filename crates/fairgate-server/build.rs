//! Embeds the vendored design-system assets (`assets/`, filled by
//! scripts/vendor-uswds.sh): writes a table of every file, by its path under
//! `assets/`, with `include_bytes!`, so the binary serves them and nothing is
//! fetched at run time. Reads only files in this crate; downloads nothing.

use std::path::Path;

fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, root, out);
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    println!("cargo:rerun-if-changed=assets");
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    let mut table = String::from(
        "/// Every embedded asset: (path under assets/, bytes).\npub static ASSETS: &[(&str, &[u8])] = &[\n",
    );
    for f in &files {
        table.push_str(&format!(
            "    ({f:?}, include_bytes!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/assets/\", {f:?}))),\n"
        ));
    }
    table.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("assets.rs");
    std::fs::write(out, table).expect("write the asset table");
}
