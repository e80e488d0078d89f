//! Prints what the layout reader makes of a file: `cargo run --example layout_check -- FILE`.

use std::path::Path;

use engajar::layout::{self, Limits, RowOutcome};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: layout_check FILE");
        std::process::exit(2);
    };
    let name = Path::new(&path)
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let report = layout::scan::<_, ()>(Path::new(&path), &name, &Limits::default(), |row| {
        match row {
            RowOutcome::Valid(r) => println!("ok   line {:>4}: {:?}", r.line, r),
            RowOutcome::Rejected(r) => {
                println!("rej  line {:>4}: {} {}", r.line, r.code(), r.message())
            }
        }
        Ok(())
    })
    .expect("infallible");
    println!(
        "format {:?}: {} data rows, {} valid, {} rejected, {} file errors",
        report.format,
        report.data_rows,
        report.valid_rows,
        report.rejected_rows,
        report.file_error_total
    );
    for e in &report.file_errors {
        println!(
            "file line {:?} column {:?} {}: {} [{:?}]",
            e.line, e.column, e.code, e.message, e.value
        );
    }
}
