//! The developer panel: a second window, only in simulation, to present the sample ID cards
//! of `resources/sim/idcard/`, make simulated devices fail, take the platform away and move
//! its clock. The runtime implements [`DevHooks`] with the simulators' control handles.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use kiosk_ui as ui;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

/// What the panel's buttons do.
pub trait DevHooks {
    fn present_card(&self, file: &Path);
    fn remove_card(&self);
    /// A card that is on the reader but cannot be read.
    fn unreadable_card(&self);
    /// `fault` is one of the device's [`SimDevice::faults`]; the first is "none".
    fn set_fault(&self, device: &str, fault: &str);
    fn set_platform_reachable(&self, reachable: bool);
    fn jump_clock(&self, by: Duration);
}

/// A simulated device and the faults its simulator can act out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimDevice {
    pub id: String,
    pub name: String,
    pub faults: Vec<String>,
}

/// The faults the device simulators offer (the lead maps each name onto its simulator's
/// control handle).
pub fn default_devices() -> Vec<SimDevice> {
    let d = |id: &str, name: &str, faults: &[&str]| SimDevice {
        id: id.to_owned(),
        name: name.to_owned(),
        faults: std::iter::once("none")
            .chain(faults.iter().copied())
            .map(str::to_owned)
            .collect(),
    };
    vec![
        d(
            "idcard",
            "ID card reader",
            &["no-answer", "bad-checksum", "unplugged"],
        ),
        d(
            "printer",
            "Receipt printer",
            &["paper-out", "paper-low", "cover-open", "unplugged"],
        ),
        d("scanner", "Scanner", &["jam", "cover-open", "unplugged"]),
        d(
            "dispenser",
            "Card dispenser",
            &["hopper-empty", "jam", "bin-full", "unplugged"],
        ),
        d(
            "encoder",
            "Chip encoder",
            &["no-card", "write-fails", "unplugged"],
        ),
        d(
            "card-printer",
            "Card printer",
            &["ribbon-out", "jam", "offline"],
        ),
        d(
            "locker",
            "Lockers",
            &["door-stuck", "board-offline", "unplugged"],
        ),
    ]
}

/// The sample cards: every `*.json` in `dir`, sorted, labelled with the file name and the
/// (fictitious) name on the card.
pub fn sample_cards(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let name = std::fs::read_to_string(&path)
                .ok()
                .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
                .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_owned));
            let label = match name {
                Some(name) => format!("{stem} ({name})"),
                None => stem,
            };
            (label, path)
        })
        .collect()
}

/// The open panel; keep it alive as long as the kiosk runs.
pub struct DevPanel {
    pub window: ui::DevPanelWindow,
    log: Rc<std::cell::RefCell<Vec<String>>>,
}

impl DevPanel {
    pub fn open(
        cards: Vec<(String, PathBuf)>,
        devices: Vec<SimDevice>,
        hooks: Rc<dyn DevHooks>,
    ) -> Result<DevPanel, slint::PlatformError> {
        let window = ui::DevPanelWindow::new()?;
        let global = window.global::<ui::DevPanel>();
        let labels: Vec<SharedString> = cards.iter().map(|(l, _)| l.as_str().into()).collect();
        global.set_cards(ModelRc::new(VecModel::from(labels)));
        let rows: Vec<ui::SimDevice> = devices
            .iter()
            .map(|d| ui::SimDevice {
                id: d.id.as_str().into(),
                name: d.name.as_str().into(),
                faults: ModelRc::new(VecModel::from(
                    d.faults
                        .iter()
                        .map(|f| SharedString::from(f.as_str()))
                        .collect::<Vec<_>>(),
                )),
                current: 0,
                state: SharedString::new(),
            })
            .collect();
        let device_model = Rc::new(VecModel::from(rows));
        global.set_devices(ModelRc::from(device_model.clone()));
        let panel = DevPanel {
            window: window.clone_strong(),
            log: Rc::new(std::cell::RefCell::new(Vec::new())),
        };
        panel.connect_cards(&global, cards, &hooks);
        panel.connect_faults(&global, devices, device_model, &hooks);
        panel.connect_platform(&global, hooks);
        window.show()?;
        Ok(panel)
    }

    /// A closure's view of the panel: the window (weak) and the log.
    fn parts(
        &self,
    ) -> (
        slint::Weak<ui::DevPanelWindow>,
        Rc<std::cell::RefCell<Vec<String>>>,
    ) {
        (self.window.as_weak(), self.log.clone())
    }

    fn connect_cards(
        &self,
        global: &ui::DevPanel<'_>,
        cards: Vec<(String, PathBuf)>,
        hooks: &Rc<dyn DevHooks>,
    ) {
        let (weak, log) = self.parts();
        let hook = hooks.clone();
        global.on_present_card(move |index| {
            let Some((label, path)) = usize::try_from(index).ok().and_then(|i| cards.get(i)) else {
                return;
            };
            hook.present_card(path);
            if let Some(window) = weak.upgrade() {
                window
                    .global::<ui::DevPanel>()
                    .set_card_on_reader(label.as_str().into());
                push_log(&window, &log, format!("presented {label}"));
            }
        });
        let (weak, log) = self.parts();
        let hook = hooks.clone();
        global.on_remove_card(move || {
            hook.remove_card();
            if let Some(window) = weak.upgrade() {
                window
                    .global::<ui::DevPanel>()
                    .set_card_on_reader(SharedString::new());
                push_log(&window, &log, "card removed".into());
            }
        });
        let (weak, log) = self.parts();
        let hook = hooks.clone();
        global.on_unreadable_card(move || {
            hook.unreadable_card();
            if let Some(window) = weak.upgrade() {
                push_log(&window, &log, "unreadable card presented".into());
            }
        });
    }

    fn connect_faults(
        &self,
        global: &ui::DevPanel<'_>,
        devices: Vec<SimDevice>,
        device_model: Rc<VecModel<ui::SimDevice>>,
        hooks: &Rc<dyn DevHooks>,
    ) {
        let (weak, log) = self.parts();
        let hook = hooks.clone();
        global.on_set_fault(move |device, fault| {
            let Some((row, sim)) = devices
                .iter()
                .enumerate()
                .find(|(_, d)| d.id == device.as_str())
            else {
                return;
            };
            let Some(name) = usize::try_from(fault).ok().and_then(|f| sim.faults.get(f)) else {
                return;
            };
            hook.set_fault(&sim.id, name);
            if let Some(mut shown) = slint::Model::row_data(&*device_model, row) {
                shown.current = fault;
                slint::Model::set_row_data(&*device_model, row, shown);
            }
            if let Some(window) = weak.upgrade() {
                push_log(&window, &log, format!("{}: {name}", sim.id));
            }
        });
    }

    fn connect_platform(&self, global: &ui::DevPanel<'_>, hooks: Rc<dyn DevHooks>) {
        let (weak, log) = self.parts();
        let hook = hooks.clone();
        global.on_set_platform_reachable(move |reachable| {
            hook.set_platform_reachable(reachable);
            if let Some(window) = weak.upgrade() {
                window
                    .global::<ui::DevPanel>()
                    .set_platform_reachable(reachable);
                let state = if reachable { "up" } else { "down" };
                push_log(&window, &log, format!("platform {state}"));
            }
        });
        let (weak, log) = self.parts();
        global.on_jump_clock(move |hours| {
            let hours = u64::try_from(hours).unwrap_or(0);
            hooks.jump_clock(Duration::from_secs(hours * 3600));
            if let Some(window) = weak.upgrade() {
                push_log(&window, &log, format!("platform clock +{hours} h"));
            }
        });
    }

    /// Shows the platform simulator's clock.
    pub fn set_platform_clock(&self, text: &str) {
        self.window
            .global::<ui::DevPanel>()
            .set_platform_clock(text.into());
    }

    pub fn log(&self, line: String) {
        push_log(&self.window, &self.log, line);
    }
}

fn push_log(window: &ui::DevPanelWindow, log: &std::cell::RefCell<Vec<String>>, line: String) {
    let mut log = log.borrow_mut();
    log.push(line);
    let start = log.len().saturating_sub(12);
    let text = log.get(start..).map(|l| l.join("\n")).unwrap_or_default();
    window.global::<ui::DevPanel>().set_log(text.into());
}

/// Hooks that only log, until the simulators are connected.
pub struct LogOnly;

impl DevHooks for LogOnly {
    fn present_card(&self, file: &Path) {
        tracing::info!(file = %file.display(), "dev panel: present card (not connected)");
    }
    fn remove_card(&self) {
        tracing::info!("dev panel: remove card (not connected)");
    }
    fn unreadable_card(&self) {
        tracing::info!("dev panel: unreadable card (not connected)");
    }
    fn set_fault(&self, device: &str, fault: &str) {
        tracing::info!(device, fault, "dev panel: fault (not connected)");
    }
    fn set_platform_reachable(&self, reachable: bool) {
        tracing::info!(reachable, "dev panel: platform (not connected)");
    }
    fn jump_clock(&self, by: Duration) {
        tracing::info!(secs = by.as_secs(), "dev panel: clock (not connected)");
    }
}
