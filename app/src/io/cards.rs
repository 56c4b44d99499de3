//! The card unit's effects: the dispenser, the chip encoder (the dispenser's own contact
//! reader, or a PC/SC reader), the card printer, and the platform as the card bureau.
//!
//! Store before act: every step is written to the store (`Started`, with where the card is
//! believed to be) before the device is told anything, and again when it is done or failed.
//! The end of an attempt (issued or failed) is written with the platform report (outbox) in
//! one transaction. After a crash, [`recover`] reads the unfinished attempt, asks the
//! dispenser where the card is, captures it if it is inside or at the gate, and records the
//! attempt failed ("interrupted") for the platform; the resident may then try again.
//!
//! Crash tests pause the process at `card.<step>.<point>` ([`crate::failpoint`]): for each
//! step `before-store`, `after-store` (before the device), `after-device` (before the
//! result is stored) and `after-done`; also `card.begin.*`, `card.taken.before-store` and
//! `card.finish.before-commit`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiosk_cardprinter::{
    CardFace, CardPrinter, FaceRenderer, JobState, PrintJob, PrinterError, PrinterState,
};
use kiosk_dispenser::{
    CardPosition, DispenserError, ErrorCode, Event as DispenserEvent, HopperLevel, RejectBin,
};
use kiosk_encoder::{
    ApduTransport, AuthRequest, BureauError, CardBureau, Crt591Transport, Cryptogram, EncodeError,
    FlowOptions, Personalisation, RecordWrite,
};
use kiosk_idcard::photo::PhotoDecoder;
use kiosk_link::{DeviceState, DeviceStatus};
use kiosk_platform::PlatformClient;
use kiosk_platform::wire::{
    self, CardPhoto, CardRequestResponse, CryptogramRequest, ElementaryFile,
};
use tokio::sync::oneshot;

use super::{KioskIo, Services};
use crate::bi;
use crate::domain::text::Bilingual;
use crate::failpoint::point;
use crate::flows::SessionId;
use crate::flows::availability::DeviceClass;
use crate::flows::event::{Completion, Event, LookupFailure};
use crate::flows::issue_card::{
    Candidate, CaptureEnd, CardAnswer, CardCompletion, CardEffect, CardEligibility, CardJob,
    CardWhere, MakeStep, StepFailure,
};
use crate::outbox::{blocking, now_ms};
use crate::runtime::Poster;
use crate::store::{
    AttemptState, BeginError, CardPlace, CardStep, NewCardAttempt, StepStatus, Store,
};

/// A card printer shared by the effects (its calls block: use it on the blocking pool).
pub type SharedCardPrinter = Arc<Mutex<Box<dyn CardPrinter>>>;

/// How the chip encoder is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encoder {
    /// The dispenser's own contact reader (CRT-591 CM 51), the card in the IC position.
    Dispenser,
    /// A PC/SC reader by name, through pcscd.
    Pcsc { reader: String },
}

/// The card unit as the effects use it. Clone freely.
#[derive(Clone, Default)]
pub struct CardUnit {
    pub dispenser: Option<kiosk_dispenser::Handle>,
    pub encoder: Option<Encoder>,
    pub printer: Option<SharedCardPrinter>,
    /// Fonts loaded once; `None` when they could not be (then nothing can be printed).
    pub faces: Option<Arc<FaceRenderer>>,
    /// Why the card printer cannot be used, when it was known at start-up.
    pub printer_problem: Option<String>,
    /// Decodes the ID card's photo for the face (vendor library, or the simulator's).
    pub photos: Option<Arc<dyn PhotoDecoder>>,
    pub flow: FlowOptions,
    pub timing: CardTiming,
    /// Ends the wait for the resident at the gate (when the card is captured).
    waiting: Arc<Mutex<Option<oneshot::Sender<()>>>>,
}

/// Waits of the card effects that are not device timeouts.
#[derive(Debug, Clone, Copy)]
pub struct CardTiming {
    /// A print job not finished within this is cancelled and the card captured.
    pub print_job: Duration,
    /// How often a print job's state is asked.
    pub print_poll: Duration,
    /// How long start-up recovery waits for the dispenser to come online.
    pub dispenser_online: Duration,
    /// How often the card printer's state is looked at for the availability.
    pub printer_watch: Duration,
}

impl Default for CardTiming {
    fn default() -> Self {
        CardTiming {
            print_job: Duration::from_mins(2),
            print_poll: Duration::from_millis(200),
            dispenser_online: Duration::from_secs(10),
            printer_watch: Duration::from_secs(10),
        }
    }
}

impl CardUnit {
    /// True when a card can be dispensed, encoded and printed here at all.
    pub fn is_fitted(&self) -> bool {
        self.dispenser.is_some() && self.encoder.is_some() && self.printer.is_some()
    }

    fn set_waiting(&self, cancel: oneshot::Sender<()>) {
        if let Ok(mut w) = self.waiting.lock() {
            *w = Some(cancel);
        }
    }

    fn stop_waiting(&self) {
        if let Ok(mut w) = self.waiting.lock()
            && let Some(cancel) = w.take()
        {
            let _ = cancel.send(());
        }
    }
}

/// Carries out one card effect; the answer comes back as `Completion::Card`.
pub fn run(io: &KioskIo, effect: CardEffect) {
    let s = io.services.clone();
    let poster = io.poster.clone();
    let rt = io.tokio.clone();
    let post = move |session: SessionId, c: CardCompletion| {
        poster.post(Event::Done {
            session,
            completion: Completion::Card(c),
        });
    };
    match effect {
        CardEffect::FindApplications { session, id_number } => {
            io.tokio.spawn(async move {
                let store = s.store.clone();
                let one_things: Vec<String> = s
                    .catalogue
                    .one_things
                    .iter()
                    .filter(|o| o.item(crate::flows::issue_card::CARD_ITEM).is_some())
                    .map(|o| o.id.clone())
                    .collect();
                let found = blocking(move || store.card_candidates(&id_number, &one_things)).await;
                let list = found.unwrap_or_else(|e| {
                    tracing::error!(error = %e, "could not look for card applications");
                    Vec::new()
                });
                let list = list
                    .into_iter()
                    .map(|c| Candidate {
                        application_id: c.application_id,
                        application_number: c.application_number,
                    })
                    .collect();
                post(session, CardCompletion::Candidates(list));
            });
        }
        CardEffect::Request {
            session,
            attempt,
            request,
        } => {
            io.tokio.spawn(async move {
                let answer = request_card(&s.platform, attempt, &request).await;
                post(session, CardCompletion::Answer(answer));
            });
        }
        CardEffect::Begin { session, job } => {
            io.tokio.spawn(async move {
                let result = begin(&s, &job).await;
                post(session, CardCompletion::Begun(result));
            });
        }
        CardEffect::Step { session, step, job } => {
            let io_poster = io.poster.clone();
            io.tokio.spawn(async move {
                let result = match step {
                    MakeStep::Dispense => dispense(&s, &job).await,
                    MakeStep::Personalise => personalise(&s, &job, rt.clone()).await,
                    MakeStep::Print => print(&s, &job, &io_poster).await,
                    MakeStep::Present => {
                        present(&s, &job, session, &io_poster).await;
                        return;
                    }
                };
                post(session, CardCompletion::StepDone { step, result });
            });
        }
        CardEffect::Capture {
            session,
            attempt,
            reason,
        } => {
            s.cards.stop_waiting();
            io.tokio.spawn(async move {
                let end = capture(&s, attempt, &reason).await;
                post(session, CardCompletion::Captured(end));
            });
        }
        CardEffect::Abandon {
            session,
            attempt,
            reason,
        } => {
            io.tokio.spawn(async move {
                let store = s.store.clone();
                let done = blocking(move || {
                    store.finish_card_failed(attempt, &reason, CardPlace::Hopper, now_ms())
                })
                .await;
                if let Err(e) = done {
                    tracing::error!(error = %e, %attempt, "could not record a card attempt's end");
                }
                s.outbox.notify_one();
                post(session, CardCompletion::Abandoned);
            });
        }
    }
}

// ----- the platform ------------------------------------------------------------------------

async fn request_card(
    client: &PlatformClient,
    attempt: uuid::Uuid,
    request: &wire::CardRequest,
) -> Result<CardAnswer, LookupFailure> {
    match client.request_card(attempt, request).await {
        Ok(written) => Ok(answer(written.body)),
        Err(e) if e.is_unavailable() => Err(LookupFailure::Unavailable),
        Err(e) => {
            tracing::warn!(error = %e, %attempt, "card request refused");
            Err(LookupFailure::NotFound)
        }
    }
}

fn answer(r: CardRequestResponse) -> CardAnswer {
    let eligibility = match r.eligibility {
        wire::Eligibility::Eligible => CardEligibility::Eligible,
        wire::Eligibility::NotYet {
            waiting_for,
            message,
        } => CardEligibility::NotYet {
            waiting_for,
            message,
        },
        wire::Eligibility::AlreadyHasCard { card_number_masked } => {
            CardEligibility::AlreadyHasCard { card_number_masked }
        }
        wire::Eligibility::NotEligible { reason } => CardEligibility::NotEligible { reason },
    };
    CardAnswer {
        request_id: r.request_id,
        eligibility,
        card: r.card.map(Box::new),
    }
}

/// The platform as the card bureau: relays the chip's challenge, returns the cryptogram.
/// Blocking: call it from the blocking pool (it waits on the runtime for the HTTP answer).
pub struct PlatformBureau {
    pub client: Arc<PlatformClient>,
    pub request_id: String,
    pub rt: tokio::runtime::Handle,
}

impl CardBureau for PlatformBureau {
    fn external_auth(&mut self, req: &AuthRequest<'_>) -> Result<Cryptogram, BureauError> {
        let ef = match req.ef {
            0xEF05 => Some(ElementaryFile::Ef05),
            0xEF06 => Some(ElementaryFile::Ef06),
            _ => None,
        };
        let request = CryptogramRequest {
            card_id_hex: hex::encode(req.card_id),
            challenge_hex: hex::encode(req.challenge),
            ef,
        };
        let answer = self
            .rt
            .block_on(self.client.card_cryptogram(&self.request_id, &request))
            .map_err(|e| BureauError(e.to_string()))?;
        let bytes = hex::decode(&answer.cryptogram_hex)
            .map_err(|_| BureauError("the cryptogram is not hex".into()))?;
        Ok(Cryptogram {
            key_id: answer.key_id,
            bytes,
        })
    }
}

/// The platform's records as chip writes.
pub fn personalisation(card: &wire::CardData) -> Result<Personalisation, String> {
    let records = card
        .records
        .iter()
        .map(|r| {
            Ok(RecordWrite {
                ef: r.ef.file_id(),
                record: r.record,
                tag: r.tag,
                value: hex::decode(&r.value_hex)
                    .map_err(|_| format!("record {} of {:?} is not hex", r.record, r.ef))?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Personalisation { records })
}

// ----- the steps ---------------------------------------------------------------------------

/// Records the attempt before anything moves. A card already issued here to this holder
/// (its result perhaps not yet with the platform) is not made twice.
async fn begin(s: &Arc<Services>, job: &CardJob) -> Result<(), Bilingual> {
    point("card.begin.before-store");
    let store = s.store.clone();
    let attempt = NewCardAttempt {
        id: job.attempt,
        request_id: job.request_id.clone(),
        application_id: job.application_id,
        application_number: job.application_number.clone(),
        holder_name: job.card.name.clone(),
        holder_id_number: job.card.social_security_number.clone(),
        card_number: job.card.card_number.clone(),
        retention_days: s.retention_days,
    };
    let result = tokio::task::spawn_blocking(move || {
        if store
            .card_issued_to(&attempt.holder_id_number)
            .map_err(BeginError::Store)?
            .is_some()
        {
            return Ok(false);
        }
        store.begin_card_attempt(&attempt, now_ms()).map(|()| true)
    })
    .await;
    point("card.begin.after-store");
    match result {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => Err(bi!(
            "这位持卡人的社保卡今天已在本机做好，不能重复制卡。如有疑问请联系工作人员。",
            "A card was already made for this holder at this kiosk; it cannot be made twice. Please ask a member of staff if anything is wrong."
        )),
        Ok(Err(BeginError::Unfinished)) => {
            tracing::error!("a card attempt is unfinished: recovery has not run");
            Err(staff_needed())
        }
        Ok(Err(BeginError::Store(e))) => {
            tracing::error!(error = %e, "could not record a card attempt");
            Err(staff_needed())
        }
        Err(e) => {
            tracing::error!(error = %e, "card attempt task failed");
            Err(staff_needed())
        }
    }
}

fn staff_needed() -> Bilingual {
    bi!(
        "制卡设备暂时不能开始制卡，没有出卡。请联系工作人员，或到综合窗口申领。",
        "The card unit cannot start now; no card was taken. Please ask a member of staff or apply at the service window."
    )
}

/// Writes a step to the store. False when the attempt is not open any more.
async fn record(
    store: &Arc<Store>,
    attempt: uuid::Uuid,
    step: CardStep,
    status: StepStatus,
    place: CardPlace,
    detail: Option<String>,
) -> Result<bool, ()> {
    let store = store.clone();
    blocking(move || store.card_step(attempt, step, status, place, detail.as_deref(), now_ms()))
        .await
        .map_err(
            |e| tracing::error!(error = %e, %attempt, step = %step, "could not record a card step"),
        )
}

fn not_recorded() -> StepFailure {
    StepFailure {
        told: staff_needed(),
        record: "the step could not be recorded".into(),
        card: CardWhere::Unknown,
        retry: false,
    }
}

/// Records `Started` before the device is told anything; the failpoints around it.
async fn started(
    s: &Services,
    job: &CardJob,
    step: CardStep,
    place: CardPlace,
) -> Result<(), StepFailure> {
    point(&format!("card.{step}.before-store"));
    match record(
        &s.store,
        job.attempt,
        step,
        StepStatus::Started,
        place,
        None,
    )
    .await
    {
        Ok(true) => {
            point(&format!("card.{step}.after-store"));
            Ok(())
        }
        Ok(false) | Err(()) => Err(not_recorded()),
    }
}

/// Records the end of a step and where the card is.
async fn finished(
    s: &Services,
    job: &CardJob,
    step: CardStep,
    result: Result<CardPlace, StepFailure>,
) -> Result<(), StepFailure> {
    point(&format!("card.{step}.after-device"));
    let (status, place, detail) = match &result {
        Ok(place) => (StepStatus::Done, *place, None),
        Err(f) => (StepStatus::Failed, place_of(f.card), Some(f.record.clone())),
    };
    let recorded = record(&s.store, job.attempt, step, status, place, detail).await;
    point(&format!("card.{step}.after-done"));
    match (result, recorded) {
        (Ok(_), Ok(true)) => Ok(()),
        (Ok(_), _) => Err(StepFailure {
            card: CardWhere::Unknown,
            ..not_recorded()
        }),
        (Err(f), _) => Err(f),
    }
}

fn place_of(w: CardWhere) -> CardPlace {
    match w {
        CardWhere::Hopper => CardPlace::Hopper,
        CardWhere::Inside => CardPlace::Inside,
        CardWhere::Gate => CardPlace::Gate,
        CardWhere::Unknown => CardPlace::Unknown,
    }
}

fn dispenser(s: &Services) -> Result<kiosk_dispenser::Handle, StepFailure> {
    s.cards.dispenser.clone().ok_or_else(|| StepFailure {
        told: device_fault(),
        record: "no card dispenser".into(),
        card: CardWhere::Hopper,
        retry: false,
    })
}

fn device_fault() -> Bilingual {
    bi!(
        "制卡设备出现故障，本次没有做成社保卡，已通知工作人员。您可以到综合窗口申领。",
        "The card unit has a fault, so your card could not be made; staff have been told. You can apply for it at the service window."
    )
}

/// Where the card is after a failed move, as far as the device can say.
async fn where_now(d: &kiosk_dispenser::Handle, fallback: CardWhere) -> CardWhere {
    match d.status().await {
        Ok(status) => match status.card {
            CardPosition::None => CardWhere::Hopper,
            CardPosition::Inside => CardWhere::Inside,
            CardPosition::AtGate => CardWhere::Gate,
        },
        Err(_) => fallback,
    }
}

async fn dispense(s: &Arc<Services>, job: &CardJob) -> Result<(), StepFailure> {
    let d = dispenser(s)?;
    // Never dispense onto a card left inside: the machine must be clear.
    if let Ok(status) = d.status().await
        && status.card != CardPosition::None
    {
        alert(
            &s.store,
            "card.machine-not-clear",
            "A card was found in the dispenser before dispensing; it was left for staff.",
        )
        .await;
        return Err(StepFailure {
            told: device_fault(),
            record: "a card was already in the machine".into(),
            card: CardWhere::Hopper,
            retry: false,
        });
    }
    started(s, job, CardStep::Dispense, CardPlace::Hopper).await?;
    let result = match d.to_encoder().await {
        Ok(_) => Ok(CardPlace::Inside),
        Err(e) => Err(dispense_failure(s, &d, &e).await),
    };
    finished(s, job, CardStep::Dispense, result).await
}

async fn dispense_failure(
    s: &Services,
    d: &kiosk_dispenser::Handle,
    e: &DispenserError,
) -> StepFailure {
    tracing::warn!(error = %e, "dispensing failed");
    let card = where_now(d, CardWhere::Unknown).await;
    if e.code() == Some(ErrorCode::StackerEmpty) {
        alert(
            &s.store,
            "card.hopper-empty",
            "The card hopper is empty: refill it. Card issuing is switched off until then.",
        )
        .await;
        return StepFailure {
            told: bi!(
                "本机的空白社保卡刚好用完，没有做成社保卡，已通知工作人员。您可以到综合窗口申领，统一制作后放入取件柜。",
                "This kiosk has just run out of blank cards, so your card could not be made; staff have been told. You can apply at the service window and the card will be made centrally."
            ),
            record: format!("dispenser: {e}"),
            card,
            retry: false,
        };
    }
    if e.is_jam() {
        alert(&s.store, "card.jam", &format!("Card dispenser fault: {e}")).await;
    }
    StepFailure {
        told: device_fault(),
        record: format!("dispenser: {e}"),
        card,
        retry: false,
    }
}

async fn personalise(
    s: &Arc<Services>,
    job: &CardJob,
    rt: tokio::runtime::Handle,
) -> Result<(), StepFailure> {
    started(s, job, CardStep::Personalise, CardPlace::Inside).await?;
    let data = personalisation(&job.card).map_err(|reason| StepFailure {
        told: chip_failed(),
        record: format!("records: {reason}"),
        card: CardWhere::Inside,
        retry: false,
    });
    let result = match data {
        Err(f) => Err(f),
        Ok(data) => {
            let encoder = s.cards.encoder.clone();
            let dispenser = s.cards.dispenser.clone();
            let flow = s.cards.flow;
            let mut bureau = PlatformBureau {
                client: s.platform.clone(),
                request_id: job.request_id.clone(),
                rt,
            };
            tokio::task::spawn_blocking(move || -> Result<(), StepFailure> {
                let mut transport = open_encoder(encoder.as_ref(), dispenser)?;
                kiosk_encoder::personalise(transport.as_mut(), &mut bureau, &data, &flow)
                    .map(|_| ())
                    .map_err(|e| chip_failure(&e))
            })
            .await
            .unwrap_or_else(|e| {
                Err(StepFailure {
                    record: format!("encoder task: {e}"),
                    ..chip_failure_plain()
                })
            })
        }
    };
    finished(
        s,
        job,
        CardStep::Personalise,
        result.map(|()| CardPlace::Inside),
    )
    .await
}

fn open_encoder(
    encoder: Option<&Encoder>,
    dispenser: Option<kiosk_dispenser::Handle>,
) -> Result<Box<dyn ApduTransport>, StepFailure> {
    let fault = |record: String| StepFailure {
        told: device_fault(),
        record,
        card: CardWhere::Inside,
        retry: false,
    };
    match (encoder, dispenser) {
        (Some(Encoder::Dispenser), Some(d)) => Ok(Box::new(Crt591Transport::new(
            d,
            kiosk_dispenser::Vcc::Iso5V,
        ))),
        (Some(Encoder::Pcsc { reader }), _) => kiosk_encoder::PcscTransport::open(reader)
            .map(|t| Box::new(t) as Box<dyn ApduTransport>)
            .map_err(|e| fault(format!("encoder: {e}"))),
        _ => Err(fault("no chip encoder".into())),
    }
}

fn chip_failed() -> Bilingual {
    bi!(
        "社保卡芯片没有写成功（这不是您的问题），这张卡已被收回作废。您可以点“重新制卡”，用一张新卡再做一次。",
        "The card's chip could not be written (this is not your fault), so the card was kept back. You can tap \"Try again\" to make a new card."
    )
}

fn chip_failure_plain() -> StepFailure {
    StepFailure {
        told: chip_failed(),
        record: String::new(),
        card: CardWhere::Inside,
        retry: true,
    }
}

fn chip_failure(e: &EncodeError) -> StepFailure {
    tracing::warn!(error = %e, step = %e.step(), "chip personalisation failed");
    match e {
        EncodeError::Bureau { .. } => StepFailure {
            told: bi!(
                "暂时连不上社保制卡系统，这张卡没有做成，已被收回。请稍后再试，或到综合窗口申领。",
                "The card system could not be reached, so the card was not made and was kept back. Please try later or apply at the service window."
            ),
            record: format!("chip: {e}"),
            card: CardWhere::Inside,
            retry: false,
        },
        _ => StepFailure {
            record: format!("chip: {e}"),
            ..chip_failure_plain()
        },
    }
}

async fn print(s: &Arc<Services>, job: &CardJob, poster: &Poster) -> Result<(), StepFailure> {
    started(s, job, CardStep::Print, CardPlace::Inside).await?;
    let unit = s.cards.clone();
    let card = job.card.clone();
    let wlt = job.photo_wlt.clone();
    let name = format!("card-{}", job.attempt);
    let result = tokio::task::spawn_blocking(move || {
        print_face(&unit, &card, wlt.as_deref().map(Vec::as_slice), &name)
    })
    .await
    .unwrap_or_else(|e| Err(print_fault(format!("print task: {e}"), false)));
    if let Err(f) = &result
        && !f.retry
    {
        // The printer needs staff: switch card issuing off until it is ready again.
        poster.post(Event::DeviceChanged {
            device: DeviceClass::CardPrinter,
            status: DeviceStatus::new(DeviceState::HardwareError, f.record.clone()),
        });
        alert(
            &s.store,
            "card.printer",
            &format!("Card printer: {}", f.record),
        )
        .await;
    }
    finished(s, job, CardStep::Print, result.map(|()| CardPlace::Inside)).await
}

fn print_fault(record: String, retry: bool) -> StepFailure {
    StepFailure {
        told: bi!(
            "卡面打印没有成功，这张卡已被收回作废，已通知工作人员。您可以到综合窗口申领。",
            "The card face could not be printed, so the card was kept back; staff have been told. You can apply at the service window."
        ),
        record,
        card: CardWhere::Inside,
        retry,
    }
}

/// Renders the face and prints it, following the job to its end (blocking).
fn print_face(
    unit: &CardUnit,
    card: &wire::CardData,
    wlt: Option<&[u8]>,
    job_name: &str,
) -> Result<(), StepFailure> {
    let (Some(printer), Some(faces)) = (&unit.printer, &unit.faces) else {
        return Err(print_fault(
            unit.printer_problem
                .clone()
                .unwrap_or_else(|| "no card printer".into()),
            false,
        ));
    };
    let photo = match &card.photo {
        CardPhoto::NoneUnder7 => None,
        CardPhoto::IdCardPhoto => {
            let decoded = match (wlt, &unit.photos) {
                (Some(wlt), Some(decoder)) => decoder.decode(wlt).ok(),
                _ => None,
            };
            let photo = decoded.and_then(|p| {
                image::RgbImage::from_raw(p.width, p.height, p.rgb.clone())
                    .map(image::DynamicImage::ImageRgb8)
            });
            Some(photo.ok_or_else(|| {
                print_fault("the ID card photo could not be decoded".into(), false)
            })?)
        }
        CardPhoto::Jpeg { base64 } => {
            let bytes = base64_decode(base64)
                .ok_or_else(|| print_fault("the stored photo is not base64".into(), false))?;
            Some(
                image::load_from_memory(&bytes)
                    .map_err(|e| print_fault(format!("the stored photo: {e}"), false))?,
            )
        }
    };
    let face = CardFace {
        name: card.name.clone(),
        ssn: card.social_security_number.clone(),
        card_number: card.card_number.clone(),
        issue_date: card.issue_date,
        photo,
    };
    let image = faces.render(&face).map_err(|e| StepFailure {
        told: bi!(
            "您的姓名中有本机不能打印的字，这张卡已被收回作废。请到综合窗口申领。",
            "Your name has a character this kiosk cannot print, so the card was kept back. Please apply at the service window."
        ),
        record: format!("face: {e}"),
        card: CardWhere::Inside,
        retry: false,
    })?;
    let png = kiosk_cardprinter::to_png(&image)
        .map_err(|e| print_fault(format!("face image: {e}"), false))?;
    let mut printer = printer
        .lock()
        .map_err(|_| print_fault("card printer lock poisoned".into(), false))?;
    let status = printer.status().map_err(|e| printer_failure(&e))?;
    if !status.ready() {
        return Err(printer_failure(&if status.ribbon_out() {
            PrinterError::RibbonOut
        } else if status.jammed() {
            PrinterError::Jam
        } else {
            PrinterError::NotAccepting(status.reasons.join(", "))
        }));
    }
    let id = printer
        .print(&PrintJob {
            name: job_name.to_owned(),
            png,
        })
        .map_err(|e| printer_failure(&e))?;
    let deadline = std::time::Instant::now() + unit.timing.print_job;
    loop {
        match printer.job_state(id).map_err(|e| printer_failure(&e))? {
            JobState::Completed => return Ok(()),
            JobState::Canceled | JobState::Aborted => {
                return Err(print_fault(
                    "the print job was cancelled or aborted".into(),
                    false,
                ));
            }
            JobState::Stopped => {
                let _ = printer.cancel(id);
                let status = printer.status().ok();
                let e = match status {
                    Some(st) if st.ribbon_out() => PrinterError::RibbonOut,
                    Some(st) if st.jammed() || st.state == PrinterState::Stopped => {
                        PrinterError::Jam
                    }
                    _ => PrinterError::NotAccepting("the job stopped".into()),
                };
                return Err(printer_failure(&e));
            }
            JobState::Pending | JobState::Held | JobState::Processing => {}
        }
        if std::time::Instant::now() >= deadline {
            let _ = printer.cancel(id);
            return Err(print_fault(
                "the print job did not finish in time".into(),
                false,
            ));
        }
        std::thread::sleep(unit.timing.print_poll);
    }
}

fn printer_failure(e: &PrinterError) -> StepFailure {
    match e {
        PrinterError::RibbonOut => StepFailure {
            told: bi!(
                "卡片打印机的色带用完了，这张卡已被收回作废，已通知工作人员更换。您可以到综合窗口申领。",
                "The card printer's ribbon is used up, so the card was kept back; staff have been told to change it. You can apply at the service window."
            ),
            record: "card printer ribbon is out".into(),
            card: CardWhere::Inside,
            retry: false,
        },
        other => print_fault(format!("card printer: {other}"), false),
    }
}

/// Holds the card at the gate, answers, then waits for the resident to take it (until a
/// capture ends the wait). Taken is recorded (issued, with the platform report) before the
/// journey hears of it.
async fn present(s: &Arc<Services>, job: &CardJob, session: SessionId, poster: &Poster) {
    let post = |c: CardCompletion| {
        poster.post(Event::Done {
            session,
            completion: Completion::Card(c),
        });
    };
    let d = match dispenser(s) {
        Ok(d) => d,
        Err(f) => {
            post(CardCompletion::StepDone {
                step: MakeStep::Present,
                result: Err(StepFailure {
                    card: CardWhere::Unknown,
                    ..f
                }),
            });
            return;
        }
    };
    if let Err(f) = started(s, job, CardStep::Present, CardPlace::Inside).await {
        post(CardCompletion::StepDone {
            step: MakeStep::Present,
            result: Err(f),
        });
        return;
    }
    let mut events = d.subscribe();
    let result = match d.to_gate().await {
        Ok(_) => Ok(CardPlace::Gate),
        Err(e) => {
            tracing::warn!(error = %e, "moving the card to the gate failed");
            Err(StepFailure {
                told: device_fault(),
                record: format!("dispenser: {e}"),
                card: where_now(&d, CardWhere::Unknown).await,
                retry: false,
            })
        }
    };
    let (cancel, mut cancelled) = oneshot::channel();
    s.cards.set_waiting(cancel);
    let ok = result.is_ok();
    let recorded = finished(s, job, CardStep::Present, result).await;
    let at_gate = ok && recorded.is_ok();
    post(CardCompletion::StepDone {
        step: MakeStep::Present,
        result: recorded,
    });
    if !at_gate {
        return;
    }
    loop {
        tokio::select! {
            _ = &mut cancelled => return,
            event = events.recv() => match event {
                Ok(DispenserEvent::CardTaken) => break,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
        }
    }
    point("card.taken.before-store");
    let store = s.store.clone();
    let attempt = job.attempt;
    match blocking(move || store.finish_card_issued(attempt, now_ms())).await {
        Ok(true) => {
            tracing::info!(%attempt, "social security card issued");
            s.outbox.notify_one();
            post(CardCompletion::Taken);
        }
        // A capture began first: it says how the attempt ended.
        Ok(false) => {}
        Err(e) => {
            tracing::error!(error = %e, %attempt, "could not record a card as taken");
            post(CardCompletion::Taken);
        }
    }
}

/// Captures the card into the reject bin and records the attempt failed. A card the
/// resident took in the instant before is recorded issued instead.
async fn capture(s: &Arc<Services>, attempt: uuid::Uuid, reason: &str) -> CaptureEnd {
    let store = s.store.clone();
    let found = blocking(move || store.card_attempt(attempt)).await;
    let believed = match found {
        Ok(Some(a)) if a.state == AttemptState::Issued => return CaptureEnd::Taken,
        Ok(Some(a)) => a.position,
        _ => CardPlace::Unknown,
    };
    point("card.capture.before-store");
    match record(
        &s.store,
        attempt,
        CardStep::Capture,
        StepStatus::Started,
        believed,
        Some(reason.to_owned()),
    )
    .await
    {
        Ok(true) => {}
        Ok(false) => return issued_meanwhile(s, attempt).await,
        Err(()) => return CaptureEnd::Stuck(device_fault()),
    }
    point("card.capture.after-store");
    let Some(d) = s.cards.dispenser.clone() else {
        return CaptureEnd::Stuck(device_fault());
    };
    // A card gone from the gate before the capture was taken by the resident at the last
    // moment: it is issued, not captured (a capture of nothing would "succeed").
    if believed == CardPlace::Gate
        && let Ok(status) = d.status().await
        && status.card == CardPosition::None
    {
        let store = s.store.clone();
        let end = match blocking(move || store.finish_card_issued(attempt, now_ms())).await {
            Ok(true) => {
                s.outbox.notify_one();
                CaptureEnd::Taken
            }
            _ => issued_meanwhile(s, attempt).await,
        };
        point("card.capture.after-done");
        return end;
    }
    let moved = d.capture().await;
    point("card.capture.after-device");
    let end = match moved {
        Ok(_) => finish_failed(s, attempt, reason, CardPlace::RejectBin).await,
        Err(e) => {
            tracing::warn!(error = %e, %attempt, "capture failed");
            match where_now(&d, CardWhere::Unknown).await {
                // Gone from the gate: the resident took it as the time ran out.
                CardWhere::Hopper if believed == CardPlace::Gate => {
                    let store = s.store.clone();
                    match blocking(move || store.finish_card_issued(attempt, now_ms())).await {
                        Ok(true) => {
                            s.outbox.notify_one();
                            CaptureEnd::Taken
                        }
                        _ => issued_meanwhile(s, attempt).await,
                    }
                }
                CardWhere::Hopper => {
                    alert(
                        &s.store,
                        "card.missing",
                        &format!(
                            "Card of attempt {attempt} is not in the machine and was not captured."
                        ),
                    )
                    .await;
                    let reason = format!("{reason}; capture failed and the card is missing");
                    finish_failed(s, attempt, &reason, CardPlace::Missing).await;
                    CaptureEnd::Stuck(device_fault())
                }
                place => {
                    alert(&s.store, "card.stuck", &format!("Card of attempt {attempt} could not be captured ({e}); it is still in the machine.")).await;
                    let reason = format!("{reason}; capture failed: {e}");
                    let place = match place {
                        CardWhere::Gate => CardPlace::Gate,
                        CardWhere::Inside => CardPlace::Inside,
                        _ => CardPlace::Unknown,
                    };
                    finish_failed(s, attempt, &reason, place).await;
                    CaptureEnd::Stuck(device_fault())
                }
            }
        }
    };
    point("card.capture.after-done");
    end
}

async fn issued_meanwhile(s: &Arc<Services>, attempt: uuid::Uuid) -> CaptureEnd {
    let store = s.store.clone();
    match blocking(move || store.card_attempt(attempt)).await {
        Ok(Some(a)) if a.state == AttemptState::Issued => CaptureEnd::Taken,
        _ => CaptureEnd::Captured,
    }
}

async fn finish_failed(
    s: &Arc<Services>,
    attempt: uuid::Uuid,
    reason: &str,
    place: CardPlace,
) -> CaptureEnd {
    let store = s.store.clone();
    let reason = reason.to_owned();
    match blocking(move || store.finish_card_failed(attempt, &reason, place, now_ms())).await {
        Ok(true) => {
            s.outbox.notify_one();
            CaptureEnd::Captured
        }
        Ok(false) => issued_meanwhile(s, attempt).await,
        Err(e) => {
            tracing::error!(error = %e, %attempt, "could not record a card attempt's end");
            CaptureEnd::Captured
        }
    }
}

/// Raises a staff alert (logged too); a failure to store it is logged.
pub async fn alert(store: &Arc<Store>, kind: &'static str, message: &str) {
    tracing::warn!(kind, message, "staff alert");
    let store = store.clone();
    let message = message.to_owned();
    if let Err(e) = blocking(move || store.raise_alert(kind, &message, now_ms())).await {
        tracing::error!(error = %e, kind, "could not store a staff alert");
    }
}

// ----- recovery ----------------------------------------------------------------------------

/// What start-up recovery found and did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Recovery {
    /// The unfinished attempt, if there was one.
    pub attempt: Option<uuid::Uuid>,
    /// Its last recorded step and status (`dispense/started`).
    pub last_step: Option<String>,
    /// Where the dispenser said the card was: `none`, `inside`, `gate`, or `unknown`.
    pub found: String,
    /// `captured`, `nothing`, or `capture-failed`.
    pub action: String,
    /// Where the card of the attempt ended up (see `CardPlace`).
    pub position: Option<String>,
}

/// Start-up recovery: finishes an attempt a crash interrupted (see the module docs). Waits
/// up to `timing.dispenser_online` for the dispenser. Never fails: what it cannot do is
/// recorded and alerted.
pub async fn recover(unit: &CardUnit, store: &Arc<Store>) -> Recovery {
    let open = {
        let store = store.clone();
        blocking(move || store.open_card_attempt()).await
    };
    let open = match open {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "could not read unfinished card attempts");
            None
        }
    };
    let status = match &unit.dispenser {
        Some(d) => dispenser_status(d, unit.timing.dispenser_online).await,
        None => None,
    };
    let found = match status.map(|s| s.card) {
        Some(CardPosition::None) => "none",
        Some(CardPosition::Inside) => "inside",
        Some(CardPosition::AtGate) => "gate",
        None => "unknown",
    };
    let mut report = Recovery {
        attempt: open.as_ref().map(|a| a.id),
        last_step: open
            .as_ref()
            .map(|a| format!("{}/{}", a.step, a.step_status)),
        found: found.into(),
        action: "nothing".into(),
        position: None,
    };
    let card_out = matches!(
        status.map(|s| s.card),
        Some(CardPosition::Inside | CardPosition::AtGate)
    );
    let captured = if card_out {
        if let Some(a) = &open {
            let place = match status.map(|s| s.card) {
                Some(CardPosition::AtGate) => CardPlace::Gate,
                _ => CardPlace::Inside,
            };
            let _ = record(
                store,
                a.id,
                CardStep::Recover,
                StepStatus::Started,
                place,
                Some("interrupted".into()),
            )
            .await;
        }
        point("card.recover.before-capture");
        let ok = match &unit.dispenser {
            Some(d) => match d.capture().await {
                Ok(_) => true,
                Err(e) => {
                    tracing::error!(error = %e, "recovery could not capture the card");
                    false
                }
            },
            None => false,
        };
        report.action = if ok { "captured" } else { "capture-failed" }.into();
        Some(ok)
    } else {
        None
    };
    let Some(a) = open else {
        if captured.is_some() {
            alert(store, "card.orphan", "A card with no unfinished attempt was found in the dispenser at start-up and captured into the reject bin.").await;
        }
        return report;
    };
    let place = match captured {
        Some(true) => CardPlace::RejectBin,
        Some(false) => match status.map(|s| s.card) {
            Some(CardPosition::AtGate) => CardPlace::Gate,
            _ => CardPlace::Inside,
        },
        None if status.is_none() => CardPlace::Unknown,
        None => match (a.step, a.step_status) {
            (CardStep::Begin, _)
            | (CardStep::Dispense, StepStatus::Started | StepStatus::Failed) => {
                if a.position == CardPlace::Hopper {
                    CardPlace::Hopper
                } else {
                    CardPlace::Missing
                }
            }
            (CardStep::Capture | CardStep::Recover, _) => CardPlace::RejectBin,
            _ => CardPlace::Missing,
        },
    };
    match place {
        CardPlace::Missing => {
            alert(store, "card.missing", &format!("Card of attempt {} ({}) is not in the machine after an interruption; it was last at the {}: probably taken by the resident. Check with the holder.", a.id, a.holder_masked, a.position)).await;
        }
        CardPlace::Unknown => {
            alert(store, "card.unknown", &format!("The dispenser could not be asked where the card of attempt {} is; check the machine.", a.id)).await;
        }
        CardPlace::Inside | CardPlace::Gate => {
            alert(store, "card.stuck", &format!("The card of attempt {} could not be captured after an interruption; it is still in the machine.", a.id)).await;
        }
        _ => {}
    }
    let store2 = store.clone();
    let id = a.id;
    match blocking(move || store2.finish_card_failed(id, "interrupted", place, now_ms())).await {
        Ok(_) => {
            tracing::warn!(attempt = %id, position = %place, "interrupted card attempt recorded failed");
        }
        Err(e) => {
            tracing::error!(error = %e, attempt = %id, "could not record the interrupted card attempt");
        }
    }
    report.position = Some(place.as_str().into());
    report
}

/// The dispenser's status once it is online (`None` if it does not come online in time).
async fn dispenser_status(
    d: &kiosk_dispenser::Handle,
    wait: Duration,
) -> Option<kiosk_dispenser::Status> {
    let mut state = d.device_status();
    let online = tokio::time::timeout(wait, async {
        loop {
            if state.borrow_and_update().state.is_usable() {
                return;
            }
            if state.changed().await.is_err() {
                return;
            }
        }
    })
    .await;
    if online.is_err() {
        tracing::error!("the dispenser did not come online for recovery");
        return None;
    }
    d.status().await.ok()
}

// ----- news for the journeys and staff ---------------------------------------------------

/// Forwards the card unit's news: the dispenser's state (as the dispenser and, through its
/// contact reader, the encoder), its stock as `Event::CardStock`, the card printer's state;
/// and raises staff alerts for hopper low or empty, reject bin full and jams.
pub fn forward(rt: &tokio::runtime::Handle, unit: &CardUnit, store: &Arc<Store>, poster: &Poster) {
    // A part not fitted switches card issuing off (a device never heard of counts as fine).
    let absent = |device| {
        poster.post(Event::DeviceChanged {
            device,
            status: DeviceStatus::new(DeviceState::NoDevice, "not fitted"),
        });
    };
    if unit.dispenser.is_none() {
        absent(DeviceClass::Dispenser);
    }
    if unit.encoder.is_none() {
        absent(DeviceClass::Encoder);
    }
    if unit.printer.is_none() {
        absent(DeviceClass::CardPrinter);
    }
    if let Some(d) = &unit.dispenser {
        let mut events = d.subscribe();
        let (ev_store, ev_poster) = (store.clone(), poster.clone());
        // The stock as already known (events only tell changes).
        if let Some(status) = *d.last_status().borrow() {
            ev_poster.post(Event::CardStock {
                hopper: status.hopper,
                reject_bin: status.reject_bin,
            });
        }
        rt.spawn(async move {
            loop {
                match events.recv().await {
                    Ok(event) => on_dispenser_event(&event, &ev_store, &ev_poster).await,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        let mut status = d.device_status();
        let via_dispenser = unit.encoder == Some(Encoder::Dispenser);
        let poster = poster.clone();
        rt.spawn(async move {
            loop {
                let current = status.borrow_and_update().clone();
                poster.post(Event::DeviceChanged {
                    device: DeviceClass::Dispenser,
                    status: current.clone(),
                });
                if via_dispenser {
                    poster.post(Event::DeviceChanged {
                        device: DeviceClass::Encoder,
                        status: current,
                    });
                }
                if status.changed().await.is_err() {
                    break;
                }
            }
        });
    }
    let printer = unit.printer.clone();
    let problem = unit.printer_problem.clone().or_else(|| {
        unit.faces
            .is_none()
            .then(|| "the card face fonts could not be loaded".to_owned())
    });
    let every = unit.timing.printer_watch;
    let (store, poster) = (store.clone(), poster.clone());
    if printer.is_none() && problem.is_none() {
        return;
    }
    rt.spawn(async move {
        let mut last: Option<DeviceStatus> = None;
        loop {
            let status = match (&printer, &problem) {
                (_, Some(p)) => DeviceStatus::new(DeviceState::HardwareError, p.clone()),
                (Some(printer), None) => {
                    let printer = printer.clone();
                    tokio::task::spawn_blocking(move || card_printer_status(&printer))
                        .await
                        .unwrap_or_else(|e| DeviceStatus::new(DeviceState::Offline, e.to_string()))
                }
                (None, None) => return,
            };
            if last.as_ref() != Some(&status) {
                if status.state != DeviceState::Online {
                    alert(
                        &store,
                        "card.printer",
                        &format!(
                            "Card printer: {}",
                            status.detail.clone().unwrap_or_default()
                        ),
                    )
                    .await;
                }
                poster.post(Event::DeviceChanged {
                    device: DeviceClass::CardPrinter,
                    status: status.clone(),
                });
                last = Some(status);
            }
            tokio::time::sleep(every).await;
        }
    });
}

fn card_printer_status(printer: &SharedCardPrinter) -> DeviceStatus {
    let Ok(mut p) = printer.lock() else {
        return DeviceStatus::new(DeviceState::HardwareError, "card printer lock poisoned");
    };
    match p.status() {
        Ok(s) if s.ready() => DeviceStatus::online(),
        Ok(s) if s.ribbon_out() => DeviceStatus::new(DeviceState::HardwareError, "ribbon out"),
        Ok(s) if s.jammed() => DeviceStatus::new(DeviceState::HardwareError, "card jam"),
        Ok(s) => DeviceStatus::new(DeviceState::HardwareError, s.reasons.join(", ")),
        Err(e) => DeviceStatus::new(DeviceState::Offline, e.to_string()),
    }
}

async fn on_dispenser_event(event: &DispenserEvent, store: &Arc<Store>, poster: &Poster) {
    match event {
        DispenserEvent::StatusChanged(status) => poster.post(Event::CardStock {
            hopper: status.hopper,
            reject_bin: status.reject_bin,
        }),
        DispenserEvent::HopperLow => {
            alert(
                store,
                "card.hopper-low",
                "Few blank cards are left in the card hopper: refill it soon.",
            )
            .await;
        }
        DispenserEvent::HopperEmpty => {
            alert(
                store,
                "card.hopper-empty",
                "The card hopper is empty: refill it. Card issuing is switched off until then.",
            )
            .await;
        }
        DispenserEvent::RejectBinFull => {
            alert(store, "card.reject-bin-full", "The reject bin of the card dispenser is full: empty it. Card issuing is switched off until then.").await;
        }
        DispenserEvent::Jam { code } => {
            alert(
                store,
                "card.jam",
                &format!("Card dispenser fault {code}: clear it."),
            )
            .await;
        }
        _ => {}
    }
}

/// Whether the stock lets cards be made: for the technician command's report.
pub fn stock_ok(hopper: HopperLevel, bin: RejectBin) -> bool {
    hopper != HopperLevel::Empty && bin != RejectBin::Full
}

/// Standard base64 (with or without padding); `None` for anything else.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let body = clean
        .strip_suffix(b"==")
        .or_else(|| clean.strip_suffix(b"="))
        .unwrap_or(&clean);
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= value(*c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        match chunk.len() {
            4 => out.extend_from_slice(&bytes[1..4]),
            3 => out.extend_from_slice(&bytes[1..3]),
            2 => out.push(bytes[1]),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_decodes_padded_and_unpadded() {
        assert_eq!(super::base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(super::base64_decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(super::base64_decode("aGk=").unwrap(), b"hi");
        assert_eq!(super::base64_decode("YWJj").unwrap(), b"abc");
        assert!(super::base64_decode("a$==").is_none());
    }
}
