//! Files made to hurt: a zip bomb dressed as a workbook must end as `too_large`, quickly
//! and in bounded memory. Its own test binary, so the process's peak memory is its own.

use std::path::Path;

use engajar::layout::{self, FileErrorCode, Limits};

/// Peak resident memory of this process, in MB (Linux).
fn peak_memory_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<f64>()
        .unwrap()
        / 1024.0
}

#[test]
fn a_zip_bomb_workbook_is_too_large_in_bounded_memory() {
    let bomb = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zip_bomb.xlsx");
    assert!(
        std::fs::metadata(&bomb).unwrap().len() < 1024 * 1024,
        "a small file"
    );
    let report = layout::validate(&bomb, "planilha.xlsx", &Limits::default());
    assert!(
        report.has_code(FileErrorCode::TooLarge),
        "{:?}",
        report.file_errors
    );
    assert!(!report.is_importable());
    // 400 MB of XML were behind 0.4 MB of zip; reading stopped at the limit, in a
    // streaming buffer.
    let peak = peak_memory_mb();
    assert!(peak < 100.0, "peak memory {peak:.0} MB");
}

/// 0.8 KB of OpenDocument whose one filled cell is repeated 1,000 columns by 50,000 rows:
/// read as is, the spreadsheet library would allocate the 50-million-cell rectangle
/// (6 GB here). The repeats are summed first, so it ends as `too_large` at once.
#[test]
fn repeated_cells_in_an_ods_are_too_large_before_they_are_expanded() {
    let bomb = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/repeated_cells_bomb.ods");
    let started = std::time::Instant::now();
    let report = layout::validate(&bomb, "planilha.ods", &Limits::default());
    assert!(
        report.has_code(FileErrorCode::TooLarge),
        "{:?}",
        report.file_errors
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let peak = peak_memory_mb();
    assert!(peak < 100.0, "peak memory {peak:.0} MB");
}

/// 5.6 KB of Excel 97-2003 with one cell at A1 and one at the last row and column: the
/// spreadsheet library builds the whole 65,536 × 256 rectangle when it opens the file
/// (1 GB here). The cell records are read first, so it ends as `too_large` at once.
#[test]
fn a_far_cell_in_an_xls_is_too_large_before_the_range_is_built() {
    let bomb = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/far_cell_bomb.xls");
    let report = layout::validate(&bomb, "planilha.xls", &Limits::default());
    assert!(
        report.has_code(FileErrorCode::TooLarge),
        "{:?}",
        report.file_errors
    );
    let peak = peak_memory_mb();
    assert!(peak < 100.0, "peak memory {peak:.0} MB");
}
