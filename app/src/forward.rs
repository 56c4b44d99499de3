//! Device and platform news to the session: cards read, device states, and whether the
//! platform answers. Each source runs as a task that posts events to the UI thread.

use std::future::Future;
use std::sync::Arc;

use kiosk_link::DeviceStatus;
use tokio::sync::watch;

use crate::assemble::Kiosk;
use crate::bi;
use crate::domain::text::Bilingual;
use crate::flows::availability::DeviceClass;
use crate::flows::event::Event;
use crate::runtime::Poster;

/// Starts the forwarding tasks on the kiosk's runtime.
pub fn start(kiosk: &Kiosk, poster: &Poster) {
    let rt = kiosk.tokio.handle();
    let d = &kiosk.devices;
    if let Some(reader) = &d.idcard {
        let mut events = reader.subscribe();
        let cards = poster.clone();
        rt.spawn(async move {
            loop {
                match events.recv().await {
                    Ok(event) => {
                        if let Some(e) = card_event(event) {
                            cards.post(e);
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        spawn(
            rt,
            watch_status(reader.status(), DeviceClass::IdCard, poster.clone()),
        );
    }
    if let Some(printer) = &d.printer {
        spawn(
            rt,
            watch_status(printer.status(), DeviceClass::Printer, poster.clone()),
        );
    }
    if let Some(scanner) = &d.scanner {
        spawn(
            rt,
            watch_status(scanner.status(), DeviceClass::Scanner, poster.clone()),
        );
    }
    if let Some(locker) = &d.locker {
        spawn(
            rt,
            watch_status(locker.device_status(), DeviceClass::Locker, poster.clone()),
        );
    }
    crate::io::cards::forward(rt, &d.cards, &kiosk.store, poster);
    // The platform is reachable as far as the latest news says: a heartbeat answered or not,
    // or a delivery that went through or failed.
    let mut sync = kiosk.sync.clone();
    let mut beat = kiosk.heartbeat.clone();
    let poster = poster.clone();
    rt.spawn(async move {
        let mut last = None;
        let mut reachable = *beat.borrow_and_update() && sync.borrow_and_update().reachable;
        loop {
            if last != Some(reachable) {
                poster.post(Event::PlatformChanged { reachable });
                last = Some(reachable);
            }
            tokio::select! {
                changed = sync.changed() => {
                    if changed.is_err() { break; }
                    reachable = sync.borrow_and_update().reachable;
                }
                changed = beat.changed() => {
                    if changed.is_err() { break; }
                    reachable = *beat.borrow_and_update();
                }
            }
        }
    });
}

fn spawn(rt: &tokio::runtime::Handle, task: impl Future<Output = ()> + Send + 'static) {
    rt.spawn(task);
}

async fn watch_status(
    mut status: watch::Receiver<DeviceStatus>,
    device: DeviceClass,
    poster: Poster,
) {
    loop {
        let current = status.borrow_and_update().clone();
        tracing::info!(device = ?device, state = ?current.state, "device state");
        poster.post(Event::DeviceChanged {
            device,
            status: current,
        });
        if status.changed().await.is_err() {
            break;
        }
    }
}

fn card_event(event: kiosk_idcard::handle::Event) -> Option<Event> {
    use kiosk_idcard::handle::Event as Card;
    match event {
        Card::CardPresented(identity) => Some(Event::CardPresented(Box::new(
            Arc::unwrap_or_clone(identity),
        ))),
        Card::CardRemoved => Some(Event::CardRemoved),
        Card::CardReadFailed(error) => Some(Event::CardUnreadable(unreadable(&error))),
        Card::CardDetected => None,
    }
}

/// What a resident is told when a card is on the reader but could not be used.
fn unreadable(error: &kiosk_idcard::error::Error) -> Bilingual {
    tracing::warn!(error = %error, "card not read");
    match error {
        kiosk_idcard::error::Error::Identity(_) => bi!(
            "这张证件的信息校验不通过，不能使用。这不是您的问题，请到综合窗口办理。",
            "This card's data failed its check and cannot be used. It is not your fault; please go to the service window."
        ),
        _ => bi!(
            "没有读出身份证。请把身份证平放在读卡区，不要移动，稍等两秒。",
            "The card could not be read. Please lay it flat on the reader and keep it still for two seconds."
        ),
    }
}
