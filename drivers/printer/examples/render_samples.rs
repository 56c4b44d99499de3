//! Renders every slip type through the printer simulator to PNG and text, for both paper
//! widths, so anyone can look at them:
//!
//! ```text
//! cargo run -p kiosk-printer --example render_samples -- [OUT_DIR]
//! ```
//!
//! `OUT_DIR` defaults to `target/printer-samples` (never committed).

use std::path::PathBuf;

use kiosk_printer::sim::{SimConfig, SimPrinter};
use kiosk_printer::{CjkFont, CutCommand, FontSource, PaperWidth, PrinterProfile, samples};

fn main() -> anyhow::Result<()> {
    let out = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("target/printer-samples"), PathBuf::from);
    let font = CjkFont::load(&FontSource::default())?;
    for paper in [PaperWidth::Mm80, PaperWidth::Mm58] {
        let dir = out.join(format!("{paper}mm"));
        std::fs::create_dir_all(&dir)?;
        let profile = PrinterProfile::new(paper, CutCommand::FullB(0));
        for (stem, doc) in samples::all() {
            let sim = SimPrinter::with_font(
                SimConfig {
                    paper,
                    ..SimConfig::default()
                },
                font.clone(),
            );
            let slip = doc.build(&profile, &font)?;
            sim.feed_bytes(&slip.bytes);
            for record in sim.slips() {
                let png = dir.join(format!("{stem}.png"));
                record.image.save(&png)?;
                std::fs::write(dir.join(format!("{stem}.txt")), &record.text)?;
                println!(
                    "{} ({} bytes, {} junk, {} overflowed lines)",
                    png.display(),
                    slip.bytes.len(),
                    record.junk_chars,
                    record.overflowed_lines
                );
            }
        }
    }
    Ok(())
}
