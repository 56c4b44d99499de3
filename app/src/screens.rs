//! `kiosk screens --out DIR`: every screen rendered to PNG without a display, in Chinese and
//! English, normal and elder mode, at the configured resolution, with the software renderer.
//!
//! Each screen is reached the way a resident reaches it: a session is driven through the
//! flows with events (taps, sample ID cards from `resources/sim/idcard`, answers to the
//! effects), shown by the real [`SlintView`], and the window is captured. Files are named
//! `<screen>-<lang>[-elder].png`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use anyhow::Context as _;
use slint::ComponentHandle;
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};

use kiosk_idcard::identity::Identity;
use kiosk_idcard::sim::card::SimCard;
use kiosk_link::{DeviceState, DeviceStatus};

use crate::check::Loaded;
use crate::domain::locker::{
    ItemState as LockerItemState, LockerItem, OpenResult, PickupLookup, ReadyApplication,
    Size as LockerSize,
};
use crate::domain::progress::{ItemProgress, ItemState, ProgressRecord};
use crate::flows::apply::ApplyAction;
use crate::flows::availability::DeviceClass;
use crate::flows::evaluate::EvaluateAction;
use crate::flows::event::{Completion, JourneyKind, LookupFailure, ScannedPage};
use crate::flows::guide::GuideAction;
use crate::flows::issue_card::{
    Candidate, CaptureEnd, CardAction, CardAnswer, CardCompletion, CardEligibility, CardWhere,
    MakeStep, StepFailure,
};
use crate::flows::locker::{LockerCompletion, PickupAction};
use crate::flows::progress::ProgressAction;
use crate::flows::staff::{CompartmentView, StaffAction, StaffCompletion, StaffOverview};
use crate::flows::{Effect, Event, Fresh, TimerId, UserAction};
use crate::runtime::{Clock, Core, FreshSource, Inbox, Io, Parts, Pump, Timers};
use crate::store::{SignIn, StaffMember};
use crate::ui_bridge::{MainWindow, SlintView, ViewOptions, connect};

// ---------------------------------------------------------------------------------------------
// Driving a session outside the event loop (also used by the UI tests)

/// A fixed clock: Tuesday 2026-02-10, 10:00 in the centre's time zone. The sample card with
/// the rare name (韦龘𠮷) is still valid then.
pub(crate) struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> jiff::Zoned {
        jiff::civil::date(2026, 2, 10)
            .at(10, 0, 0, 0)
            .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
            .unwrap_or_else(|_| jiff::Zoned::now())
    }
}

/// Predictable ids and codes.
pub(crate) struct CountingFresh(pub RefCell<u32>);

impl FreshSource for CountingFresh {
    fn fresh(&self, _now: &jiff::Zoned) -> Fresh {
        let mut n = self.0.borrow_mut();
        *n += 1;
        Fresh {
            application_id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000),
            query_code: "424242".to_owned(),
            sequence: 7,
            evaluation_id: uuid::Uuid::from_u128(u128::from(*n)),
        }
    }
}

/// Keeps every effect for the driver to answer.
#[derive(Clone, Default)]
pub(crate) struct RecordingIo(pub Rc<RefCell<Vec<Effect>>>);

impl Io for RecordingIo {
    fn run(&self, effect: Effect) {
        self.0.borrow_mut().push(effect);
    }
}

/// Timers that never fire (the screens send timer events themselves).
pub(crate) struct NoTimers;

impl Timers for NoTimers {
    fn start(&self, _id: TimerId, _after: Duration) {}
    fn cancel(&self, _id: TimerId) {}
}

/// A sample card from `dir`, decoded as the reader driver decodes it.
pub(crate) fn sample_card(dir: &Path, file: &str) -> anyhow::Result<Box<Identity>> {
    let sim = SimCard::from_file(&dir.join(file)).with_context(|| format!("sample card {file}"))?;
    let identity = Identity::decode(&sim.text, &sim.photo, &[])
        .map_err(|e| anyhow::anyhow!("sample card {file}: {e}"))?;
    Ok(Box::new(identity))
}

pub(crate) const FATHER: &str = "resident_han.json";
/// 韦龘𠮷: characters outside GB2312 and outside the BMP.
pub(crate) const MOTHER: &str = "resident_rare_name.json";

fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The platform simulator's sample answer for a dataset, as the flow tests use.
pub(crate) fn sample_shared(dataset: &str) -> BTreeMap<String, String> {
    match dataset {
        "household-register" => fields(&[
            ("address", "江西省示例市示例县测试镇样例路1号"),
            ("household_number", "360426001234"),
        ]),
        "marriage-certificate" => fields(&[("certificate_number", "J360426-2024-000123")]),
        "birth-medical-certificate" => fields(&[
            ("child_gender", "女"),
            ("birth_date", "2026-02-02"),
            ("institution", "示例市妇幼保健院"),
        ]),
        _ => BTreeMap::new(),
    }
}

/// A session driven by hand: the core with the real view, recorded effects.
pub(crate) struct Driver {
    pub core: Rc<RefCell<Core>>,
    pub effects: Rc<RefCell<Vec<Effect>>>,
    pub view: SlintView,
    pub cards: PathBuf,
}

impl Driver {
    pub fn new(
        window: &MainWindow,
        loaded: Rc<Loaded>,
        cards: PathBuf,
        options: ViewOptions,
    ) -> Driver {
        let inbox = Rc::new(Inbox::default());
        let view = SlintView::new(window, options);
        let io = RecordingIo::default();
        let effects = io.0.clone();
        let parts = Parts {
            clock: Box::new(FixedClock),
            fresh: Box::new(CountingFresh(RefCell::new(0))),
            timers: Box::new(NoTimers),
            io: Box::new(io),
            view: Box::new(view.clone()),
        };
        let core = Rc::new(RefCell::new(Core::new(loaded, parts, inbox.clone())));
        let pump = Pump::new();
        pump.bind(&core);
        connect(window, &view, inbox, pump);
        core.borrow().render();
        Driver {
            core,
            effects,
            view,
            cards,
        }
    }

    pub fn send(&self, event: Event) {
        self.core.borrow_mut().handle(event);
    }

    pub fn user(&self, action: UserAction) {
        self.send(Event::User(action));
    }

    pub fn apply(&self, action: ApplyAction) {
        self.user(UserAction::Apply(action));
    }

    pub fn done(&self, completion: Completion) {
        let session = self.core.borrow().session.id;
        self.send(Event::Done {
            session,
            completion,
        });
    }

    pub fn card(&self, file: &str) -> anyhow::Result<()> {
        self.send(Event::CardPresented(sample_card(&self.cards, file)?));
        Ok(())
    }

    pub fn take_effects(&self) -> Vec<Effect> {
        std::mem::take(&mut *self.effects.borrow_mut())
    }

    /// Answers every shared-data request made so far; `marriage` decides the marriage
    /// certificate, `platform_up = false` makes every look-up fail as unreachable.
    pub fn answer_shared(&self, marriage: Result<(), LookupFailure>, platform_up: bool) {
        for effect in self.take_effects() {
            if let Effect::FetchShared { dataset, role, .. } = effect {
                let result = if !platform_up {
                    Err(LookupFailure::Unavailable)
                } else if dataset == "marriage-certificate" {
                    marriage.map(|()| sample_shared(&dataset))
                } else {
                    Ok(sample_shared(&dataset))
                };
                self.done(Completion::Shared {
                    dataset,
                    role,
                    result,
                });
            }
        }
    }

    /// Answers print effects made so far.
    pub fn answer_print(&self, result: Result<(), crate::domain::text::Bilingual>) {
        let printed = self
            .take_effects()
            .iter()
            .any(|e| matches!(e, Effect::Print { .. }));
        if printed {
            self.done(Completion::Printed(result));
        }
    }

    // The apply journey, step by step (the birth one-thing).

    pub fn to_notice(&self) {
        self.user(UserAction::Start(JourneyKind::Apply));
        self.apply(ApplyAction::ChooseLifeStage("birth".into()));
        self.apply(ApplyAction::ChooseOneThing("newborn".into()));
    }

    pub fn to_identify(&self) -> anyhow::Result<()> {
        self.to_notice();
        self.apply(ApplyAction::Continue);
        self.card(FATHER)
    }

    pub fn to_items(&self) -> anyhow::Result<()> {
        self.to_identify()?;
        self.card(MOTHER)?;
        for (q, v) in [
            ("born-in-province", "yes"),
            ("settle-with", "father"),
            ("maternity-insurance", "yes"),
        ] {
            self.apply(ApplyAction::Answer {
                question: q.into(),
                value: v.into(),
            });
        }
        Ok(())
    }

    pub fn to_form(&self, marriage: Result<(), LookupFailure>) -> anyhow::Result<()> {
        self.to_items()?;
        self.apply(ApplyAction::Continue);
        self.answer_shared(marriage, true);
        Ok(())
    }

    pub fn fill_form(&self) {
        for (f, v) in [
            ("child.name", "王小样"),
            ("child.nation", "随父亲"),
            ("contact.phone", "13800138000"),
        ] {
            self.apply(ApplyAction::SetField {
                field: f.into(),
                value: v.into(),
            });
        }
    }

    pub fn to_materials(&self, marriage: Result<(), LookupFailure>) -> anyhow::Result<()> {
        self.to_form(marriage)?;
        self.fill_form();
        self.apply(ApplyAction::Continue);
        Ok(())
    }

    pub fn to_review(&self) -> anyhow::Result<()> {
        self.to_materials(Ok(()))?;
        self.apply(ApplyAction::Continue);
        Ok(())
    }

    pub fn to_accepted(&self) -> anyhow::Result<()> {
        self.to_review()?;
        self.take_effects();
        self.apply(ApplyAction::Accept);
        let number = self.take_effects().into_iter().find_map(|e| match e {
            Effect::Accept { application, .. } => Some(application.number),
            _ => None,
        });
        let number = number.context("the review did not accept")?;
        self.done(Completion::Accepted { number });
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Sample data for the pages outside the flows

fn sample_progress() -> Vec<ProgressRecord> {
    let item = |name: &str, department: &str, state: ItemState| ItemProgress {
        name: name.to_owned(),
        department: department.to_owned(),
        state,
    };
    vec![ProgressRecord {
        number: "260203-33010601-0004".into(),
        one_thing: "新生儿出生“一件事”".into(),
        accepted_on: "2026-02-03".into(),
        items: vec![
            item("出生医学证明签发", "卫生健康部门", ItemState::Done),
            item("预防接种证办理", "疾控部门、卫生健康部门", ItemState::Done),
            item("户口登记", "公安部门", ItemState::InProgress),
            item(
                "城乡居民参保登记(基本医疗保险)",
                "医保部门",
                ItemState::Waiting {
                    for_item: "户口登记".into(),
                },
            ),
            item(
                "社会保障卡申领",
                "人力资源社会保障部门",
                ItemState::Waiting {
                    for_item: "户口登记".into(),
                },
            ),
        ],
        collect: Some("出生医学证明、预防接种证已放入本中心取件柜，凭身份证或取件码领取".into()),
    }]
}

/// A finished birth application's documents in compartment A03.
pub(crate) fn sample_locker_item() -> LockerItem {
    LockerItem {
        id: uuid::Uuid::from_u128(3),
        application_id: uuid::Uuid::from_u128(7),
        case_number: "260210-33010601-0007".into(),
        compartment: "A03".into(),
        state: LockerItemState::InLocker,
        applicant_masked: "韩**".into(),
        documents: vec!["出生医学证明".into(), "居民户口簿".into()],
        size: LockerSize::M,
        deposited_ms: None,
        note: None,
    }
}

impl Driver {
    /// The father's card read at the locker; the store is being asked.
    fn to_locker_looking(&self) -> anyhow::Result<()> {
        self.user(UserAction::Start(JourneyKind::Locker));
        self.user(UserAction::Locker(PickupAction::ByCard));
        self.card(FATHER)
    }

    /// His documents found and their door open.
    fn to_locker_open(&self) -> anyhow::Result<()> {
        self.to_locker_looking()?;
        self.done(Completion::Locker(LockerCompletion::Looked(Ok(
            PickupLookup::Found(vec![sample_locker_item()]),
        ))));
        self.done(Completion::Locker(LockerCompletion::Opened {
            item: sample_locker_item().id,
            result: OpenResult::Opened,
        }));
        Ok(())
    }
}

/// The platform simulator's card data for the rare-name sample card (an adult, her photo from
/// the ID card).
pub(crate) fn sample_card_answer() -> anyhow::Result<CardCompletion> {
    use kiosk_platform::sim::card::{Holder, card_data};
    let holder = Holder {
        name: "韦龘𠮷",
        id_number: "45010220000229008X",
        gender: kiosk_platform::wire::Gender::Female,
        nation_code: "12",
        birth_date: jiff::civil::date(2000, 2, 29),
    };
    let card = card_data(&holder, "SIM000001", jiff::civil::date(2026, 2, 10))
        .context("sample card data")?;
    Ok(CardCompletion::Answer(Ok(CardAnswer {
        request_id: "CR000001".into(),
        eligibility: CardEligibility::Eligible,
        card: Some(Box::new(card)),
    })))
}

impl Driver {
    /// The card journey up to the platform's question (the mother's card read).
    fn to_card_checking(&self, candidates: Vec<Candidate>) -> anyhow::Result<()> {
        self.user(UserAction::Start(JourneyKind::CardIssue));
        self.card(MOTHER)?;
        self.done(Completion::Card(CardCompletion::Candidates(candidates)));
        Ok(())
    }

    fn to_card_confirm(&self) -> anyhow::Result<()> {
        self.to_card_checking(Vec::new())?;
        self.done(Completion::Card(sample_card_answer()?));
        Ok(())
    }

    /// Confirmed, recorded, the blank card dispensed: the chip is being written.
    fn to_card_making(&self) -> anyhow::Result<()> {
        self.to_card_confirm()?;
        self.user(UserAction::Card(CardAction::Confirm));
        self.done(Completion::Card(CardCompletion::Begun(Ok(()))));
        self.done(Completion::Card(CardCompletion::StepDone {
            step: MakeStep::Dispense,
            result: Ok(()),
        }));
        Ok(())
    }
}

impl Driver {
    /// Staff mode signed in, the printer out of paper, a compartment overdue.
    fn to_staff_overview(&self) {
        self.send(Event::DeviceChanged {
            device: DeviceClass::Printer,
            status: DeviceStatus {
                state: DeviceState::HardwareError,
                detail: Some("纸卷用完，请更换 80 mm 热敏纸".into()),
            },
        });
        for device in [
            DeviceClass::IdCard,
            DeviceClass::Scanner,
            DeviceClass::Locker,
        ] {
            self.send(Event::DeviceChanged {
                device,
                status: DeviceStatus::online(),
            });
        }
        self.user(UserAction::Start(JourneyKind::Staff));
        self.user(UserAction::Staff(StaffAction::SetId("1001".into())));
        self.user(UserAction::Staff(StaffAction::SetPin("246810".into())));
        self.user(UserAction::Staff(StaffAction::SignIn));
        self.done(Completion::Staff(StaffCompletion::SignedIn(Ok(
            SignIn::Ok(StaffMember {
                id: "1001".into(),
                name: "值班员".into(),
            }),
        ))));
        let compartment =
            |label: &str, size, item: Option<&str>, attention: Option<&str>| CompartmentView {
                label: label.into(),
                size,
                item: item.map(str::to_owned),
                attention: attention.map(str::to_owned),
            };
        self.done(Completion::Staff(StaffCompletion::Overview(Ok(
            StaffOverview {
                outbox_pending: 2,
                outbox_failing: 1,
                compartments: vec![
                    compartment("A01", LockerSize::S, None, None),
                    compartment(
                        "A02",
                        LockerSize::S,
                        Some("260203-33010601-0004 韩**"),
                        None,
                    ),
                    compartment(
                        "A05",
                        LockerSize::M,
                        Some("260129-33010601-0002 王*"),
                        Some("超期未取"),
                    ),
                ],
                alerts: vec!["A07 door_left_open: the door has been open for 130 s".into()],
            },
        ))));
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering

struct Headless(Rc<MinimalSoftwareWindow>);

impl Platform for Headless {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.0.clone())
    }
}

/// A made-up scanned page (a form with lines), for the thumbnail of a scanned material.
fn sample_scan(dir: &Path) -> anyhow::Result<PathBuf> {
    let (w, h) = (210u32, 297u32);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let margin = x < 20 || x > w - 20 || y < 24 || y > h - 24;
        let line = !margin && y % 18 < 3 && (x + y * 7) % 160 > 30;
        let title = (30..44).contains(&y) && (50..160).contains(&x);
        if title || line {
            image::Rgb([70, 70, 80])
        } else {
            image::Rgb([250, 248, 240])
        }
    });
    let path = dir.join("kiosk-sample-scan.png");
    img.save(&path)?;
    Ok(path)
}

/// One screen: its name and how to reach it.
type Script = fn(&Driver, &Ctx) -> anyhow::Result<()>;

/// What a script may need besides the driver.
pub(crate) struct Ctx {
    pub scan: PathBuf,
}

fn printer_jam() -> crate::domain::text::Bilingual {
    crate::bi!(
        "打印机缺纸了，已通知工作人员",
        "The printer is out of paper; staff have been told"
    )
}

#[allow(clippy::too_many_lines)] // the list of screens, one short script each
fn screens() -> Vec<(&'static str, Script)> {
    vec![
        ("home", |_, _| Ok(())),
        ("home-devices-down", |d, _| {
            d.send(Event::DeviceChanged {
                device: DeviceClass::Locker,
                status: DeviceStatus::new(DeviceState::Offline, "board 2"),
            });
            d.send(Event::DeviceChanged {
                device: DeviceClass::Dispenser,
                status: DeviceStatus::new(DeviceState::HardwareError, "hopper empty"),
            });
            Ok(())
        }),
        ("out-of-service", |d, _| {
            d.send(Event::DeviceChanged {
                device: DeviceClass::Printer,
                status: DeviceStatus::new(DeviceState::HardwareError, "paper out"),
            });
            d.user(UserAction::Start(JourneyKind::Apply));
            Ok(())
        }),
        ("apply-life-stage", |d, _| {
            d.user(UserAction::Start(JourneyKind::Apply));
            Ok(())
        }),
        ("apply-one-thing", |d, _| {
            d.user(UserAction::Start(JourneyKind::Apply));
            d.apply(ApplyAction::ChooseLifeStage("birth".into()));
            Ok(())
        }),
        ("apply-notice", |d, _| {
            d.to_notice();
            Ok(())
        }),
        ("apply-identify", |d, _| d.to_identify()),
        ("apply-identify-unreadable", |d, _| {
            d.to_identify()?;
            d.send(Event::CardUnreadable(crate::bi!(
                "这张身份证读不出来，不是您的问题。请换个方向重新放好；还不行请到综合窗口办理。",
                "This ID card cannot be read; it is not your fault. Please place it again; if it still fails, please go to the service window."
            )));
            Ok(())
        }),
        ("apply-question", |d, _| {
            d.to_identify()?;
            d.card(MOTHER)?;
            d.apply(ApplyAction::Answer {
                question: "born-in-province".into(),
                value: "yes".into(),
            });
            Ok(())
        }),
        ("apply-not-eligible", |d, _| {
            d.to_identify()?;
            d.card(MOTHER)?;
            d.apply(ApplyAction::Answer {
                question: "born-in-province".into(),
                value: "no".into(),
            });
            Ok(())
        }),
        ("apply-items", |d, _| d.to_items()),
        ("apply-fetching", |d, _| {
            d.to_items()?;
            d.apply(ApplyAction::Continue);
            Ok(())
        }),
        ("apply-form", |d, _| d.to_form(Ok(()))),
        ("apply-form-errors", |d, _| {
            d.to_form(Ok(()))?;
            d.apply(ApplyAction::SetField {
                field: "contact.phone".into(),
                value: "1380013".into(),
            });
            d.apply(ApplyAction::Continue);
            Ok(())
        }),
        ("apply-form-platform-down", |d, _| {
            d.to_items()?;
            d.apply(ApplyAction::Continue);
            d.answer_shared(Ok(()), false);
            Ok(())
        }),
        ("apply-form-keyboard", |d, _| {
            d.to_form(Ok(()))?;
            let row = match &d.core.borrow().session.journey {
                crate::flows::Journey::Apply(a) => {
                    a.form.iter().position(|e| e.field == "child.name")
                }
                _ => None,
            };
            let Some(window) = d.view.window() else {
                return Ok(());
            };
            window
                .global::<kiosk_ui::ApplyPage>()
                .set_editing(row.and_then(|r| i32::try_from(r).ok()).unwrap_or(-1));
            settle(&window);
            let k = window.global::<kiosk_ui::Keyboard>();
            for c in ["w", "a", "n", "g"] {
                k.invoke_key(c.into());
            }
            k.invoke_choose(2); // 望 往 王
            for c in ["x", "i", "a", "o"] {
                k.invoke_key(c.into());
            }
            settle(&window);
            Ok(())
        }),
        ("apply-materials", |d, _| {
            d.to_materials(Err(LookupFailure::NotFound))
        }),
        ("apply-materials-scanned", |d, c| {
            d.to_materials(Err(LookupFailure::NotFound))?;
            d.apply(ApplyAction::Scan("marriage-certificate".into()));
            d.done(Completion::ScanPage {
                material: "marriage-certificate".into(),
                page: ScannedPage {
                    sha256: "ab".repeat(32),
                    thumbnail: c.scan.clone(),
                },
            });
            Ok(())
        }),
        ("apply-materials-committed", |d, _| {
            d.to_materials(Err(LookupFailure::NotFound))?;
            d.apply(ApplyAction::CommitLater("marriage-certificate".into()));
            Ok(())
        }),
        ("apply-scanning", |d, _| {
            d.to_materials(Err(LookupFailure::NotFound))?;
            d.apply(ApplyAction::Scan("marriage-certificate".into()));
            d.done(Completion::ScanProgress {
                material: "marriage-certificate".into(),
                percent: 40,
            });
            Ok(())
        }),
        ("apply-scan-jam", |d, _| {
            d.to_materials(Err(LookupFailure::NotFound))?;
            d.apply(ApplyAction::Scan("marriage-certificate".into()));
            d.done(Completion::ScanFailed {
                material: "marriage-certificate".into(),
                reason: crate::bi!(
                    "扫描仪卡纸了，已通知工作人员。您可以选择“以后补交”。",
                    "The scanner jammed; staff have been told. You can choose \"supply later\"."
                ),
            });
            Ok(())
        }),
        ("apply-review", |d, _| d.to_review()),
        ("apply-review-mail", |d, _| {
            d.to_review()?;
            d.apply(ApplyAction::ChooseDelivery(
                crate::catalogue::Delivery::Mail,
            ));
            Ok(())
        }),
        ("apply-accepting", |d, _| {
            d.to_review()?;
            d.apply(ApplyAction::Accept);
            Ok(())
        }),
        ("apply-accepted", |d, _| {
            d.to_accepted()?;
            d.answer_print(Ok(()));
            Ok(())
        }),
        ("apply-accepted-print-failed", |d, _| {
            d.to_accepted()?;
            d.answer_print(Err(printer_jam()));
            Ok(())
        }),
        ("apply-missing", |d, _| {
            d.to_items()?;
            d.apply(ApplyAction::Continue);
            d.answer_shared(Ok(()), false);
            for (f, v) in [
                ("household.address", "江西省示例市示例县测试镇样例路1号"),
                ("household.number", "360426001234"),
                ("child.gender", "女"),
                ("child.birth_date", "2026-02-02"),
                ("child.institution", "示例市妇幼保健院"),
            ] {
                d.apply(ApplyAction::SetField {
                    field: f.into(),
                    value: v.into(),
                });
            }
            d.fill_form();
            d.apply(ApplyAction::Continue);
            d.apply(ApplyAction::Continue);
            Ok(())
        }),
        ("progress-choose", |d, _| {
            d.user(UserAction::Start(JourneyKind::Progress));
            Ok(())
        }),
        ("progress-wait-card", |d, _| {
            d.user(UserAction::Start(JourneyKind::Progress));
            d.user(UserAction::Progress(ProgressAction::ByCard));
            Ok(())
        }),
        ("progress-enter-number", |d, _| {
            d.user(UserAction::Start(JourneyKind::Progress));
            d.user(UserAction::Progress(ProgressAction::ByNumber));
            if let Some(window) = d.view.window() {
                settle(&window);
                let k = window.global::<kiosk_ui::Keyboard>();
                for c in "2602033301".chars() {
                    k.invoke_key(c.to_string().into());
                }
                settle(&window);
            }
            Ok(())
        }),
        ("progress-loading", |d, _| {
            d.user(UserAction::Start(JourneyKind::Progress));
            d.user(UserAction::Progress(ProgressAction::ByCard));
            d.card(FATHER)
        }),
        ("progress-results", |d, _| {
            d.user(UserAction::Start(JourneyKind::Progress));
            d.user(UserAction::Progress(ProgressAction::ByCard));
            d.card(FATHER)?;
            d.done(Completion::Progress(Ok(sample_progress())));
            Ok(())
        }),
        ("progress-not-found", |d, _| {
            d.user(UserAction::Start(JourneyKind::Progress));
            d.user(UserAction::Progress(ProgressAction::ByCard));
            d.card(FATHER)?;
            d.done(Completion::Progress(Err(LookupFailure::NotFound)));
            Ok(())
        }),
        ("progress-unavailable", |d, _| {
            d.user(UserAction::Start(JourneyKind::Progress));
            d.user(UserAction::Progress(ProgressAction::ByCard));
            d.card(FATHER)?;
            d.done(Completion::Progress(Err(LookupFailure::Unavailable)));
            Ok(())
        }),
        ("progress-platform-down", |d, _| {
            d.send(Event::PlatformChanged { reachable: false });
            d.user(UserAction::Start(JourneyKind::Progress));
            Ok(())
        }),
        ("guide-life-stage", |d, _| {
            d.user(UserAction::Start(JourneyKind::Guide));
            Ok(())
        }),
        ("guide-one-thing", |d, _| {
            d.user(UserAction::Start(JourneyKind::Guide));
            d.user(UserAction::Guide(GuideAction::ChooseLifeStage(
                "birth".into(),
            )));
            Ok(())
        }),
        ("guide-view", |d, _| {
            d.user(UserAction::Start(JourneyKind::Guide));
            d.user(UserAction::Guide(GuideAction::ChooseLifeStage(
                "birth".into(),
            )));
            d.user(UserAction::Guide(GuideAction::ChooseOneThing(
                "newborn".into(),
            )));
            Ok(())
        }),
        ("evaluate", |d, _| {
            d.to_accepted()?;
            d.answer_print(Ok(()));
            d.apply(ApplyAction::Finish);
            d.user(UserAction::Evaluate(EvaluateAction::Level(4)));
            d.user(UserAction::Evaluate(EvaluateAction::ToggleReason(
                "too-slow".into(),
            )));
            Ok(())
        }),
        ("evaluate-thanks", |d, _| {
            d.user(UserAction::Start(JourneyKind::Evaluate));
            d.user(UserAction::Evaluate(EvaluateAction::Level(1)));
            d.user(UserAction::Evaluate(EvaluateAction::Submit));
            d.done(Completion::EvaluationSaved);
            Ok(())
        }),
        ("idle-warning", |d, _| {
            d.to_form(Ok(()))?;
            d.send(Event::Timer(TimerId::IdleWarning));
            d.send(Event::Timer(TimerId::IdleTick));
            d.send(Event::Timer(TimerId::IdleTick));
            Ok(())
        }),
        ("locker-choose", |d, _| {
            d.user(UserAction::Start(JourneyKind::Locker));
            Ok(())
        }),
        ("locker-code", |d, _| {
            d.user(UserAction::Start(JourneyKind::Locker));
            d.user(UserAction::Locker(PickupAction::ByCode));
            d.user(UserAction::Locker(PickupAction::SetCode("1234".into())));
            d.user(UserAction::Locker(PickupAction::Submit));
            Ok(())
        }),
        ("locker-opened", |d, _| d.to_locker_open()),
        ("locker-done", |d, _| {
            d.to_locker_open()?;
            d.done(Completion::Locker(LockerCompletion::Closed {
                item: sample_locker_item().id,
            }));
            Ok(())
        }),
        ("locker-nothing", |d, _| {
            d.user(UserAction::Start(JourneyKind::Locker));
            d.user(UserAction::Locker(PickupAction::ByCard));
            d.card(FATHER)?;
            d.done(Completion::Locker(LockerCompletion::Looked(Ok(
                PickupLookup::NotFound {
                    attempts_left: None,
                },
            ))));
            Ok(())
        }),
        ("locker-fault", |d, _| {
            d.to_locker_looking()?;
            d.done(Completion::Locker(LockerCompletion::Looked(Ok(
                PickupLookup::Found(vec![sample_locker_item()]),
            ))));
            d.done(Completion::Locker(LockerCompletion::Opened {
                item: sample_locker_item().id,
                result: OpenResult::Jammed,
            }));
            Ok(())
        }),
        ("card-issue", |d, _| {
            d.user(UserAction::Start(JourneyKind::CardIssue));
            Ok(())
        }),
        ("card-issue-holder", |d, _| {
            d.to_card_checking(vec![Candidate {
                application_id: uuid::Uuid::from_u128(7),
                application_number: "360426-20260210-0007".into(),
            }])
        }),
        ("card-issue-confirm", |d, _| d.to_card_confirm()),
        ("card-issue-not-now", |d, _| {
            d.to_card_checking(Vec::new())?;
            d.done(Completion::Card(CardCompletion::Answer(Err(
                LookupFailure::Unavailable,
            ))));
            Ok(())
        }),
        ("card-issue-working", |d, _| d.to_card_making()),
        ("card-issue-present", |d, _| {
            d.to_card_making()?;
            for step in [MakeStep::Personalise, MakeStep::Print] {
                d.done(Completion::Card(CardCompletion::StepDone {
                    step,
                    result: Ok(()),
                }));
            }
            Ok(())
        }),
        ("card-issue-failed", |d, _| {
            d.to_card_making()?;
            d.done(Completion::Card(CardCompletion::StepDone {
                step: MakeStep::Personalise,
                result: Err(StepFailure {
                    told: crate::bi!("芯片没有写成功", "The chip could not be written"),
                    record: "chip write failed".into(),
                    card: CardWhere::Inside,
                    retry: true,
                }),
            }));
            d.done(Completion::Card(CardCompletion::Captured(
                CaptureEnd::Captured,
            )));
            Ok(())
        }),
        ("staff-sign-in", |d, _| {
            d.user(UserAction::Start(JourneyKind::Staff));
            Ok(())
        }),
        ("staff", |d, _| {
            d.to_staff_overview();
            Ok(())
        }),
        ("staff-load", |d, _| {
            d.to_staff_overview();
            d.user(UserAction::Staff(StaffAction::Load));
            d.done(Completion::Staff(StaffCompletion::Ready(Ok(vec![
                ReadyApplication {
                    application_id: uuid::Uuid::from_u128(9),
                    case_number: "260205-33010601-0011".into(),
                    applicant_masked: "韦**".into(),
                    holder_hashes: Vec::new(),
                    documents: vec!["出生医学证明".into(), "居民户口簿".into()],
                    size: LockerSize::S,
                    ready_since_ms: 0,
                },
            ]))));
            Ok(())
        }),
    ]
}

/// Lets pending `init`s, focus changes and layouts happen before a capture.
fn settle(window: &MainWindow) {
    slint::platform::update_timers_and_animations();
    let _ = window.window().take_snapshot();
    slint::platform::update_timers_and_animations();
}

/// Where things are for `kiosk screens`.
#[derive(Debug, Clone)]
pub struct ScreensOptions {
    pub out: PathBuf,
    /// `resources/sim/idcard`.
    pub cards: PathBuf,
    /// Only screens whose name contains this.
    pub only: Option<String>,
}

/// The kiosk window on a software-rendered window without a display, with a session that
/// can be put on any screen. One per process (it installs Slint's platform).
pub struct HeadlessKiosk {
    window: Rc<MinimalSoftwareWindow>,
    main: MainWindow,
    driver: Driver,
    scan: PathBuf,
    size: (u32, u32),
}

impl HeadlessKiosk {
    pub fn new(loaded: Loaded, cards: PathBuf) -> anyhow::Result<HeadlessKiosk> {
        let size = (loaded.config.ui.width, loaded.config.ui.height);
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        slint::platform::set_platform(Box::new(Headless(window.clone())))
            .map_err(|e| anyhow::anyhow!("cannot set the headless platform: {e}"))?;
        let main = MainWindow::new()?;
        window.set_size(slint::PhysicalSize::new(size.0, size.1));
        main.show()?;
        let scan = sample_scan(&std::env::temp_dir())?;
        let driver = Driver::new(&main, Rc::new(loaded), cards, ViewOptions::default());
        Ok(HeadlessKiosk {
            window,
            main,
            driver,
            scan,
            size,
        })
    }

    /// Every screen's name, in journey order.
    pub fn names() -> Vec<&'static str> {
        screens().into_iter().map(|(name, _)| name).collect()
    }

    /// Puts the kiosk on screen `name`, reached by a fresh session in this language and mode.
    pub fn show(&self, name: &str, english: bool, elder: bool) -> anyhow::Result<()> {
        let script = screens()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s)
            .with_context(|| format!("no screen {name}"))?;
        let driver = &self.driver;
        driver.user(UserAction::Home);
        // As between two residents on the kiosk: the home screen is drawn, so nothing of the
        // previous screen's elements survives.
        settle(&self.main);
        for device in [
            DeviceClass::IdCard,
            DeviceClass::Printer,
            DeviceClass::Scanner,
            DeviceClass::Dispenser,
            DeviceClass::Encoder,
            DeviceClass::CardPrinter,
            DeviceClass::Locker,
        ] {
            driver.send(Event::DeviceChanged {
                device,
                status: DeviceStatus::online(),
            });
        }
        driver.send(Event::PlatformChanged { reachable: true });
        driver.take_effects();
        driver.user(UserAction::SetEnglish(english));
        driver.user(UserAction::SetElder(elder));
        let ctx = Ctx {
            scan: self.scan.clone(),
        };
        script(driver, &ctx).with_context(|| format!("screen {name}"))?;
        settle(&self.main);
        Ok(())
    }

    /// Renders the whole window again into `buffer` (width × height pixels), as the first
    /// frame of a screen or a full repaint is rendered.
    pub fn repaint(&self, buffer: &mut [slint::Rgb8Pixel]) {
        self.window.request_redraw();
        let stride = usize::try_from(self.size.0).unwrap_or(0);
        self.window.draw_if_needed(|renderer| {
            renderer.render(buffer, stride);
        });
    }

    /// The window's pixel size.
    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    /// Writes the screen as it is now to a PNG file.
    pub fn save_png(&self, file: &Path) -> anyhow::Result<()> {
        let shot = self.main.window().take_snapshot()?;
        let rgb: Vec<u8> = shot
            .as_slice()
            .iter()
            .flat_map(|p| [p.r, p.g, p.b])
            .collect();
        image::save_buffer(
            file,
            &rgb,
            shot.width(),
            shot.height(),
            image::ExtendedColorType::Rgb8,
        )
        .with_context(|| format!("cannot write {}", file.display()))
    }
}

impl Drop for HeadlessKiosk {
    fn drop(&mut self) {
        self.driver.user(UserAction::Home);
        let _ = std::fs::remove_file(&self.scan);
    }
}

/// Renders every screen; returns the files written.
pub fn render_all(loaded: Loaded, options: &ScreensOptions) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(&options.out)
        .with_context(|| format!("cannot create {}", options.out.display()))?;
    let kiosk = HeadlessKiosk::new(loaded, options.cards.clone())?;
    let mut written = Vec::new();
    for name in HeadlessKiosk::names() {
        if options.only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        for (english, elder) in [(false, false), (true, false), (false, true), (true, true)] {
            kiosk.show(name, english, elder)?;
            let file = options.out.join(format!(
                "{name}-{}{}.png",
                if english { "en" } else { "zh" },
                if elder { "-elder" } else { "" }
            ));
            kiosk.save_png(&file)?;
            written.push(file);
        }
    }
    Ok(written)
}
