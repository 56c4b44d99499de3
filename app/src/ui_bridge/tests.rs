//! UI tests: the real window and the real core on Slint's testing backend (one per test
//! thread, mock time), driven through accessible labels the way a resident taps. A fake I/O
//! answers the effects like the flow tests do: shared data, acceptance, printing, scanning,
//! progress look-ups. Build with `SLINT_EMIT_DEBUG_INFO=1` (set in `.cargo/config.toml`).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementQuery, mock_elapsed_time};
use kiosk_ui as ui;
use slint::{ComponentHandle, Model};

use super::{SlintTimers, SlintView, ViewOptions, connect};
use crate::bi;
use crate::check::load_all;
use crate::domain::locker::{OpenResult, PickupKey, PickupLookup, ReadyApplication};
use crate::domain::progress::{ItemProgress, ItemState, ProgressRecord};
use crate::domain::text::Bilingual;
use crate::flows::event::{Completion, LookupFailure, ScannedPage};
use crate::flows::issue_card::{CaptureEnd, CardCompletion, CardEffect};
use crate::flows::locker::{LockerCompletion, LockerEffect};
use crate::flows::staff::{CompartmentView, StaffCompletion, StaffEffect, StaffOverview};
use crate::flows::{Effect, Event, Journey};
use crate::runtime::{Core, Inbox, Io, Parts, Pump};
use crate::screens::{CountingFresh, FixedClock, sample_card, sample_shared};
use crate::store::{SignIn, StaffMember};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// How the fake outside world answers.
struct World {
    platform_up: bool,
    marriage: Result<(), LookupFailure>,
    print: Result<(), Bilingual>,
    scan_jams: bool,
    door_jams: bool,
    progress: Result<Vec<ProgressRecord>, LookupFailure>,
    /// Effects seen, by kind, for assertions.
    seen: Vec<&'static str>,
}

impl Default for World {
    fn default() -> Self {
        World {
            platform_up: true,
            marriage: Ok(()),
            print: Ok(()),
            scan_jams: false,
            door_jams: false,
            progress: Ok(vec![ProgressRecord {
                number: "260203-33010601-0004".into(),
                one_thing: "新生儿出生“一件事”".into(),
                accepted_on: "2026-02-03".into(),
                items: vec![ItemProgress {
                    name: "户口登记".into(),
                    department: "公安部门".into(),
                    state: ItemState::InProgress,
                }],
                collect: None,
            }]),
            seen: Vec::new(),
        }
    }
}

/// Answers effects at once, by posting completions to the inbox (the running pump takes them).
struct FakeIo {
    world: Rc<RefCell<World>>,
    inbox: Rc<Inbox>,
    scan: PathBuf,
}

impl Io for FakeIo {
    fn run(&self, effect: Effect) {
        let mut world = self.world.borrow_mut();
        let done = |session, completion| Event::Done {
            session,
            completion,
        };
        let event = match effect {
            Effect::FetchShared {
                session,
                dataset,
                role,
                ..
            } => {
                world.seen.push("fetch-shared");
                let result = if !world.platform_up {
                    Err(LookupFailure::Unavailable)
                } else if dataset == "marriage-certificate" {
                    world.marriage.map(|()| sample_shared(&dataset))
                } else {
                    Ok(sample_shared(&dataset))
                };
                Some(done(
                    session,
                    Completion::Shared {
                        dataset,
                        role,
                        result,
                    },
                ))
            }
            Effect::Accept {
                session,
                application,
            } => {
                world.seen.push("accept");
                Some(done(
                    session,
                    Completion::Accepted {
                        number: application.number.clone(),
                    },
                ))
            }
            Effect::Print { session, .. } => {
                world.seen.push("print");
                Some(done(session, Completion::Printed(world.print.clone())))
            }
            Effect::Scan { session, material } => {
                world.seen.push("scan");
                Some(done(
                    session,
                    if world.scan_jams {
                        Completion::ScanFailed {
                            material,
                            reason: bi!(
                                "扫描仪卡纸了，已通知工作人员",
                                "The scanner jammed; staff have been told"
                            ),
                        }
                    } else {
                        Completion::ScanPage {
                            material,
                            page: ScannedPage {
                                sha256: "ab".repeat(32),
                                thumbnail: self.scan.clone(),
                            },
                        }
                    },
                ))
            }
            Effect::FetchProgress { session, .. } => {
                world.seen.push("fetch-progress");
                Some(done(session, Completion::Progress(world.progress.clone())))
            }
            Effect::SaveEvaluation { session, .. } => {
                world.seen.push("save-evaluation");
                Some(done(session, Completion::EvaluationSaved))
            }
            Effect::EndSession { .. } => {
                world.seen.push("end-session");
                None
            }
            Effect::Card(card) => card_answer(&mut world, &card),
            Effect::Locker(locker) => Some(locker_answer(&mut world, &locker)),
            Effect::Staff(staff) => Some(staff_answer(&mut world, &staff)),
            Effect::CancelScan { .. } | Effect::StartTimer { .. } | Effect::CancelTimer(_) => None,
        };
        if let Some(event) = event {
            self.inbox.post(event);
        }
    }
}

/// The locker store and doors: code 12345678 and the sample cards find one item in A03; the
/// door opens (or jams) and the test closes it.
fn locker_answer(world: &mut World, effect: &LockerEffect) -> Event {
    let item = crate::screens::sample_locker_item();
    let (session, completion) = match effect {
        LockerEffect::Lookup { session, key } => {
            world.seen.push("locker-lookup");
            let found = match key {
                PickupKey::Code(code) => code == "12345678",
                PickupKey::Card { .. } => true,
            };
            let answer = if found {
                PickupLookup::Found(vec![item])
            } else {
                PickupLookup::NotFound {
                    attempts_left: Some(4),
                }
            };
            (*session, LockerCompletion::Looked(Ok(answer)))
        }
        LockerEffect::Open { session, item, .. } => {
            world.seen.push("locker-open");
            let result = if world.door_jams {
                OpenResult::Jammed
            } else {
                OpenResult::Opened
            };
            (
                *session,
                LockerCompletion::Opened {
                    item: *item,
                    result,
                },
            )
        }
    };
    Event::Done {
        session,
        completion: Completion::Locker(completion),
    }
}

/// The staff store, platform and doors: PIN 246810 for staff 1001; A01 (small) free, A02
/// holding an item; one application ready to load.
fn staff_answer(world: &mut World, effect: &StaffEffect) -> Event {
    let (session, completion) = match effect {
        StaffEffect::SignIn { session, id, pin } => {
            world.seen.push("staff-sign-in");
            let answer = if id == "1001" && pin.as_str() == "246810" {
                SignIn::Ok(StaffMember {
                    id: "1001".into(),
                    name: "值班员".into(),
                })
            } else {
                SignIn::Denied { attempts_left: 4 }
            };
            (*session, StaffCompletion::SignedIn(Ok(answer)))
        }
        StaffEffect::Overview { session } => {
            world.seen.push("staff-overview");
            let free = |label: &str| CompartmentView {
                label: label.into(),
                size: kiosk_locker::Size::S,
                item: None,
                attention: None,
            };
            let overview = StaffOverview {
                outbox_pending: 3,
                outbox_failing: 0,
                compartments: vec![
                    free("A01"),
                    CompartmentView {
                        item: Some("260203-33010601-0004 韩**".into()),
                        ..free("A02")
                    },
                ],
                alerts: Vec::new(),
            };
            (*session, StaffCompletion::Overview(Ok(overview)))
        }
        StaffEffect::FetchReady { session } => {
            world.seen.push("staff-ready");
            let ready = ReadyApplication {
                application_id: uuid::Uuid::from_u128(9),
                case_number: "260205-33010601-0011".into(),
                applicant_masked: "韦**".into(),
                holder_hashes: Vec::new(),
                documents: vec!["居民户口簿".into()],
                size: kiosk_locker::Size::S,
                ready_since_ms: 0,
            };
            (*session, StaffCompletion::Ready(Ok(vec![ready])))
        }
        StaffEffect::Deposit {
            session,
            compartment,
            ..
        } => {
            world.seen.push("staff-deposit");
            (
                *session,
                StaffCompletion::Notice(Bilingual {
                    zh: format!("已放入 {compartment} 号柜"),
                    en: format!("Loaded into {compartment}"),
                }),
            )
        }
        StaffEffect::SelfTest { session, .. }
        | StaffEffect::SyncNow { session }
        | StaffEffect::Recall { session, .. } => {
            world.seen.push("staff-other");
            (*session, StaffCompletion::Notice(bi!("完成", "Done")))
        }
    };
    Event::Done {
        session,
        completion: Completion::Staff(completion),
    }
}

/// The card unit and the card bureau, answering at once: no application waits, the card can
/// be made, every step works and the card waits at the slot.
fn card_answer(world: &mut World, effect: &CardEffect) -> Option<Event> {
    let (session, completion) = match *effect {
        CardEffect::FindApplications { session, .. } => {
            world.seen.push("card-find");
            (session, CardCompletion::Candidates(Vec::new()))
        }
        CardEffect::Request { session, .. } => {
            world.seen.push("card-request");
            (session, crate::screens::sample_card_answer().ok()?)
        }
        CardEffect::Begin { session, .. } => {
            world.seen.push("card-begin");
            (session, CardCompletion::Begun(Ok(())))
        }
        CardEffect::Step { session, step, .. } => {
            world.seen.push("card-step");
            (
                session,
                CardCompletion::StepDone {
                    step,
                    result: Ok(()),
                },
            )
        }
        CardEffect::Capture { session, .. } => {
            world.seen.push("card-capture");
            (session, CardCompletion::Captured(CaptureEnd::Captured))
        }
        CardEffect::Abandon { session, .. } => {
            world.seen.push("card-abandon");
            (session, CardCompletion::Abandoned)
        }
    };
    Some(Event::Done {
        session,
        completion: Completion::Card(completion),
    })
}

struct Ui {
    app: ui::MainWindow,
    core: Rc<RefCell<Core>>,
    inbox: Rc<Inbox>,
    pump: Pump,
    world: Rc<RefCell<World>>,
}

impl Ui {
    fn new() -> Ui {
        i_slint_backend_testing::init_no_event_loop();
        Ui::on_current_platform()
    }

    fn on_current_platform() -> Ui {
        assert_eq!(
            option_env!("SLINT_EMIT_DEBUG_INFO"),
            Some("1"),
            "build with SLINT_EMIT_DEBUG_INFO=1 (.cargo/config.toml sets it)"
        );
        let app = ui::MainWindow::new().unwrap();
        app.window().set_size(slint::PhysicalSize::new(1080, 1920));
        let loaded = Rc::new(load_all(&repo().join("config/kiosk.toml")).unwrap());
        let inbox = Rc::new(Inbox::default());
        let pump = Pump::new();
        let world = Rc::new(RefCell::new(World::default()));
        let view = SlintView::new(&app, ViewOptions::default());
        let scan =
            std::env::temp_dir().join(format!("kiosk-ui-test-scan-{}.png", std::process::id()));
        if !scan.exists() {
            image::RgbImage::from_pixel(21, 30, image::Rgb([240, 240, 235]))
                .save(&scan)
                .unwrap();
        }
        let io = FakeIo {
            world: world.clone(),
            inbox: inbox.clone(),
            scan,
        };
        let parts = Parts {
            clock: Box::new(FixedClock),
            fresh: Box::new(CountingFresh(RefCell::new(0))),
            timers: Box::new(SlintTimers::new(inbox.clone(), pump.clone())),
            io: Box::new(io),
            view: Box::new(view.clone()),
        };
        let core = Rc::new(RefCell::new(Core::new(loaded, parts, inbox.clone())));
        pump.bind(&core);
        connect(&app, &view, inbox.clone(), pump.clone());
        core.borrow().render();
        app.show().unwrap();
        let ui = Ui {
            app,
            core,
            inbox,
            pump,
            world,
        };
        ui.settle();
        ui
    }

    /// Lets Slint instantiate what became visible and run change handlers.
    #[allow(clippy::unused_self)] // a method so that every step reads `ui.…`
    fn settle(&self) {
        mock_elapsed_time(Duration::from_millis(20));
    }

    fn buttons(&self, label: &str) -> Vec<ElementHandle> {
        let label = label.to_owned();
        ElementQuery::from_root(&self.app)
            .match_accessible_role(AccessibleRole::Button)
            .match_predicate(move |e| e.accessible_label().is_some_and(|l| l == label))
            .find_all()
    }

    /// Scrolls the page (as a finger would) until a button with this label is in view.
    fn scroll_to(&self, label: &str) -> Vec<ElementHandle> {
        for _ in 0..30 {
            let found = self.buttons(label);
            if !found.is_empty() {
                return found;
            }
            let pages = ElementQuery::from_root(&self.app)
                .match_inherits("Flickable")
                .find_all();
            if pages.is_empty() {
                break;
            }
            for page in pages {
                page.scroll(0.0, -300.0);
            }
            self.settle();
        }
        Vec::new()
    }

    /// Types into the text field with this accessible label (as an input method would).
    fn type_into(&self, label: &str, text: &str) {
        let wanted = label.to_owned();
        let fields = ElementQuery::from_root(&self.app)
            .match_predicate(move |e| e.accessible_label().is_some_and(|l| l == wanted.as_str()))
            .find_all();
        let Some(field) = fields.first() else {
            panic!("no field {label:?}");
        };
        field.set_accessible_value(text);
        self.settle();
    }

    /// Taps the button with this label (the first, if several), scrolling to it if needed.
    fn tap(&self, label: &str) {
        let found = self.scroll_to(label);
        let Some(button) = found.first() else {
            panic!(
                "no button {label:?} on screen {:?}; buttons: {:?}",
                self.screen(),
                self.button_labels()
            );
        };
        assert_ne!(
            button.accessible_enabled(),
            Some(false),
            "{label} is disabled"
        );
        button.invoke_accessible_default_action();
        self.settle();
    }

    fn button_labels(&self) -> Vec<String> {
        ElementQuery::from_root(&self.app)
            .match_accessible_role(AccessibleRole::Button)
            .find_all()
            .iter()
            .filter_map(|e| e.accessible_label().map(|l| l.to_string()))
            .collect()
    }

    /// Every accessible label and value on screen.
    fn texts(&self) -> Vec<String> {
        ElementQuery::from_root(&self.app)
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

    fn shows(&self, text: &str) -> bool {
        self.texts().iter().any(|t| t.contains(text))
    }

    fn screen(&self) -> ui::Screen {
        self.app.global::<ui::Kiosk>().get_screen()
    }

    fn send(&self, event: Event) {
        self.inbox.post(event);
        self.pump.pump();
        self.settle();
    }

    fn card(&self, file: &str) {
        self.send(Event::CardPresented(
            sample_card(&repo().join("resources/sim/idcard"), file).unwrap(),
        ));
    }

    /// Types on the on-screen keyboard, key by key.
    fn keys(&self, keys: &str) {
        for c in keys.chars() {
            self.tap(&c.to_string());
        }
    }

    /// Types pinyin and picks the candidate.
    fn pinyin(&self, letters: &str, character: &str) {
        self.keys(letters);
        let candidates = ElementQuery::from_root(&self.app)
            .match_accessible_role(AccessibleRole::Button)
            .match_predicate(|e| {
                e.accessible_description()
                    .is_some_and(|d| d == "候选字" || d == "Character")
            })
            .find_all();
        let pick = candidates
            .iter()
            .find(|c| c.accessible_label().is_some_and(|l| l == character))
            .unwrap_or_else(|| panic!("{character} not offered for {letters}"));
        pick.invoke_accessible_default_action();
        self.settle();
    }

    fn field_value(&self, label: &str) -> String {
        let found = self.scroll_to(label);
        found
            .first()
            .and_then(ElementHandle::accessible_value)
            .unwrap_or_else(|| panic!("no field {label}"))
            .to_string()
    }

    /// Home → birth one-thing → notice → both parents' cards read.
    fn to_questions(&self) {
        self.tap("办理“一件事”");
        assert_eq!(self.screen(), ui::Screen::ApplyLifeStage);
        self.tap("出生");
        self.tap("新生儿出生“一件事”");
        assert_eq!(self.screen(), ui::Screen::ApplyNotice);
        self.tap("我知道了，开始办理");
        assert_eq!(self.screen(), ui::Screen::ApplyIdentify);
        assert!(self.shows("请把新生儿父亲的身份证放在读卡区"));
        self.card("resident_han.json");
        assert!(
            self.shows("请把新生儿母亲的身份证放在读卡区"),
            "which person is awaited"
        );
        assert!(self.shows("3604**********0071"), "who was read, masked");
        self.card("resident_rare_name.json");
        assert_eq!(self.screen(), ui::Screen::ApplyQuestion);
    }

    fn to_form(&self) {
        self.to_questions();
        self.tap("是");
        self.tap("随父亲");
        self.tap("是，一并办理生育保险待遇");
        assert_eq!(self.screen(), ui::Screen::ApplyItems);
        self.tap("下一步：核对申请表");
        assert_eq!(self.screen(), ui::Screen::ApplyForm);
    }

    /// Fills the three typed fields with the keyboards.
    fn fill_form(&self) {
        self.tap("宝宝姓名");
        self.pinyin("wang", "王");
        self.pinyin("xiao", "小");
        self.pinyin("yang", "样");
        self.tap("完成");
        assert_eq!(self.field_value("宝宝姓名"), "王小样");
        self.tap("宝宝民族");
        self.tap("随父亲");
        self.tap("联系电话（接收取件通知）");
        assert_eq!(
            self.app.global::<ui::Keyboard>().get_mode(),
            ui::KeyboardMode::Phone
        );
        self.keys("13800138000");
        self.tap("完成");
        assert_eq!(self.field_value("联系电话（接收取件通知）"), "13800138000");
    }
}

#[test]
fn applying_from_the_home_screen_to_the_evaluation() {
    let ui = Ui::new();
    assert_eq!(ui.screen(), ui::Screen::Home);
    ui.to_form();
    // Prefilled and marked: card values locked, shared values marked as shared.
    assert_eq!(ui.field_value("父亲姓名"), "王测试");
    assert_eq!(
        ui.field_value("母亲姓名"),
        "韦龘𠮷",
        "rare characters are kept"
    );
    assert_eq!(ui.field_value("父亲公民身份号码"), "3604**********0071");
    assert!(ui.shows("来自新生儿父亲身份证"));
    assert!(ui.shows("数据共享：出生医学证明"));
    let locked = &ui.buttons("父亲姓名")[0];
    assert_eq!(
        locked.accessible_enabled(),
        Some(false),
        "card values cannot be edited"
    );

    ui.fill_form();
    ui.tap("信息无误，下一步");
    assert_eq!(ui.screen(), ui::Screen::ApplyMaterials);
    assert!(ui.shows("已通过数据共享获取，不用带"));
    ui.tap("下一步：确认提交");
    assert_eq!(ui.screen(), ui::Screen::ApplyReview);
    assert!(ui.shows("韦**（4501**********008X）"), "applicants masked");
    ui.tap("确认提交");
    assert_eq!(ui.screen(), ui::Screen::ApplyAccepted);
    assert!(ui.shows("260210-33010601-0007"));
    assert!(ui.shows("424242"));
    assert!(ui.shows("受理通知已打印，请从下方出纸口取走。"));
    assert!(ui.world.borrow().seen.contains(&"print"));
    ui.tap("完成");
    // The newborn's social security card is offered at once. The fake bureau's card data want
    // a photo the kiosk cannot take from an ID card here: the resident is told plainly how
    // the card will be made instead, then the evaluation follows.
    assert_eq!(ui.screen(), ui::Screen::CardIssue);
    assert!(ui.shows("现在不能在这里制卡"), "{:?}", ui.texts());
    assert!(ui.shows("社保卡将由社保部门统一制作"));
    ui.tap("完成");
    assert_eq!(ui.screen(), ui::Screen::Evaluate);
    assert!(
        !ui.buttons("跳过，不评价").is_empty(),
        "skip is always there"
    );
    ui.tap("非常满意");
    ui.tap("提交评价");
    assert_eq!(ui.screen(), ui::Screen::EvaluateThanks);
    ui.tap("回到首页");
    assert_eq!(ui.screen(), ui::Screen::Home);
}

#[test]
fn field_errors_show_in_red_with_the_message() {
    let ui = Ui::new();
    ui.to_form();
    ui.tap("信息无误，下一步");
    assert_eq!(ui.screen(), ui::Screen::ApplyForm);
    assert!(ui.shows("还有3项需要填写或更正，已用红色标出"));
    let name = &ui.buttons("宝宝姓名")[0];
    assert_eq!(
        name.accessible_description().as_deref(),
        Some("请填写这一项")
    );
}

#[test]
fn a_card_fills_the_screen_in_the_same_pump() {
    let ui = Ui::new();
    ui.tap("办理“一件事”");
    ui.tap("出生");
    ui.tap("新生儿出生“一件事”");
    ui.tap("我知道了，开始办理");
    // No time passes: the event is handled and shown in one pump, before the next frame.
    ui.inbox.post(Event::CardPresented(
        sample_card(&repo().join("resources/sim/idcard"), "resident_han.json").unwrap(),
    ));
    ui.pump.pump();
    let applicants = ui.app.global::<ui::ApplyPage>().get_applicants();
    let father = applicants.row_data(0).unwrap();
    assert_eq!(father.state, ui::PersonState::Read);
    assert_eq!(father.id_number, "3604**********0071");
}

#[test]
fn an_unreadable_card_and_a_missing_card_are_told_in_plain_words() {
    let ui = Ui::new();
    ui.tap("办理“一件事”");
    ui.tap("出生");
    ui.tap("新生儿出生“一件事”");
    ui.tap("我知道了，开始办理");
    ui.tap("下一步");
    assert!(ui.shows("请先放新生儿父亲的身份证"));
    ui.send(Event::CardUnreadable(bi!(
        "这张身份证读不出来，不是您的问题。请到综合窗口办理。",
        "This card cannot be read; it is not your fault."
    )));
    assert!(ui.shows("这张身份证读不出来，不是您的问题。"));
    assert_eq!(
        ui.app.global::<ui::Kiosk>().get_message_kind(),
        ui::MessageKind::Error
    );
}

#[test]
fn printer_out_of_paper_after_acceptance_shows_number_and_code_large() {
    let ui = Ui::new();
    ui.world.borrow_mut().print = Err(bi!(
        "打印机缺纸了，已通知工作人员",
        "The printer is out of paper"
    ));
    ui.to_form();
    ui.fill_form();
    ui.tap("信息无误，下一步");
    ui.tap("下一步：确认提交");
    ui.tap("确认提交");
    assert_eq!(ui.screen(), ui::Screen::ApplyAccepted);
    assert!(ui.shows("受理通知没能打印出来"));
    assert!(ui.shows("打印机缺纸了，已通知工作人员"));
    assert!(ui.shows("260210-33010601-0007") && ui.shows("424242"));
    ui.world.borrow_mut().print = Ok(());
    ui.tap("再试一次打印");
    assert!(ui.shows("受理通知已打印，请从下方出纸口取走。"));
    assert!(!ui.shows("受理通知没能打印出来"));
}

#[test]
fn a_scanner_jam_is_told_and_the_material_can_be_committed_for_later() {
    let ui = Ui::new();
    ui.world.borrow_mut().marriage = Err(LookupFailure::NotFound);
    ui.world.borrow_mut().scan_jams = true;
    ui.to_form();
    ui.fill_form();
    ui.tap("信息无误，下一步");
    assert_eq!(ui.screen(), ui::Screen::ApplyMaterials);
    ui.tap("扫描这份材料");
    assert_eq!(ui.screen(), ui::Screen::ApplyMaterials);
    assert!(ui.shows("扫描仪卡纸了，已通知工作人员"));
    ui.world.borrow_mut().scan_jams = false;
    ui.tap("扫描这份材料");
    assert!(ui.shows("已扫描 1 页"));
    ui.tap("下一步：确认提交");
    assert_eq!(ui.screen(), ui::Screen::ApplyReview);
    ui.tap("返回上一步");
    // A second resident's way: commit instead of scanning.
    ui.tap("回首页");
    ui.world.borrow_mut().scan_jams = true;
    ui.to_form();
    ui.fill_form();
    ui.tap("信息无误，下一步");
    ui.tap("以后补交");
    assert!(ui.shows("承诺以后补交"));
    assert!(ui.shows("请在 2026年2月24日 前把原件交到综合窗口"));
}

#[test]
fn progress_by_number_with_the_keypad_and_when_the_platform_is_down() {
    let ui = Ui::new();
    ui.tap("查询办理进度");
    ui.tap("输入受理编号查询");
    assert_eq!(ui.screen(), ui::Screen::ProgressEnterNumber);
    assert_eq!(
        ui.app.global::<ui::Keyboard>().get_mode(),
        ui::KeyboardMode::Phone,
        "the numeric pad"
    );
    ui.keys("260203330106010004");
    ui.tap("完成");
    ui.keys("424242");
    ui.tap("查询");
    assert_eq!(ui.screen(), ui::Screen::ProgressResults);
    assert!(ui.shows("户口登记") && ui.shows("公安部门") && ui.shows("正在办理"));

    ui.world.borrow_mut().progress = Err(LookupFailure::NotFound);
    ui.tap("再查一个");
    ui.tap("刷身份证查询");
    ui.card("resident_han.json");
    assert_eq!(ui.screen(), ui::Screen::ProgressNotFound);

    ui.world.borrow_mut().progress = Err(LookupFailure::Unavailable);
    ui.tap("重新查询");
    ui.tap("刷身份证查询");
    ui.card("resident_han.json");
    assert_eq!(ui.screen(), ui::Screen::ProgressUnavailable);
    assert!(ui.shows("暂时连不上政务服务平台，这不是您的问题。"));

    // Known to be down before starting: the journey is out of service, in plain words.
    ui.tap("回到首页");
    ui.send(Event::PlatformChanged { reachable: false });
    assert!(ui.app.global::<ui::HomePage>().get_progress_paused());
    ui.tap("查询办理进度");
    assert_eq!(ui.screen(), ui::Screen::OutOfService);
    assert!(ui.shows("暂时连不上政务服务平台，现在查不了进度"));
    assert!(ui.shows("查询办理进度暂时停用"));
}

#[test]
fn the_guide_prints_and_leads_to_applying() {
    let ui = Ui::new();
    ui.tap("办事指南");
    ui.tap("出生");
    ui.tap("新生儿出生“一件事”");
    assert_eq!(ui.screen(), ui::Screen::GuideView);
    assert!(ui.shows("在助产机构内出生且符合省内落户政策的新生儿。"));
    ui.tap("打印办事指南");
    assert!(!ui.buttons("已打印，请取走").is_empty());
    ui.tap("现在就办");
    assert_eq!(ui.screen(), ui::Screen::ApplyNotice);
}

#[test]
fn the_language_switch_changes_every_text_at_once() {
    let ui = Ui::new();
    ui.tap("English");
    assert!(ui.core.borrow().session.english);
    assert!(!ui.buttons("Apply for a one-thing").is_empty());
    assert!(ui.buttons("办理“一件事”").is_empty());
    ui.tap("Apply for a one-thing");
    assert!(
        !ui.buttons("Birth").is_empty(),
        "catalogue text in English too"
    );
    ui.tap("中文");
    assert!(!ui.buttons("出生").is_empty());
    assert!(!ui.buttons("返回首页").is_empty());
}

/// Every button a resident can tap is at least 60 × 60 px (MIIT 2021, elder mode).
fn assert_targets_large(ui: &Ui, min: f32) {
    for b in ElementQuery::from_root(&ui.app)
        .match_accessible_role(AccessibleRole::Button)
        .find_all()
    {
        let size = b.size();
        assert!(
            size.width >= min && size.height >= min,
            "{:?} is {}×{} on {:?}",
            b.accessible_label(),
            size.width,
            size.height,
            ui.screen()
        );
    }
}

#[test]
fn elder_mode_has_larger_text_and_targets_and_more_time() {
    let ui = Ui::new();
    let theme = ui.app.global::<ui::Theme>();
    let normal_body = theme.get_font_body();
    ui.tap("长辈模式");
    assert!(
        theme.get_elder() && theme.get_strong(),
        "high contrast with it"
    );
    assert!(theme.get_font_body() > normal_body);
    // 18 pt = 24 px at 96 dpi; the smallest elder text is 30 px.
    assert!(theme.get_font_small() >= 30.0);
    assert_targets_large(&ui, 60.0);
    ui.to_form();
    assert_targets_large(&ui, 60.0);
    ui.tap("宝宝姓名");
    assert!(!ui.buttons("q").is_empty(), "keyboard shown");
    assert_targets_large(&ui, 60.0);
    ui.tap("完成");
    // Normal mode would warn after 90 s; elder mode waits 180 s.
    mock_elapsed_time(Duration::from_secs(100));
    assert!(!ui.app.global::<ui::Kiosk>().get_idle_warning());
    mock_elapsed_time(Duration::from_secs(81));
    assert!(ui.app.global::<ui::Kiosk>().get_idle_warning());
}

#[test]
fn the_idle_reset_leaves_nothing_of_the_resident_anywhere() {
    let ui = Ui::new();
    ui.to_form();
    let resident = [
        "王测试",
        "360426199101010071",
        "3604**********0071",
        "江西省示例市示例县测试镇样例路1号",
        "韦龘𠮷",
        "韦**",
        "45010220000229008X",
        "4501**********008X",
        "广西壮族自治区示例市测试区样例路8号",
        "王小",
    ];
    // Half-way: cards read, a name being typed, pinyin not yet chosen.
    ui.tap("宝宝姓名");
    ui.pinyin("wang", "王");
    ui.pinyin("xiao", "小");
    ui.keys("ya");
    assert_eq!(ui.app.global::<ui::Keyboard>().get_pinyin(), "ya");
    assert!(ui.shows("王小"), "the search sees what is typed");
    assert!(ui.shows("王测试") || ui.shows("韦龘𠮷") || ui.shows("3604**********0071"));

    // No touch for 90 s: the warning, with a countdown and a way to keep going.
    mock_elapsed_time(Duration::from_secs(91));
    assert!(ui.shows("您还在吗？"));
    assert_eq!(ui.app.global::<ui::Kiosk>().get_idle_remaining(), 30);
    mock_elapsed_time(Duration::from_secs(1));
    assert_eq!(ui.app.global::<ui::Kiosk>().get_idle_remaining(), 29);
    ui.tap("我还要继续，需要更多时间");
    assert!(!ui.app.global::<ui::Kiosk>().get_idle_warning());
    assert_eq!(ui.screen(), ui::Screen::ApplyForm);

    // Again, and this time nobody answers.
    mock_elapsed_time(Duration::from_secs(91));
    assert!(ui.app.global::<ui::Kiosk>().get_idle_warning());
    for _ in 0..30 {
        mock_elapsed_time(Duration::from_secs(1));
    }
    ui.settle();
    assert_eq!(ui.screen(), ui::Screen::Home);
    assert!(ui.world.borrow().seen.contains(&"end-session"));

    let texts = ui.texts();
    assert!(texts.len() > 10, "the home screen is searched");
    for r in resident {
        assert!(
            !texts.iter().any(|t| t.contains(r)),
            "{r} is still in the element tree"
        );
    }
    // Nor anywhere in what the screens are built from.
    let a = ui.app.global::<ui::ApplyPage>();
    assert_eq!(a.get_fields().row_count(), 0);
    assert_eq!(a.get_applicants().row_count(), 0);
    assert_eq!(a.get_material_rows().row_count(), 0);
    assert_eq!(a.get_review().row_count(), 0);
    assert_eq!(a.get_editing(), -1);
    assert_eq!(a.get_title(), "");
    let k = ui.app.global::<ui::Keyboard>();
    assert_eq!(k.get_pinyin(), "");
    assert_eq!(k.get_candidates().row_count(), 0);
    assert!(!ui.app.global::<ui::Kiosk>().get_idle_warning());
    assert!(matches!(ui.core.borrow().session.journey, Journey::Home));
    assert_eq!(
        ui.app.global::<ui::StaffPage>().get_staff_name(),
        "",
        "nobody stays signed in"
    );
}

#[test]
fn documents_are_collected_with_the_sms_code_after_a_wrong_one() {
    let ui = Ui::new();
    ui.tap("取件柜取件");
    assert_eq!(ui.screen(), ui::Screen::Locker);
    ui.tap("输入取件码");
    ui.keys("11112222");
    ui.tap("开柜取件");
    assert!(ui.shows("取件码不对"), "{:?}", ui.texts());
    assert!(ui.shows("还可以再试4次"));
    // The field is empty again, with the keypad up.
    ui.keys("12345678");
    ui.tap("开柜取件");
    assert!(ui.shows("柜门已打开"), "{:?}", ui.texts());
    assert!(ui.shows("A03"));
    assert!(ui.shows("出生医学证明"));
    let session = ui.core.borrow().session.id;
    ui.send(Event::Done {
        session,
        completion: Completion::Locker(LockerCompletion::Closed {
            item: uuid::Uuid::from_u128(3),
        }),
    });
    assert!(ui.shows("取件完成"));
    assert!(
        ui.world.borrow().seen.contains(&"print"),
        "the pickup receipt is printed"
    );
    ui.tap("完成");
    assert_eq!(ui.screen(), ui::Screen::Evaluate);
    ui.tap("跳过，不评价");
    assert_eq!(ui.screen(), ui::Screen::Home);
    assert_eq!(
        ui.app.global::<ui::LockerPage>().get_compartment(),
        "",
        "nothing of the pickup stays on the page"
    );
}

#[test]
fn staff_sign_in_with_a_pin_then_load_a_finished_application_into_the_smallest_free_door() {
    let ui = Ui::new();
    // Five taps on the centre's name: a gesture, deliberately not an accessible button.
    ui.app
        .global::<ui::Kiosk>()
        .invoke_start(ui::Journey::Staff);
    ui.settle();
    assert_eq!(ui.screen(), ui::Screen::Staff);
    assert!(ui.shows("工作人员登录"));
    ui.keys("1001");
    ui.type_into("工作人员密码", "111111");
    ui.tap("登录");
    assert!(
        ui.shows("工号或密码不对，还可以再试4次"),
        "{:?}",
        ui.texts()
    );
    assert!(!ui.shows("111111"), "a PIN is never shown");
    ui.type_into("工作人员密码", "246810");
    ui.tap("登录");
    assert!(ui.shows("设备与运行状态"), "{:?}", ui.texts());
    assert!(ui.shows("待上报：3 件"));
    assert!(ui.shows("A02"));
    ui.tap("放入证件");
    assert!(ui.shows("选择要放入取件柜的证件"));
    ui.tap("260205-33010601-0011  韦**  居民户口簿");
    assert!(ui.shows("已放入 A01 号柜"), "{:?}", ui.texts());
    ui.tap("退出工作人员模式");
    assert_eq!(ui.screen(), ui::Screen::Home);
}

#[test]
fn a_door_that_does_not_open_is_told_and_sent_to_staff() {
    let ui = Ui::new();
    ui.world.borrow_mut().door_jams = true;
    ui.tap("取件柜取件");
    ui.tap("刷身份证取件");
    ui.card("resident_han.json");
    assert!(ui.shows("柜门没能打开"), "{:?}", ui.texts());
    assert!(ui.shows("已通知工作人员"));
    ui.tap("完成");
    assert_eq!(ui.screen(), ui::Screen::Home);
}

#[test]
fn a_card_is_made_on_the_spot_from_the_home_tile_to_the_card_at_the_slot() {
    let ui = Ui::new();
    ui.tap("社保卡即时制卡");
    assert_eq!(ui.screen(), ui::Screen::CardIssue);
    assert!(ui.shows("请把身份证放在读卡区"));
    ui.card("resident_rare_name.json");
    // The fake platform found no application and says the card can be made: the data to
    // check, masked.
    assert!(ui.shows("请核对制卡信息"), "{:?}", ui.texts());
    assert!(
        ui.shows("4501**********008X") || ui.shows("4501*********008X"),
        "{:?}",
        ui.texts()
    );
    assert!(
        !ui.shows("45010220000229008X"),
        "the full number is never shown"
    );
    assert!(!ui.shows("韦龘𠮷"), "the full name is never shown");
    ui.tap("信息无误，开始制卡");
    assert!(ui.shows("请取走您的社保卡"), "{:?}", ui.texts());
    assert!(ui.world.borrow().seen.contains(&"card-step"));
    let session = ui.core.borrow().session.id;
    ui.send(Event::Done {
        session,
        completion: Completion::Card(CardCompletion::Taken),
    });
    assert!(ui.shows("社保卡已制好"), "{:?}", ui.texts());
    ui.tap("完成");
    assert_eq!(ui.screen(), ui::Screen::Evaluate);
    ui.tap("跳过，不评价");
    assert_eq!(ui.screen(), ui::Screen::Home);
    assert_eq!(
        ui.app.global::<ui::CardIssuePage>().get_steps().row_count(),
        0,
        "nothing of the card stays on the page"
    );
}

#[test]
fn every_string_on_the_screens_has_its_english() {
    // The same rule as resources/i18n/extract.py --check: each @tr string of ui/**/*.slint,
    // in the component it is written in, has a non-empty msgstr in the bundled en .po.
    fn slint_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                slint_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "slint") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    slint_files(&repo().join("ui"), &mut files);
    let mut used = std::collections::BTreeSet::new();
    for f in files {
        let mut component = String::new();
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            let t = line.trim_start();
            let t = t.strip_prefix("export ").unwrap_or(t);
            if let Some(rest) = t.strip_prefix("component ") {
                component = rest.split_whitespace().next().unwrap().to_owned();
            }
            for (i, _) in line.match_indices("@tr(\"") {
                let rest = &line[i + 5..];
                let end = rest.find('"').unwrap();
                used.insert((component.clone(), rest[..end].to_owned()));
            }
        }
    }
    let po =
        std::fs::read_to_string(repo().join("resources/i18n/en/LC_MESSAGES/kiosk-ui.po")).unwrap();
    let mut translated = std::collections::BTreeSet::new();
    let (mut ctx, mut id) = (String::new(), String::new());
    for line in po.lines() {
        if let Some(c) = line.strip_prefix("msgctxt \"") {
            ctx = c.trim_end_matches('"').to_owned();
        } else if let Some(m) = line.strip_prefix("msgid \"") {
            id = m.trim_end_matches('"').to_owned();
        } else if let Some(s) = line.strip_prefix("msgstr \"")
            && !id.is_empty()
            && s != "\""
        {
            translated.insert((ctx.clone(), id.clone()));
        }
    }
    let missing: Vec<_> = used.difference(&translated).collect();
    assert!(missing.is_empty(), "untranslated: {missing:?}");
    assert!(used.len() > 200);
}

/// A character no font has is drawn as nothing at all; the characters of names on the sample
/// cards must each leave ink on the screen.
#[test]
fn every_character_of_a_rare_name_is_drawn() {
    slint::platform::set_platform(Box::new(i_slint_backend_testing::TestingBackend::new(
        i_slint_backend_testing::TestingBackendOptions {
            mock_time: true,
            threading: false,
            renderer_name: Some("software".into()),
        },
    )))
    .unwrap();
    let ui = Ui::on_current_platform();
    let kiosk = ui.app.global::<ui::Kiosk>();
    // The centre's name is drawn in the header: measure its ink for one character at a time.
    let ink = |text: &str| {
        kiosk.set_centre_name(text.into());
        ui.settle();
        let shot = ui.app.window().take_snapshot().unwrap();
        let width = shot.width() as usize;
        shot.as_slice()
            .iter()
            .enumerate()
            .filter(|(i, p)| i / width < 100 && p.r > 200 && p.g > 200)
            .count()
    };
    let blank = ink("");
    assert!(
        ink("\u{378}") <= blank,
        "an unassigned code point draws nothing"
    );
    for c in "韦龘𠮷王测试李样例".chars() {
        assert!(
            ink(&c.to_string()) > blank + 20,
            "{c} ({:X}) is not drawn",
            c as u32
        );
    }
    // And the coverage check the screens use agrees.
    assert!(
        super::fonts::FontCoverage::system()
            .missing("韦龘𠮷")
            .is_empty()
    );
}
