//! `kiosk check`: loads the configuration, the catalogue and the calendar, reports every
//! problem, and summarises what the kiosk will offer.

use std::fmt::Write as _;
use std::path::Path;

use crate::catalogue::{Audience, Catalogue, Level};
use crate::config::kiosk::{DeviceMode, KioskConfig};
use crate::config::{ConfigErrors, Problem, calendar};
use crate::domain::calendar::WorkCalendar;

/// Everything the kiosk loads from files at start.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: KioskConfig,
    pub catalogue: Catalogue,
    pub calendar: WorkCalendar,
}

/// Loads all files, collecting the problems of every file (the catalogue and calendar are
/// still checked when `kiosk.toml` itself is broken, from their default places). Each problem
/// is also logged.
pub fn load_all(config_path: &Path) -> Result<Loaded, ConfigErrors> {
    let mut problems: Vec<Problem> = Vec::new();
    let config = KioskConfig::load(config_path)
        .map_err(|e| problems.extend(e.0))
        .ok();
    let base = config_path.parent().unwrap_or(Path::new("."));
    let (catalogue_dir, calendar_dir) = match &config {
        Some(c) => (c.catalogue_dir.clone(), c.calendar_dir.clone()),
        None => (base.join("catalogue"), base.join("calendar")),
    };
    let catalogue = Catalogue::load(&catalogue_dir)
        .map_err(|e| problems.extend(e.0))
        .ok();
    let calendar = calendar::load(&calendar_dir)
        .map_err(|e| problems.extend(e.0))
        .ok();
    for p in &problems {
        tracing::error!(target: "kiosk_app::config", problem = %p, "configuration problem");
    }
    match (config, catalogue, calendar) {
        (Some(config), Some(catalogue), Some(calendar)) if problems.is_empty() => Ok(Loaded {
            config,
            catalogue,
            calendar,
        }),
        _ => Err(ConfigErrors(problems)),
    }
}

/// The summary `kiosk check` prints on success.
pub fn summary(loaded: &Loaded) -> String {
    let Loaded {
        config,
        catalogue,
        calendar,
    } = loaded;
    let mut out = String::new();
    let _ = writeln!(out, "kiosk {} at {}", config.kiosk_id, config.centre.name);
    let d = &config.devices;
    let modes: [(&str, DeviceMode); 7] = [
        ("ID-card reader", d.idcard.mode),
        ("receipt printer", d.printer.mode),
        ("scanner", d.scanner.mode),
        ("card dispenser", d.dispenser.mode),
        ("chip encoder", d.encoder.mode),
        ("card printer", d.card_printer.mode),
        ("lockers", d.locker.mode),
    ];
    let devices: Vec<String> = modes
        .iter()
        .map(|(name, mode)| format!("{name} {mode}"))
        .collect();
    let _ = writeln!(out, "devices: {}", devices.join(", "));
    let _ = writeln!(out, "platform: {}", config.platform.endpoint);
    let _ = writeln!(
        out,
        "catalogue {}: {} one-things",
        catalogue.version,
        catalogue.one_things.len()
    );
    for audience in [Audience::Resident, Audience::Enterprise] {
        for (stage_id, stage) in catalogue.life_stages_in_order() {
            if stage.audience != audience {
                continue;
            }
            for one in catalogue.for_life_stage(stage_id) {
                let indent = if one.level == Level::Sub {
                    "    sub-item: "
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "  {}  {indent}{}  ({} items, {} working days)",
                    stage.name,
                    one.name,
                    one.body.items.len(),
                    one.body.time_limit.working_days
                );
            }
        }
    }
    let years: Vec<String> = calendar.years().map(|y| y.to_string()).collect();
    let _ = writeln!(out, "working-day calendar: {}", years.join(", "));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::kiosk::LogFormat;
    use crate::logging::{MemorySink, subscriber};

    fn shipped() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/kiosk.toml")
    }

    #[test]
    fn the_shipped_files_check_and_the_summary_names_every_one_thing() {
        let loaded = load_all(&shipped()).unwrap();
        let text = summary(&loaded);
        for name in [
            "新生儿出生“一件事”",
            "公民身后“一件事”",
            "企业开办“一件事”",
            "高考优待“一件事”",
        ] {
            assert!(text.contains(name), "{name} in {text}");
        }
        assert!(text.contains("working-day calendar: 2024, 2025, 2026"));
        assert!(text.contains("ID-card reader simulated"));
    }

    /// The lines of all three kinds of file are reported together.
    #[test]
    fn problems_in_config_catalogue_and_calendar_come_together() {
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
        copy(&root, dir.path());
        let edit = |file: &str, from: &str, to: &str| {
            let p = dir.path().join(file);
            std::fs::write(
                &p,
                std::fs::read_to_string(&p).unwrap().replacen(from, to, 1),
            )
            .unwrap();
        };
        edit("kiosk.toml", "paper_mm = 80", "paper_mm = 81");
        edit(
            "catalogue/one-things/newborn.toml",
            "department = \"health\"",
            "department = \"hospital\"",
        );
        edit("calendar/2026.toml", "2026-02-14,", "2026-02-13,");
        let err = load_all(&dir.path().join("kiosk.toml")).unwrap_err();
        assert_eq!(err.0.len(), 3, "{err}");
    }

    /// An ID number that reaches a config value, a catalogue file name and a calendar path
    /// must not reach the log.
    #[test]
    fn id_numbers_never_reach_the_log() {
        let id = "11010519491231002X";
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
        let conf = dir.path().join(id);
        std::fs::create_dir_all(&conf).unwrap();
        copy(&root, &conf);
        let p = conf.join("kiosk.toml");
        let text = std::fs::read_to_string(&p)
            .unwrap()
            .replace("paper_mm = 80", &format!("paper_mm = \"{id}\""));
        std::fs::write(&p, text).unwrap();
        std::fs::rename(
            conf.join("catalogue/one-things/retirement.toml"),
            conf.join(format!("catalogue/one-things/{id}.toml")),
        )
        .unwrap();
        let cat = conf.join(format!("catalogue/one-things/{id}.toml"));
        let text = std::fs::read_to_string(&cat).unwrap().replace(
            "id = \"retirement\"",
            &format!("id = \"{id}\"\nowner = \"{id}\""),
        );
        std::fs::write(&cat, text).unwrap();

        let sink = MemorySink::default();
        let result = tracing::subscriber::with_default(
            subscriber(LogFormat::Json, "info", sink.clone()),
            || load_all(&p),
        );
        let log = sink.text();
        assert!(result.is_err());
        assert!(log.contains("configuration problem"), "{log}");
        assert!(!log.contains(id), "ID number leaked into the log:\n{log}");
        assert!(!result.unwrap_err().to_string().contains(id));
    }

    fn copy(from: &Path, to: &Path) {
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                std::fs::create_dir_all(&target).unwrap();
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
}
