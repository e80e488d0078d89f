//! The file reader on arbitrary bytes: whatever a user uploads, under whichever name,
//! validation ends with a report and never panics. The first byte picks the name.
#![no_main]

use engajar::layout::{self, Limits};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 6] = [
    "publico.csv",
    "publico.txt",
    "publico.xlsx",
    "publico.xls",
    "publico.ods",
    "publico",
];

fuzz_target!(|data: &[u8]| {
    // The reader catches panics from the spreadsheet library and reports the file as
    // damaged; only a panic that escapes it (or a hang, or runaway memory) is a finding.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let path = std::env::temp_dir().join(format!("engajar-fuzz-{}", std::process::id()));
    std::fs::write(&path, bytes).expect("write the input");
    let limits = Limits {
        max_sheet_cells: 10_000,
        max_listed: 50,
    };
    let report = layout::validate(&path, NAMES[pick as usize % NAMES.len()], &limits);
    assert!(report.file_errors.len() <= limits.max_listed);
});
