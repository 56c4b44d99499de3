//! The kiosk's I/O: carries out the journeys' effects on the store, the platform and the
//! devices, on the tokio runtime, and posts each answer back to the UI thread as an event for
//! the session that asked. Nothing here decides anything; the flows do.

pub mod cards;
mod locker;
pub mod locker_watch;
mod print;
mod scan;
mod staff;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::runtime::Handle as Tokio;
use tokio::sync::Notify;

use crate::bi;
use crate::catalogue::Catalogue;
use crate::flows::event::{Completion, Event};
use crate::flows::{Effect, SessionId};
use crate::runtime::{Io, Poster};
use crate::store::Store;

/// Everything the effects need.
pub struct Services {
    pub store: Arc<Store>,
    pub platform: Arc<kiosk_platform::PlatformClient>,
    pub catalogue: Arc<Catalogue>,
    pub printer: Option<kiosk_printer::Handle>,
    pub scanner: Option<kiosk_scanner::Handle>,
    /// This session's scanned pages (`<sha256>.jpg`); emptied when a session ends.
    pub scans_dir: PathBuf,
    pub outbox: Arc<Notify>,
    pub retention_days: u32,
    /// The daily application sequence (see `Fresh::sequence`).
    pub sequence: Arc<crate::runtime::system::DailySequence>,
    /// The social security card unit (dispenser, encoder, card printer).
    pub cards: cards::CardUnit,
    /// The locker bank (`None` when not fitted).
    pub locker: Option<kiosk_locker::LockerHandle>,
    /// This kiosk's id, for the events the platform hears.
    pub kiosk_id: String,
    /// A locker door open longer than this raises a staff alert.
    pub locker_door_alert: std::time::Duration,
    /// Locker items not collected after this many days are listed for recall.
    pub overdue_after_days: u32,
}

pub struct KioskIo {
    tokio: Tokio,
    poster: Poster,
    services: Arc<Services>,
}

impl KioskIo {
    pub fn new(tokio: Tokio, poster: Poster, services: Arc<Services>) -> Self {
        KioskIo {
            tokio,
            poster,
            services,
        }
    }

    fn done(&self, session: SessionId) -> impl Fn(Completion) + Send + Sync + Clone + 'static {
        let poster = self.poster.clone();
        move |completion| {
            poster.post(Event::Done {
                session,
                completion,
            });
        }
    }
}

impl Io for KioskIo {
    fn run(&self, effect: Effect) {
        let s = self.services.clone();
        match effect {
            Effect::StartTimer { .. } | Effect::CancelTimer(_) => {}
            Effect::FetchShared {
                session,
                dataset,
                role,
                id_number,
            } => {
                let done = self.done(session);
                self.tokio.spawn(async move {
                    let result = crate::platform::shared(&s.platform, &dataset, id_number).await;
                    done(Completion::Shared {
                        dataset,
                        role,
                        result,
                    });
                });
            }
            Effect::FetchProgress { session, query } => {
                let done = self.done(session);
                self.tokio.spawn(async move {
                    done(Completion::Progress(
                        crate::platform::progress(&s.platform, query).await,
                    ));
                });
            }
            Effect::Accept {
                session,
                application,
            } => {
                let done = self.done(session);
                self.tokio.spawn_blocking(move || {
                    let number = application.number.clone();
                    match s.store.accept(&application, &s.scans_dir, s.retention_days) {
                        Ok(()) => {
                            if let Some((day, seq)) = sequence_of(&number) {
                                s.sequence.used(day, seq);
                            }
                            s.outbox.notify_one();
                            tracing::info!(number = %number, one_thing = %application.one_thing_id, "application accepted");
                            done(Completion::Accepted { number });
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "could not store an application");
                            done(Completion::AcceptFailed(bi!(
                                "系统暂时无法保存申请，本次没有受理。请联系工作人员。",
                                "The application could not be saved, so it was not accepted. Please ask a member of staff."
                            )));
                        }
                    }
                });
            }
            Effect::Print { session, document } => print::print(self, session, *document),
            Effect::Scan { session, material } => scan::scan(self, session, material),
            Effect::CancelScan { .. } => {
                if let Some(scanner) = &s.scanner {
                    scanner.cancel();
                }
            }
            Effect::SaveEvaluation {
                session,
                evaluation,
            } => {
                let done = self.done(session);
                self.tokio
                    .spawn_blocking(move || match s.store.save_evaluation(&evaluation) {
                        Ok(()) => {
                            s.outbox.notify_one();
                            done(Completion::EvaluationSaved);
                        }
                        Err(e) => {
                            // The resident is thanked either way; the rating is lost only in
                            // this unlikely case and staff see the error.
                            tracing::error!(error = %e, "could not store an evaluation");
                            done(Completion::EvaluationSaved);
                        }
                    });
            }
            Effect::Card(effect) => cards::run(self, effect),
            Effect::Locker(effect) => locker::run(self, effect),
            Effect::Staff(effect) => staff::run(self, effect),
            Effect::EndSession { session } => self.end_session(session),
        }
    }
}

impl KioskIo {
    /// Nothing of a finished session may remain: its print jobs end, a scan stops, and its
    /// scanned pages (already sealed into the store if it was accepted) are deleted.
    fn end_session(&self, session: SessionId) {
        let s = &self.services;
        if let Some(printer) = &s.printer {
            printer.end_session(&print::owner(session));
        }
        if let Some(scanner) = &s.scanner {
            scanner.cancel();
        }
        let dir = s.scans_dir.clone();
        self.tokio.spawn_blocking(move || clear_dir(&dir));
    }
}

/// The date and sequence in a printed application number (`YYMMDD-<kiosk>-NNNN`).
fn sequence_of(number: &str) -> Option<(jiff::civil::Date, u32)> {
    let (date, rest) = number.split_once('-')?;
    let seq: u32 = rest.rsplit_once('-')?.1.parse().ok()?;
    let n = |r: std::ops::Range<usize>| date.get(r).and_then(|s| s.parse::<i8>().ok());
    let day = jiff::civil::Date::new(2000 + i16::from(n(0..2)?), n(2..4)?, n(4..6)?).ok()?;
    Some((day, seq))
}

/// Deletes every file in `dir` (the folder itself stays).
pub fn clear_dir(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.path().is_file() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
