//! Benchmark of the file contract on large files.
//!
//! `cargo run --release --example layout_bench -- generate 1000000 /tmp/publico.csv` writes a
//! layout file of N rows as Excel pt-BR saves it (UTF-8 with BOM, `;`, CRLF);
//! `cargo run --release --example layout_bench -- validate /tmp/publico.csv` reads and checks
//! it the way an import does and prints the time. README compares it with
//! `sqlite3`'s `.import` of the same file.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use engajar::domain::document::cpf_check_digits;
use engajar::layout::{self, COLUMNS, Limits};

const DDDS: [u32; 8] = [11, 21, 31, 41, 51, 61, 71, 85];
const TAGS: [&str; 4] = [
    "Loja Centro",
    "Filial Niterói",
    "Canal Digital",
    "Agência 12",
];
const PRIORITIES: [&str; 4] = ["ALTA", "MEDIA", "BAIXA", ""];

fn generate(rows: u64, path: &Path) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    out.write_all(b"\xEF\xBB\xBF")?;
    out.write_all(COLUMNS.join(";").as_bytes())?;
    out.write_all(b"\r\n")?;
    for i in 0..rows {
        let base = format!("{:09}", (i * 7_919 + 13) % 1_000_000_000);
        let (a, b) = cpf_check_digits(base.as_bytes());
        let ddd = DDDS[(i % 8) as usize];
        if i % 5 == 4 {
            write!(out, "EMAIL;cliente{i}@exemplo.com.br;")?;
        } else {
            write!(
                out,
                "TELEFONE;{ddd}9{:04}{:04};",
                (i / 10_000) % 10_000,
                i % 10_000
            )?;
        }
        let message = if i % 3 == 0 {
            "Olá, sua fatura vence"
        } else {
            ""
        };
        write!(
            out,
            "{message};Cliente {i};{base}{a}{b};C-{i};{};F{};;;;;{}\r\n",
            TAGS[(i % 4) as usize],
            i % 100,
            PRIORITIES[(i % 4) as usize]
        )?;
    }
    out.flush()
}

/// Peak resident memory of this process (Linux), to show it does not grow with the rows.
fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("generate") if args.len() == 4 => {
            let rows: u64 = args[2].parse().expect("row count");
            let path = Path::new(&args[3]);
            generate(rows, path).expect("write file");
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            println!(
                "wrote {rows} rows, {:.1} MB, to {}",
                size as f64 / 1e6,
                path.display()
            );
        }
        Some("validate") if args.len() == 3 => {
            let path = Path::new(&args[2]);
            let started = Instant::now();
            let report = layout::validate(path, &args[2], &Limits::default());
            let elapsed = started.elapsed();
            println!(
                "{} data rows ({} valid, {} rejected, {} file errors) in {:.2} s: {:.0} rows/s, peak memory {:.1} MB",
                report.data_rows,
                report.valid_rows,
                report.rejected_rows,
                report.file_error_total,
                elapsed.as_secs_f64(),
                report.data_rows as f64 / elapsed.as_secs_f64(),
                peak_memory_mb().unwrap_or(f64::NAN)
            );
        }
        _ => {
            eprintln!("usage: layout_bench generate ROWS FILE | layout_bench validate FILE");
            std::process::exit(2);
        }
    }
}
