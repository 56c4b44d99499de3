//! The only module that touches Slint. [`SlintView`] shows a [`Session`] by writing the
//! globals of `ui/api.slint`; [`connect`] turns every callback of those globals into an
//! [`Event`] posted to the core's inbox, followed by a pump. [`SlintTimers`] runs the
//! session's timers on Slint's timers, so UI tests drive them with mock time.
//!

pub mod dev_panel;
pub mod fonts;
mod images;
mod keyboard;
pub mod launch;
pub mod pinyin;
mod render;
mod render_card;
mod render_locker;
mod render_staff;
pub mod run;
mod service;
mod sim_panel;
mod timers;

#[cfg(test)]
mod tests;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use slint::{ComponentHandle, Image, Model, VecModel};

pub use kiosk_ui::{DevPanelWindow, MainWindow};
pub use timers::SlintTimers;

use crate::catalogue::Delivery;
use crate::flows::apply::ApplyAction;
use crate::flows::evaluate::EvaluateAction;
use crate::flows::event::JourneyKind;
use crate::flows::guide::GuideAction;
use crate::flows::issue_card::CardAction;
use crate::flows::locker::PickupAction;
use crate::flows::progress::ProgressAction;
use crate::flows::staff::StaffAction;
use crate::flows::{Ctx, Event, Session, SessionId, UserAction};
use crate::runtime::{Inbox, Pump, View};

/// How the screens are set up for this kiosk.
#[derive(Debug, Clone, Default)]
pub struct ViewOptions {
    /// Devices or the platform are simulated: the banner says so on every screen.
    pub simulation: bool,
    /// The banner's text; empty for the standard one.
    pub simulation_text: String,
    /// The high-contrast palette for everyone (elder mode always has it).
    pub high_contrast: bool,
}

/// Shows the session on the kiosk's window. Cheap to clone: the core owns one as its
/// [`View`] and the callbacks share another.
#[derive(Clone)]
pub struct SlintView {
    inner: Rc<Inner>,
}

struct Inner {
    window: slint::Weak<MainWindow>,
    options: ViewOptions,
    models: render::Models,
    state: RefCell<State>,
}

/// What the view remembers between renders. Everything here belongs to one session and is
/// dropped when the session changes.
#[derive(Default)]
struct State {
    session: Option<SessionId>,
    english: Option<bool>,
    qr: Option<(String, Image)>,
    guide_qr: Option<(String, Image)>,
    thumbnails: HashMap<PathBuf, Image>,
    pinyin: pinyin::PinyinInput,
}

impl SlintView {
    pub fn new(window: &MainWindow, options: ViewOptions) -> SlintView {
        let models = render::Models::install(window);
        let view = SlintView {
            inner: Rc::new(Inner {
                window: window.as_weak(),
                options,
                models,
                state: RefCell::new(State::default()),
            }),
        };
        view.install_static(window);
        view
    }

    fn install_static(&self, window: &MainWindow) {
        let kiosk = window.global::<kiosk_ui::Kiosk>();
        kiosk.set_simulation(self.inner.options.simulation);
        kiosk.set_simulation_text(self.inner.options.simulation_text.as_str().into());
        window
            .global::<kiosk_ui::Theme>()
            .set_high_contrast(self.inner.options.high_contrast);
    }

    /// The window, while it exists.
    pub fn window(&self) -> Option<MainWindow> {
        self.inner.window.upgrade()
    }
}

impl View for SlintView {
    fn render(&self, session: &Session, ctx: &Ctx<'_>) {
        let Some(window) = self.inner.window.upgrade() else {
            return;
        };
        let mut state = self.inner.state.borrow_mut();
        if state.session != Some(session.id) {
            // A new resident: nothing of the previous one stays in the view.
            let english = state.english;
            *state = State {
                session: Some(session.id),
                english,
                ..State::default()
            };
            render::clear(&window, &self.inner.models);
        }
        if state.english != Some(session.english) {
            state.english = Some(session.english);
            select_language(session.english);
        }
        render::session(&window, &self.inner.models, &mut state, session, ctx);
    }
}

/// Switches the `@tr` texts. The .slint sources are Chinese; English is the bundled `en`.
fn select_language(english: bool) {
    let language = if english { "en" } else { "" };
    if let Err(e) = slint::select_bundled_translation(language) {
        tracing::warn!(error = %e, language, "cannot switch the screen language");
    }
}

/// Posts a resident's action and runs the core.
#[derive(Clone)]
struct Poster {
    inbox: Rc<Inbox>,
    pump: Pump,
}

impl Poster {
    fn user(&self, action: UserAction) {
        self.inbox.post(Event::User(action));
        self.pump.pump();
    }

    fn apply(&self, action: ApplyAction) {
        self.user(UserAction::Apply(action));
    }
}

/// Wires every callback of the kiosk window: resident actions become events in `inbox`
/// followed by `pump`; the keyboard is handled here.
pub fn connect(window: &MainWindow, view: &SlintView, inbox: Rc<Inbox>, pump: Pump) {
    let post = Poster { inbox, pump };
    connect_kiosk(window, &post);
    connect_apply(window, &post);
    connect_progress(window, &post);
    connect_guide_and_evaluate(window, &post);
    connect_card(window, &post);
    connect_locker(window, &post);
    connect_staff(window, &post);
    keyboard::connect(window, view);
}

fn connect_kiosk(window: &MainWindow, post: &Poster) {
    let kiosk = window.global::<kiosk_ui::Kiosk>();
    let p = post.clone();
    kiosk.on_start(move |journey| {
        use kiosk_ui::Journey as J;
        let kind = match journey {
            J::Apply => JourneyKind::Apply,
            J::Progress => JourneyKind::Progress,
            J::Guide => JourneyKind::Guide,
            J::Evaluate => JourneyKind::Evaluate,
            J::Locker => JourneyKind::Locker,
            J::Card => JourneyKind::CardIssue,
            J::Staff => JourneyKind::Staff,
        };
        p.user(UserAction::Start(kind));
    });
    let p = post.clone();
    kiosk.on_home(move || {
        p.user(UserAction::Home);
    });
    let p = post.clone();
    kiosk.on_set_english(move |english| p.user(UserAction::SetEnglish(english)));
    let p = post.clone();
    kiosk.on_set_elder(move |elder| p.user(UserAction::SetElder(elder)));
    let p = post.clone();
    kiosk.on_still_here(move || p.user(UserAction::StillHere));
    // A touch that no button took still means someone is there; at most once a second.
    let p = post.clone();
    let w = window.as_weak();
    let last = Cell::new(None::<Instant>);
    kiosk.on_touched(move || {
        let Some(window) = w.upgrade() else { return };
        if window.global::<kiosk_ui::Kiosk>().get_screen() == kiosk_ui::Screen::Home {
            return;
        }
        let now = Instant::now();
        if last
            .get()
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
        {
            return;
        }
        last.set(Some(now));
        p.user(UserAction::StillHere);
    });
}

fn connect_apply(window: &MainWindow, post: &Poster) {
    let g = window.global::<kiosk_ui::ApplyPage>();
    let p = post.clone();
    g.on_choose_life_stage(move |id| p.apply(ApplyAction::ChooseLifeStage(id.into())));
    let p = post.clone();
    g.on_choose_one_thing(move |id| p.apply(ApplyAction::ChooseOneThing(id.into())));
    let p = post.clone();
    g.on_next(move || p.apply(ApplyAction::Continue));
    let p = post.clone();
    g.on_back(move || p.apply(ApplyAction::Back));
    let p = post.clone();
    g.on_print_guide(move || p.apply(ApplyAction::PrintGuide));
    let p = post.clone();
    g.on_answer(move |question, value| {
        p.apply(ApplyAction::Answer {
            question: question.into(),
            value: value.into(),
        });
    });
    let p = post.clone();
    g.on_toggle_item(move |id| p.apply(ApplyAction::ToggleItem(id.into())));
    let p = post.clone();
    g.on_set_field(move |field, value| {
        p.apply(ApplyAction::SetField {
            field: field.into(),
            value: value.into(),
        });
    });
    let p = post.clone();
    g.on_scan(move |id| p.apply(ApplyAction::Scan(id.into())));
    let p = post.clone();
    g.on_stop_scan(move || p.apply(ApplyAction::StopScan));
    let p = post.clone();
    g.on_commit_later(move |id| p.apply(ApplyAction::CommitLater(id.into())));
    let p = post.clone();
    g.on_undo_commit(move |id| p.apply(ApplyAction::UndoCommit(id.into())));
    let p = post.clone();
    g.on_sign(move |id| p.apply(ApplyAction::Sign(id.into())));
    let p = post.clone();
    g.on_choose_delivery(move |id| {
        if let Some(d) = Delivery::ALL.iter().find(|d| d.as_str() == id.as_str()) {
            p.apply(ApplyAction::ChooseDelivery(*d));
        }
    });
    let p = post.clone();
    g.on_set_mailing_address(move |a| p.apply(ApplyAction::SetMailingAddress(a.into())));
    let p = post.clone();
    g.on_accept(move || p.apply(ApplyAction::Accept));
    let p = post.clone();
    g.on_print_missing(move || p.apply(ApplyAction::PrintMissingNotice));
    let p = post.clone();
    g.on_retry_print(move || p.apply(ApplyAction::RetryPrint));
    let p = post.clone();
    g.on_finish(move || p.apply(ApplyAction::Finish));
}

fn connect_progress(window: &MainWindow, post: &Poster) {
    let g = window.global::<kiosk_ui::ProgressPage>();
    let progress = |p: &Poster, a: ProgressAction| p.user(UserAction::Progress(a));
    let p = post.clone();
    g.on_by_card(move || progress(&p, ProgressAction::ByCard));
    let p = post.clone();
    g.on_by_number(move || progress(&p, ProgressAction::ByNumber));
    let p = post.clone();
    g.on_set_number(move |n| progress(&p, ProgressAction::SetNumber(n.into())));
    let p = post.clone();
    g.on_set_code(move |c| progress(&p, ProgressAction::SetCode(c.into())));
    let p = post.clone();
    g.on_search(move || progress(&p, ProgressAction::Search));
    let p = post.clone();
    g.on_back(move || progress(&p, ProgressAction::Back));
}

fn connect_guide_and_evaluate(window: &MainWindow, post: &Poster) {
    let g = window.global::<kiosk_ui::GuidePage>();
    let guide = |p: &Poster, a: GuideAction| p.user(UserAction::Guide(a));
    let p = post.clone();
    g.on_choose_life_stage(move |id| guide(&p, GuideAction::ChooseLifeStage(id.into())));
    let p = post.clone();
    g.on_choose_one_thing(move |id| guide(&p, GuideAction::ChooseOneThing(id.into())));
    let p = post.clone();
    g.on_print_slip(move || guide(&p, GuideAction::Print));
    let p = post.clone();
    g.on_back(move || guide(&p, GuideAction::Back));
    let p = post.clone();
    g.on_apply_now(move || guide(&p, GuideAction::ApplyNow));

    let e = window.global::<kiosk_ui::EvaluatePage>();
    let evaluate = |p: &Poster, a: EvaluateAction| p.user(UserAction::Evaluate(a));
    let p = post.clone();
    e.on_level(move |level| {
        if let Ok(level) = u8::try_from(level) {
            evaluate(&p, EvaluateAction::Level(level));
        }
    });
    let p = post.clone();
    e.on_toggle_reason(move |r| evaluate(&p, EvaluateAction::ToggleReason(r.into())));
    let p = post.clone();
    e.on_submit(move || evaluate(&p, EvaluateAction::Submit));
    let p = post.clone();
    e.on_skip(move || evaluate(&p, EvaluateAction::Skip));
}

fn connect_staff(window: &MainWindow, post: &Poster) {
    let g = window.global::<kiosk_ui::StaffPage>();
    let staff = |p: &Poster, a: StaffAction| p.user(UserAction::Staff(a));
    let p = post.clone();
    g.on_set_id(move |v| staff(&p, StaffAction::SetId(v.into())));
    let p = post.clone();
    g.on_set_pin(move |v| staff(&p, StaffAction::SetPin(v.into())));
    let p = post.clone();
    g.on_sign_in(move || staff(&p, StaffAction::SignIn));
    let p = post.clone();
    g.on_refresh(move || staff(&p, StaffAction::Refresh));
    let p = post.clone();
    g.on_self_test(move |d| staff(&p, StaffAction::SelfTest(d.into())));
    let p = post.clone();
    g.on_sync_now(move || staff(&p, StaffAction::SyncNow));
    let p = post.clone();
    g.on_load(move || staff(&p, StaffAction::Load));
    let p = post.clone();
    g.on_choose_ready(move |i| {
        if let Ok(i) = usize::try_from(i) {
            staff(&p, StaffAction::ChooseReady(i));
        }
    });
    let p = post.clone();
    g.on_cancel(move || staff(&p, StaffAction::Cancel));
    let p = post.clone();
    g.on_recall(move |c| staff(&p, StaffAction::Recall(c.into())));
    let p = post.clone();
    g.on_sign_out(move || staff(&p, StaffAction::SignOut));
}

fn connect_locker(window: &MainWindow, post: &Poster) {
    let g = window.global::<kiosk_ui::LockerPage>();
    let locker = |p: &Poster, a: PickupAction| p.user(UserAction::Locker(a));
    let p = post.clone();
    g.on_by_card(move || locker(&p, PickupAction::ByCard));
    let p = post.clone();
    g.on_by_code(move || locker(&p, PickupAction::ByCode));
    let p = post.clone();
    g.on_set_code(move |c| locker(&p, PickupAction::SetCode(c.into())));
    let p = post.clone();
    g.on_submit(move || locker(&p, PickupAction::Submit));
    let p = post.clone();
    g.on_back(move || locker(&p, PickupAction::Back));
    let p = post.clone();
    g.on_done(move || locker(&p, PickupAction::Finish));
}

fn connect_card(window: &MainWindow, post: &Poster) {
    let g = window.global::<kiosk_ui::CardIssuePage>();
    let card = |p: &Poster, a: CardAction| p.user(UserAction::Card(a));
    let p = post.clone();
    g.on_choose(move |i| card(&p, CardAction::ChooseHolder(usize::try_from(i).ok())));
    let p = post.clone();
    g.on_start(move || card(&p, CardAction::Confirm));
    let p = post.clone();
    g.on_back(move || card(&p, CardAction::Back));
    let p = post.clone();
    g.on_retry(move || card(&p, CardAction::Retry));
    let p = post.clone();
    g.on_done(move || card(&p, CardAction::Finish));
}

/// Replaces the rows of `model` with `rows`, touching only rows that changed, so that what
/// the resident is looking at (or typing into) is not rebuilt.
fn sync<T: Clone + PartialEq + 'static>(model: &VecModel<T>, rows: Vec<T>) {
    let old = model.row_count();
    let new = rows.len();
    for (i, row) in rows.into_iter().enumerate() {
        if i < old {
            if model.row_data(i).as_ref() != Some(&row) {
                model.set_row_data(i, row);
            }
        } else {
            model.push(row);
        }
    }
    for i in (new..old).rev() {
        model.remove(i);
    }
}
