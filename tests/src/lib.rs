//! End-to-end harness: the whole kiosk as `kiosk run --simulate` assembles it (the same
//! composition root, [`kiosk_app::assemble::assemble`], and the same wiring of the window,
//! [`kiosk_app::ui_bridge::launch::wiring`]), every device simulated on the wire, the platform
//! simulator on loopback, a temporary data directory; driven through the screen by accessible
//! label on Slint's testing backend.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementQuery};
use kiosk_app::assemble::{Kiosk as Assembled, Options, assemble};
use kiosk_app::devices::SimControls;
use kiosk_app::runtime::{Inbox, Mailbox, mailbox};
use kiosk_app::ui_bridge::run::Kiosk as Window;
use kiosk_ui as ui;
use slint::ComponentHandle;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One whole kiosk at a time per process: SANE (the scanner's library) is process-wide, and
/// a kiosk that shuts down ends it for everyone.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// One kiosk, its window and its simulators.
pub struct WholeKiosk {
    pub window: Window,
    pub sims: SimControls,
    mailbox: Mailbox,
    // Dropped last: the runtime the device tasks live on, then the data.
    pub kiosk: Assembled,
    _data: tempfile::TempDir,
    _turn: std::sync::MutexGuard<'static, ()>,
}

impl WholeKiosk {
    pub fn start() -> WholeKiosk {
        // A test that failed still let the next one run.
        let turn = ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        i_slint_backend_testing::init_no_event_loop();
        let data = tempfile::tempdir().unwrap();
        let mut options = Options::new(repo().join("config/kiosk.toml"));
        options.simulate = true;
        options.data_dir = Some(data.path().to_owned());
        options.resources = repo().join("resources");
        let mut kiosk = assemble(&options).expect("the kiosk assembles");
        // No event loop here: the test drains what devices and I/O post (see `settle`).
        let (poster, mailbox) = mailbox(Arc::new(|| {}));
        let wiring = kiosk_app::ui_bridge::launch::wiring(&kiosk, poster.clone(), true);
        let window = Window::build(
            Rc::new((*kiosk.loaded).clone()),
            Rc::new(Inbox::default()),
            wiring,
        )
        .expect("the window builds");
        kiosk_app::forward::start(&kiosk, &poster);
        let sims = std::mem::take(&mut kiosk.devices.sims);
        let whole = WholeKiosk {
            window,
            sims,
            mailbox,
            kiosk,
            _data: data,
            _turn: turn,
        };
        whole.settle();
        whole
    }

    /// Takes in what the devices and the I/O posted, runs the core, and lets Slint catch up.
    pub fn settle(&self) {
        for _ in 0..3 {
            if self.mailbox.drain_into(&self.window.inbox) > 0 {
                self.window.pump.pump();
            }
            i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(10));
        }
    }

    /// Settles until `done` holds, for up to `within` of real time (devices and the platform
    /// run on their own threads).
    pub fn wait_until(&self, what: &str, within: Duration, done: impl Fn(&Self) -> bool) {
        let until = Instant::now() + within;
        while Instant::now() < until {
            self.settle();
            if done(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "timed out waiting for {what}; on screen: {:?}",
            self.texts()
        );
    }

    pub fn screen(&self) -> ui::Screen {
        self.window.window.global::<ui::Kiosk>().get_screen()
    }

    pub fn wait_screen(&self, screen: ui::Screen) {
        self.wait_until(&format!("{screen:?}"), Duration::from_secs(20), |k| {
            k.screen() == screen
        });
    }

    pub fn wait_shows(&self, text: &str) {
        self.wait_until(text, Duration::from_secs(20), |k| k.shows(text));
    }

    fn buttons(&self, label: &str) -> Vec<ElementHandle> {
        let label = label.to_owned();
        ElementQuery::from_root(&self.window.window)
            .match_accessible_role(AccessibleRole::Button)
            .match_predicate(move |e| e.accessible_label().is_some_and(|l| l == label))
            .find_all()
    }

    /// Taps a button by its label, scrolling the page to it as a finger would.
    pub fn tap(&self, label: &str) {
        for _ in 0..30 {
            if let Some(button) = self.buttons(label).first() {
                button.invoke_accessible_default_action();
                self.settle();
                return;
            }
            for page in ElementQuery::from_root(&self.window.window)
                .match_inherits("Flickable")
                .find_all()
            {
                page.scroll(0.0, -300.0);
            }
            self.settle();
        }
        panic!("no button {label:?}; on screen: {:?}", self.texts());
    }

    /// Taps the first button whose label contains `part`.
    pub fn tap_containing(&self, part: &str) {
        let part = part.to_owned();
        let found = ElementQuery::from_root(&self.window.window)
            .match_accessible_role(AccessibleRole::Button)
            .match_predicate(move |e| {
                e.accessible_label()
                    .is_some_and(|l| l.contains(part.as_str()))
            })
            .find_all();
        let Some(button) = found.first() else {
            panic!(
                "no button containing the text; on screen: {:?}",
                self.texts()
            );
        };
        button.invoke_accessible_default_action();
        self.settle();
    }

    /// Types into the text field with this accessible label (as an input method would).
    pub fn type_into(&self, label: &str, text: &str) {
        let wanted = label.to_owned();
        let fields = ElementQuery::from_root(&self.window.window)
            .match_predicate(move |e| e.accessible_label().is_some_and(|l| l == wanted.as_str()))
            .find_all();
        let Some(field) = fields.first() else {
            panic!("no field {label:?}");
        };
        field.set_accessible_value(text);
        self.settle();
    }

    /// The locker door the sensors say is open (board, lock), waiting for one.
    pub fn wait_open_door(&self) -> (u8, u8) {
        let locker = self.sims.locker.clone().expect("a simulated locker");
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            self.settle();
            for board in 1..=4 {
                for lock in 1..=24 {
                    if locker.is_open(board, lock) == Some(true) {
                        return (board, lock);
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no locker door opened; on screen: {:?}", self.texts());
    }

    /// Types on the on-screen keyboard, key by key.
    pub fn keys(&self, keys: &str) {
        for c in keys.chars() {
            self.tap(&c.to_string());
        }
    }

    /// Types pinyin and picks the character from the candidate bar.
    pub fn pinyin(&self, letters: &str, character: &str) {
        self.keys(letters);
        let pick = ElementQuery::from_root(&self.window.window)
            .match_accessible_role(AccessibleRole::Button)
            .match_predicate(|e| {
                e.accessible_description()
                    .is_some_and(|d| d == "候选字" || d == "Character")
            })
            .find_all()
            .into_iter()
            .find(|c| c.accessible_label().is_some_and(|l| l == character))
            .unwrap_or_else(|| panic!("{character} not offered for {letters}"));
        pick.invoke_accessible_default_action();
        self.settle();
    }

    /// Every accessible label, value and description on screen.
    pub fn texts(&self) -> Vec<String> {
        ElementQuery::from_root(&self.window.window)
            .match_predicate(|_| true)
            .find_all()
            .iter()
            .flat_map(|e| {
                [
                    e.accessible_label(),
                    e.accessible_value(),
                    e.accessible_description(),
                ]
            })
            .flatten()
            .map(|s| s.to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }

    pub fn shows(&self, text: &str) -> bool {
        self.texts().iter().any(|t| t.contains(text))
    }

    /// Places a sample ID card (`resources/sim/idcard/<file>`) on the simulated reader, which
    /// the real driver then reads over its wire protocol.
    pub fn present_card(&self, file: &str) {
        let card =
            kiosk_idcard::sim::SimCard::from_file(&repo().join("resources/sim/idcard").join(file))
                .unwrap();
        self.sims
            .idcard
            .as_ref()
            .expect("a simulated reader")
            .present(card);
    }

    /// Takes the card off the reader and waits until the driver has polled an empty reader
    /// (a new card is only read after the reader was seen empty).
    pub fn remove_card(&self) {
        if let Some(reader) = &self.sims.idcard {
            reader.remove();
            let finds = reader.stats().finds;
            let polled = reader.wait_for(Duration::from_secs(5), |s| s.finds >= finds + 2);
            assert!(polled, "the reader driver stopped polling");
        }
    }

    /// The embedded platform simulator.
    pub fn platform(&self) -> &kiosk_platform::SimHandle {
        self.kiosk
            .platform_sim
            .as_ref()
            .expect("the embedded platform simulator")
    }
}

/// The birth one-thing through the screen: both parents' cards (`father`'s first) read by the
/// real reader driver, the questions, items and form, `materials` on the materials screen,
/// `before_submit` on the review, then submitted.
pub fn apply_with(
    k: &WholeKiosk,
    father: &str,
    materials: impl Fn(&WholeKiosk),
    before_submit: impl Fn(&WholeKiosk),
) {
    k.wait_screen(ui::Screen::Home);
    k.tap("办理“一件事”");
    k.tap("出生");
    k.tap("新生儿出生“一件事”");
    k.tap("我知道了，开始办理");
    k.wait_screen(ui::Screen::ApplyIdentify);
    k.present_card(father);
    k.wait_shows("请把新生儿母亲的身份证放在读卡区");
    k.remove_card();
    k.present_card("resident_rare_name.json");
    k.wait_screen(ui::Screen::ApplyQuestion);
    k.remove_card();
    k.tap("是");
    k.tap("随父亲");
    k.tap("是，一并办理生育保险待遇");
    k.wait_screen(ui::Screen::ApplyItems);
    k.tap("下一步：核对申请表");
    k.wait_screen(ui::Screen::ApplyForm);
    k.tap("宝宝姓名");
    k.pinyin("wang", "王");
    k.pinyin("xiao", "小");
    k.pinyin("yang", "样");
    k.tap("完成");
    k.tap("宝宝民族");
    k.tap("随父亲");
    k.tap("联系电话（接收取件通知）");
    k.keys("13800138000");
    k.tap("完成");
    k.tap("信息无误，下一步");
    k.wait_screen(ui::Screen::ApplyMaterials);
    materials(k);
    k.tap("下一步：确认提交");
    k.wait_screen(ui::Screen::ApplyReview);
    before_submit(k);
    k.tap("确认提交");
    k.wait_screen(ui::Screen::ApplyAccepted);
}
