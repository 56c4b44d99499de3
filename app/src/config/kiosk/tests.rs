use super::*;
use std::io::Write;

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/kiosk.toml")
}

/// Writes the shipped config with `edit` applied and loads it.
fn load_edited(
    edit: impl FnOnce(String) -> String,
) -> (tempfile::TempDir, Result<KioskConfig, ConfigErrors>) {
    let text = std::fs::read_to_string(shipped()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kiosk.toml");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(edit(text).as_bytes())
        .unwrap();
    let result = KioskConfig::load(&path);
    (dir, result)
}

/// The 1-based line of the first line of the shipped file containing `needle`.
fn line_of(needle: &str) -> usize {
    let text = std::fs::read_to_string(shipped()).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

fn messages(result: Result<KioskConfig, ConfigErrors>) -> Vec<String> {
    result
        .unwrap_err()
        .0
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn the_shipped_config_loads_and_simulates_everything() {
    let config = KioskConfig::load(&shipped()).unwrap();
    assert_eq!(config.kiosk_id, "ZJ-330106-XH-01");
    assert!(config.uses_embedded_platform());
    assert_eq!(config.devices.printer.mode, DeviceMode::Simulated);
    assert_eq!(config.devices.locker.compartments.len(), 12);
    assert_eq!(config.idle.warning_after, Duration::from_secs(90));
    assert_eq!(
        config.devices.idcard.poll_interval,
        Duration::from_millis(200)
    );
    assert!(config.catalogue_dir.ends_with("config/catalogue"));
}

#[test]
fn an_unknown_key_is_named_with_its_line_and_the_keys_expected() {
    let (_dir, result) = load_edited(|t| t.replace("consultation_phone =", "consultation_phon ="));
    let msgs = messages(result);
    let expected = format!(
        "kiosk.toml:{}: centre.consultation_phon: unknown key (expected one of: name, address, \
         opening_hours, consultation_phone, window_number, progress_url, guide_url)",
        line_of("consultation_phone =")
    );
    assert!(msgs.iter().any(|m| m.ends_with(&expected)), "{msgs:#?}");
    let missing = format!(
        "kiosk.toml:{}: centre.consultation_phone: missing key (expected a string)",
        line_of("[centre]")
    );
    assert!(msgs.iter().any(|m| m.ends_with(&missing)), "{msgs:#?}");
}

#[test]
fn a_wrong_type_says_what_was_expected_and_what_was_found() {
    let (_dir, result) = load_edited(|t| t.replace("paper_mm = 80", "paper_mm = \"eighty\""));
    let msgs = messages(result);
    assert!(
        msgs.iter().any(|m| m.ends_with(
            "devices.printer.paper_mm: expected a whole number 0-65535, found a string"
        )),
        "{msgs:#?}"
    );
}

#[test]
fn every_error_is_reported_at_once() {
    let (_dir, result) = load_edited(|t| {
        t.replace("width = 1080", "width = -5")
            .replace("warning_after = \"90s\"", "warning_after = \"soon\"")
            .replace("default_language = \"zh\"", "default_language = \"fr\"")
            .replace("# port = \"/dev/kiosk/locker\"", "port = \"COM3\"")
    });
    let msgs = messages(result);
    assert_eq!(msgs.len(), 4, "{msgs:#?}");
    assert!(
        msgs.iter()
            .any(|m| m.contains("ui.width: expected a whole number, found an integer"))
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("idle.warning_after: expected a duration such as \"90s\""))
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("ui.default_language: expected one of: zh, en, found \"fr\""))
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("devices.locker.port: expected a port")
                && m.contains("unknown kind of port"))
    );
}

#[test]
fn a_missing_file_is_named() {
    let err = KioskConfig::load(Path::new("/nonexistent/kiosk.toml")).unwrap_err();
    assert_eq!(err.to_string(), "/nonexistent/kiosk.toml:0: file not found");
}

#[test]
fn a_syntax_error_gives_the_line() {
    let (_dir, result) = load_edited(|t| t.replace("[ui]", "[ui"));
    let msgs = messages(result);
    let expected = format!(
        "kiosk.toml:{}: TOML syntax error: unclosed table",
        line_of("[ui]")
    );
    assert!(msgs.iter().any(|m| m.contains(&expected)), "{msgs:#?}");
}

#[test]
fn cross_key_rules_are_checked() {
    let (_dir, result) = load_edited(|t| {
        t.replacen(
            "mode = \"simulated\"            # \"simulated\", \"real\" or \"absent\"",
            "mode = \"real\"",
            1,
        )
        .replace(
            "{ label = \"A02\", board = 1, lock = 2,",
            "{ label = \"A01\", board = 1, lock = 1,",
        )
        .replace("paper_mm = 80", "paper_mm = 76")
        .replace(
            "endpoint = \"embedded-simulator\"",
            "endpoint = \"platform.local\"",
        )
    });
    let msgs = messages(result);
    assert!(
        msgs.iter()
            .any(|m| m.contains("devices.idcard.port: missing key (a real device needs its port)")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("compartment label \"A01\" is used twice")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("board 1 lock 1 is used by two compartments")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("devices.printer.paper_mm: expected 58 or 80")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter().any(|m| m
            .contains("platform.endpoint: expected \"embedded-simulator\" or an http(s):// URL")),
        "{msgs:#?}"
    );
}

#[test]
fn an_id_number_written_into_the_config_never_reaches_an_error_message() {
    let id = "360426199101010071";
    let (_dir, result) = load_edited(|t| {
        t.replace(
            "window_number = \"自助终端 1 号\"",
            &format!("window_number = {id}"),
        )
        .replace("paper_mm = 80", &format!("paper_mm = \"{id}\"\n{id} = 1"))
        .replace(
            "# port = \"/dev/kiosk/locker\"",
            &format!("port = \"{id}\""),
        )
    });
    let text = result.unwrap_err().to_string();
    assert!(!text.contains(id), "{text}");
    assert!(text.contains("[ID number removed]"), "{text}");
}
