//! Staff-mode effects: sign-in against the stored argon2 hash, the overview (outbox, lockers,
//! alerts), device self-tests, an immediate sync, and loading and recall of the lockers under
//! the same door checks as a pickup.

use std::sync::Arc;

use super::KioskIo;
use super::locker::{finish_when_shut, open_door};
use crate::bi;
use crate::domain::locker::{Actor, ItemState, Operation, ReadyApplication, Size};
use crate::domain::text::Bilingual;
use crate::flows::event::{Completion, LookupFailure};
use crate::flows::staff::{CompartmentView, StaffCompletion, StaffEffect, StaffOverview};
use crate::outbox::now_ms;
use crate::store::StaffPolicy;

fn store_trouble() -> Bilingual {
    bi!(
        "本机数据库暂时不能读写，请联系技术支持",
        "The kiosk's database cannot be used right now; call technical support"
    )
}

pub(super) fn run(io: &KioskIo, effect: StaffEffect) {
    let s = io.services.clone();
    match effect {
        StaffEffect::SignIn { session, id, pin } => {
            let done = io.done(session);
            // argon2 is deliberately slow: off the async workers.
            io.tokio.spawn_blocking(move || {
                let result = s
                    .store
                    .staff_sign_in(&id, &pin, &StaffPolicy::default(), now_ms())
                    .map_err(|e| {
                        tracing::error!(error = %e, "staff sign-in failed");
                        store_trouble()
                    });
                drop(pin);
                done(Completion::Staff(StaffCompletion::SignedIn(result)));
            });
        }
        StaffEffect::Overview { session } => {
            let done = io.done(session);
            io.tokio.spawn_blocking(move || {
                let result = overview(&s).map_err(|e| {
                    tracing::error!(error = %e, "staff overview failed");
                    store_trouble()
                });
                done(Completion::Staff(StaffCompletion::Overview(result)));
            });
        }
        StaffEffect::SyncNow { session } => {
            let done = io.done(session);
            s.outbox.notify_one();
            let pending = s.store.outbox_stats().map_or(0, |x| x.pending);
            done(Completion::Staff(StaffCompletion::Notice(Bilingual {
                zh: format!("已开始上报，待上报 {pending} 件"),
                en: format!("Sending now; {pending} waiting"),
            })));
        }
        StaffEffect::SelfTest { session, device } => {
            let done = io.done(session);
            io.tokio.spawn(async move {
                let text = self_test(&s, &device).await;
                done(Completion::Staff(StaffCompletion::Notice(text)));
            });
        }
        StaffEffect::FetchReady { session } => {
            let done = io.done(session);
            io.tokio.spawn(async move {
                let result = match crate::platform::lockers_ready(&s.platform).await {
                    Ok(list) => {
                        // What is already in a compartment is not offered again.
                        let store = s.store.clone();
                        let loaded: Vec<uuid::Uuid> = tokio::task::spawn_blocking(move || {
                            store.locker_active().unwrap_or_default()
                        })
                        .await
                        .unwrap_or_default()
                        .into_iter()
                        .map(|i| i.application_id)
                        .collect();
                        Ok(list
                            .into_iter()
                            .filter(|a| !loaded.contains(&a.application_id))
                            .collect())
                    }
                    Err(LookupFailure::Unavailable) => Err(bi!(
                        "连不上政务服务平台，暂时取不到待放入的证件清单",
                        "The platform cannot be reached, so the list of documents to load is not available"
                    )),
                    Err(LookupFailure::NotFound) => Ok(Vec::new()),
                };
                done(Completion::Staff(StaffCompletion::Ready(result)));
            });
        }
        StaffEffect::Deposit {
            session,
            staff,
            compartment,
            ready,
        } => {
            let done = io.done(session);
            io.tokio.spawn(async move {
                let text = deposit(&s, &staff, &compartment, &ready).await;
                done(Completion::Staff(StaffCompletion::Notice(text)));
            });
        }
        StaffEffect::Recall {
            session,
            staff,
            compartment,
        } => {
            let done = io.done(session);
            io.tokio.spawn(async move {
                let text = recall(&s, &staff, &compartment).await;
                done(Completion::Staff(StaffCompletion::Notice(text)));
            });
        }
    }
}

fn size_of(bank: Option<&kiosk_locker::Bank>, label: &str) -> Size {
    bank.and_then(|b| b.compartments().iter().find(|c| c.label == label))
        .map_or(Size::M, |c| c.size)
}

/// The store's view for staff: outbox, every compartment with what is in it, open alerts.
fn overview(s: &super::Services) -> Result<StaffOverview, crate::store::StoreError> {
    let stats = s.store.outbox_stats()?;
    let active = s.store.locker_active()?;
    let cutoff = now_ms() - i64::from(s.overdue_after_days) * 86_400_000;
    let overdue: Vec<uuid::Uuid> = s
        .store
        .locker_recall_list(cutoff)?
        .into_iter()
        .map(|i| i.id)
        .collect();
    let bank = s.locker.as_ref().map(kiosk_locker::LockerHandle::bank);
    let labels: Vec<String> = bank.map_or_else(Vec::new, |b| {
        b.compartments().iter().map(|c| c.label.clone()).collect()
    });
    let compartments = labels
        .into_iter()
        .map(|label| {
            let item = active.iter().find(|i| i.compartment == label);
            CompartmentView {
                size: size_of(bank, &label),
                item: item.map(|i| format!("{} {}", i.case_number, i.applicant_masked)),
                attention: item.and_then(|i| match i.state {
                    ItemState::Jammed => Some("门锁卡住，需检查".to_owned()),
                    ItemState::Check => Some("需检查柜内".to_owned()),
                    _ if overdue.contains(&i.id) => Some("超期未取".to_owned()),
                    _ => None,
                }),
                label,
            }
        })
        .collect();
    let alerts = s
        .store
        .locker_open_alerts()?
        .into_iter()
        .map(|a| format!("{} {}: {}", a.compartment, a.kind.as_str(), a.detail))
        .collect();
    Ok(StaffOverview {
        outbox_pending: stats.pending,
        outbox_failing: stats.retrying,
        compartments,
        alerts,
    })
}

/// Asks a device how it is now, where its driver can.
async fn self_test(s: &Arc<super::Services>, device: &str) -> Bilingual {
    match device {
        "locker" => match &s.locker {
            Some(locker) => match locker.status().await {
                Ok(status) => {
                    let boards = status.boards.len();
                    let online = status.boards.iter().filter(|b| b.online).count();
                    Bilingual {
                        zh: format!("取件柜自检：{online}/{boards} 块锁控板应答"),
                        en: format!("Locker self-test: {online} of {boards} boards answer"),
                    }
                }
                Err(e) => Bilingual {
                    zh: format!("取件柜自检失败：{e}"),
                    en: format!("Locker self-test failed: {e}"),
                },
            },
            None => bi!("本机没有取件柜", "This kiosk has no locker"),
        },
        "printer" => match &s.printer {
            Some(printer) => match printer.read_status().await {
                Ok(status) => Bilingual {
                    zh: format!("打印机自检：{status:?}"),
                    en: format!("Printer self-test: {status:?}"),
                },
                Err(e) => Bilingual {
                    zh: format!("打印机自检失败：{e}"),
                    en: format!("Printer self-test failed: {e}"),
                },
            },
            None => bi!("本机没有打印机", "This kiosk has no printer"),
        },
        _ => bi!(
            "这台设备的状态见上方（由驱动持续检测）",
            "This device's state is shown above (its driver checks it continuously)"
        ),
    }
}

/// A fresh 8-digit pickup code (kept only hashed; the platform texts it to the resident).
fn pickup_code() -> String {
    let n: u32 = rand::random_range(0..100_000_000);
    format!("{n:08}")
}

async fn deposit(
    s: &Arc<super::Services>,
    staff: &str,
    compartment: &str,
    ready: &ReadyApplication,
) -> Bilingual {
    let Some(locker) = s.locker.clone() else {
        return bi!("本机没有取件柜", "This kiosk has no locker");
    };
    let item = uuid::Uuid::now_v7();
    let store = s.store.clone();
    let (r, c, st) = (ready.clone(), compartment.to_owned(), staff.to_owned());
    let begun = tokio::task::spawn_blocking(move || {
        store.locker_begin_deposit(item, &r, &c, &st, now_ms())
    })
    .await;
    if !matches!(begun, Ok(Ok(()))) {
        return Bilingual {
            zh: format!("{compartment} 已被占用或该申请已在柜中，未开门"),
            en: format!(
                "{compartment} is taken or the application is already loaded; nothing opened"
            ),
        };
    }
    let result = open_door(s, &locker, item, compartment).await;
    if !result.door_open() {
        return Bilingual {
            zh: format!(
                "{compartment} 号柜门没有打开（{}），已记录并取消放入",
                result.as_str()
            ),
            en: format!(
                "Door {compartment} did not open ({}); recorded, nothing loaded",
                result.as_str()
            ),
        };
    }
    if finish_when_shut(s, &locker, compartment, item, &pickup_code()).await {
        Bilingual {
            zh: format!(
                "已放入 {compartment} 号柜：{}。平台将短信通知申请人取件码",
                ready.case_number
            ),
            en: format!(
                "Loaded into {compartment}: {}. The platform will text the pickup code",
                ready.case_number
            ),
        }
    } else {
        store_trouble()
    }
}

async fn recall(s: &Arc<super::Services>, staff: &str, compartment: &str) -> Bilingual {
    let Some(locker) = s.locker.clone() else {
        return bi!("本机没有取件柜", "This kiosk has no locker");
    };
    let store = s.store.clone();
    let (c, st) = (compartment.to_owned(), staff.to_owned());
    let begun = tokio::task::spawn_blocking(move || {
        let item = store
            .locker_active()?
            .into_iter()
            .find(|i| i.compartment == c);
        match item {
            Some(i) => {
                store.locker_begin(i.id, Operation::Recall, &Actor::Staff { id: st }, now_ms())
            }
            None => Ok(None),
        }
    })
    .await;
    let Ok(Ok(Some(item))) = begun else {
        return Bilingual {
            zh: format!("{compartment} 号柜里没有可取回的证件"),
            en: format!("Nothing to recall in {compartment}"),
        };
    };
    let result = open_door(s, &locker, item.id, compartment).await;
    if !result.door_open() {
        return Bilingual {
            zh: format!(
                "{compartment} 号柜门没有打开（{}），已记录",
                result.as_str()
            ),
            en: format!(
                "Door {compartment} did not open ({}); recorded",
                result.as_str()
            ),
        };
    }
    if finish_when_shut(s, &locker, compartment, item.id, "").await {
        Bilingual {
            zh: format!("已从 {compartment} 号柜取回：{}", item.case_number),
            en: format!("Recalled from {compartment}: {}", item.case_number),
        }
    } else {
        store_trouble()
    }
}
