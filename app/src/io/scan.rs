//! Scanning a material's pages into this session's scan folder, with progress, and telling
//! the resident in plain words when the scanner jams or finds no paper.

use kiosk_scanner::ScanSettings;

use super::KioskIo;
use crate::bi;
use crate::domain::text::Bilingual;
use crate::flows::SessionId;
use crate::flows::event::{Completion, ScannedPage};

pub fn scan(io: &KioskIo, session: SessionId, material: String) {
    let done = io.done(session);
    let Some(scanner) = io.services.scanner.clone() else {
        done(Completion::ScanFailed {
            material,
            reason: bi!(
                "扫描仪暂时不能使用。您可以选择以后补交，或到窗口办理。",
                "The scanner is not available. You may supply it later or go to the service window."
            ),
        });
        return;
    };
    let settings = ScanSettings {
        max_pages: 1,
        ..ScanSettings::default()
    };
    let mut events = scanner.subscribe();
    let progress_done = done.clone();
    let progress_material = material.clone();
    let watcher = io.tokio.spawn(async move {
        while let Ok(event) = events.recv().await {
            if let kiosk_scanner::ScanEvent::Progress {
                bytes_read,
                bytes_expected: Some(total),
                ..
            } = event
                && total > 0
            {
                let percent = u8::try_from(bytes_read.saturating_mul(100) / total).unwrap_or(100);
                progress_done(Completion::ScanProgress {
                    material: progress_material.clone(),
                    percent,
                });
            }
        }
    });
    io.tokio.spawn(async move {
        let result = scanner.scan(settings).await;
        watcher.abort();
        match result {
            Ok(pages) if pages.is_empty() => done(Completion::ScanFailed {
                material,
                reason: bi!(
                    "没有扫描到纸张，请放好材料再试一次。",
                    "No page was scanned. Please place the document and try again."
                ),
            }),
            Ok(pages) => {
                for p in pages {
                    done(Completion::ScanPage {
                        material: material.clone(),
                        page: ScannedPage {
                            sha256: p.sha256.clone(),
                            thumbnail: p.thumbnail.clone(),
                        },
                    });
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "scan failed");
                done(Completion::ScanFailed {
                    material,
                    reason: Bilingual::new(e.resident_message_zh(), e.resident_message_en()),
                });
            }
        }
    });
}
