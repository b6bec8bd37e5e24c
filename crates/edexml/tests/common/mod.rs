//! What the EDEXML tests share: reading a file from `../shared` beside the project.

/// A file of `../shared`, or `None` (said on stderr) when it is not there; under `CI=true` a
/// missing file fails the test.
pub fn shared(rel: &str) -> Option<Vec<u8>> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel);
    match std::fs::read(&p) {
        Ok(b) => Some(b),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but {} is missing", p.display())
        }
        Err(_) => {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "NOTE: EDEXML test on {rel} SKIPPED (no ../shared beside the project)"
            );
            None
        }
    }
}
