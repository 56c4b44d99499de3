//! The whole kiosk through its journeys, every device simulated on the wire and the platform
//! simulator on loopback (see `kiosk_tests::WholeKiosk`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use kiosk_tests::{WholeKiosk, apply_with};
use kiosk_ui as ui;
use slint::ComponentHandle;

/// Home → the birth one-thing → both parents' cards read by the real reader driver → the
/// questions, items and form → materials (everything shared by the simulated platform) →
/// review → `before_submit` → submitted.
fn apply_for_the_newborn_then(k: &WholeKiosk, before_submit: impl Fn(&WholeKiosk)) {
    apply_with(
        k,
        "resident_han.json",
        |k| {
            assert!(
                k.shows("已通过数据共享获取，不用带"),
                "the marriage certificate is shared"
            );
        },
        before_submit,
    );
}

fn apply_for_the_newborn(k: &WholeKiosk) {
    apply_for_the_newborn_then(k, |_| {});
}

/// The number and code on the accepted screen.
fn number_and_code(k: &WholeKiosk) -> (String, String) {
    let page = k.window.window.global::<ui::ApplyPage>();
    (page.get_number().to_string(), page.get_code().to_string())
}

fn delivered_once(k: &WholeKiosk) -> bool {
    let stats = k.platform().stats().applications;
    stats.distinct == 1 && stats.conflicts == 0
}

#[test]
fn the_birth_one_thing_is_accepted_printed_and_reaches_the_platform_once() {
    let k = WholeKiosk::start();
    apply_for_the_newborn(&k);
    let (number, code) = number_and_code(&k);
    assert!(!number.is_empty() && code.len() == 6, "{number} {code}");
    k.wait_shows("受理通知已打印");
    // The printer simulator decoded what the driver sent: the notice, its number and QR.
    let printer = k.sims.printer.as_ref().expect("a simulated printer");
    let slips = printer.slips();
    let notice = slips
        .iter()
        .find(|s| s.text.contains(&number))
        .unwrap_or_else(|| panic!("no slip with {number}: {slips:?}"));
    assert!(notice.complete, "cut after the whole notice");
    assert!(
        !notice.qr_payloads.is_empty(),
        "the notice carries its QR code"
    );
    assert!(
        !notice.text.contains("45010220000229008X"),
        "ID numbers are masked on paper"
    );
    k.wait_until(
        "the platform has it",
        Duration::from_secs(30),
        delivered_once,
    );

    k.tap("完成");
    // The newborn's card is offered next; whatever the platform says, the resident can go on
    // to rate the service.
    k.wait_screen(ui::Screen::CardIssue);
    k.wait_until("the card answer", Duration::from_secs(20), |k| {
        k.shows("完成") || k.shows("暂不制卡")
    });
    if k.shows("暂不制卡") {
        k.tap("暂不制卡");
    } else {
        k.tap("完成");
    }
    k.wait_screen(ui::Screen::Evaluate);
    k.tap("非常满意");
    k.tap("提交评价");
    k.wait_screen(ui::Screen::EvaluateThanks);
    k.wait_until(
        "the rating reaches the platform",
        Duration::from_secs(30),
        |k| k.platform().stats().evaluations.distinct == 1,
    );
    assert!(delivered_once(&k), "still exactly once");
}

#[test]
fn progress_by_the_number_and_code_on_the_notice() {
    let k = WholeKiosk::start();
    apply_for_the_newborn(&k);
    let (number, code) = number_and_code(&k);
    k.wait_until(
        "the platform has it",
        Duration::from_secs(30),
        delivered_once,
    );
    k.tap("完成");
    k.tap("回首页");
    k.wait_screen(ui::Screen::Home);
    k.tap("查询办理进度");
    k.tap("输入受理编号查询");
    k.keys(&number.replace('-', ""));
    k.tap("完成");
    k.keys(&code);
    k.tap("查询");
    k.wait_screen(ui::Screen::ProgressResults);
    assert!(k.shows("户口登记"), "{:?}", k.texts());
}

#[test]
fn with_the_platform_down_the_application_is_accepted_queued_and_delivered_once_later() {
    let k = WholeKiosk::start();
    // The platform goes down while the resident checks the form (the shared data were
    // fetched before).
    apply_for_the_newborn_then(&k, |k| k.platform().set_outage(true));
    k.wait_shows("受理通知已打印");
    // Queued, not lost.
    let pending = k.kiosk.store.outbox_stats().unwrap().pending;
    assert!(pending >= 1, "the application waits in the outbox");
    assert_eq!(k.platform().stats().applications.distinct, 0);
    k.tap("完成");
    k.tap("回首页");
    k.wait_screen(ui::Screen::Home);
    // Progress cannot be asked meanwhile: said in plain words.
    k.wait_until("the kiosk notices", Duration::from_secs(30), |k| {
        k.window
            .window
            .global::<ui::HomePage>()
            .get_progress_paused()
    });
    k.tap("查询办理进度");
    k.wait_screen(ui::Screen::OutOfService);
    assert!(k.shows("暂时连不上政务服务平台"));
    k.tap("返回首页");
    k.platform().set_outage(false);
    k.kiosk.services.outbox.notify_one();
    k.wait_until(
        "delivered after the outage",
        Duration::from_mins(1),
        delivered_once,
    );
    k.wait_until("the outbox empties", Duration::from_secs(30), |k| {
        k.kiosk.store.outbox_stats().unwrap().pending == 0
    });
    assert!(delivered_once(&k), "exactly once");
}

#[test]
fn a_social_security_card_is_made_on_the_spot() {
    let k = WholeKiosk::start();
    k.wait_screen(ui::Screen::Home);
    k.tap("社保卡即时制卡");
    k.wait_screen(ui::Screen::CardIssue);
    k.present_card("resident_rare_name.json");
    k.wait_until("the card data", Duration::from_secs(30), |k| {
        k.shows("请核对制卡信息") || k.shows("现在不能在这里制卡")
    });
    assert!(k.shows("请核对制卡信息"), "{:?}", k.texts());
    assert!(!k.shows("45010220000229008X"), "masked on screen");
    k.remove_card();
    k.tap("信息无误，开始制卡");
    let dispenser = k.sims.dispenser.clone().expect("a simulated dispenser");
    k.wait_until("the card at the slot", Duration::from_mins(1), |k| {
        k.shows("请取走您的社保卡")
    });
    assert!(dispenser.take_card(), "the resident takes the card");
    k.wait_shows("社保卡已制好");
    k.wait_until("the bureau hears of it", Duration::from_secs(30), |k| {
        k.platform().stats().card_results.distinct == 1
    });
}

#[test]
fn the_printer_running_out_of_paper_mid_journey_loses_nothing_and_prints_nothing_later() {
    let k = WholeKiosk::start();
    let printer = k.sims.printer.clone().expect("a simulated printer");
    apply_for_the_newborn_then(&k, |_| printer.set_paper_out(true));
    k.wait_shows("受理通知没能打印出来");
    let (number, code) = number_and_code(&k);
    assert!(
        k.shows(&number) && k.shows(&code),
        "number and code shown large instead"
    );
    assert!(
        printer.slips().iter().all(|s| !s.text.contains(&number)),
        "nothing printed while out of paper"
    );
    // Accepted all the same: it reaches the platform.
    k.wait_until(
        "the platform has it",
        Duration::from_secs(30),
        delivered_once,
    );
    // Paper loaded: printed on request, once.
    printer.set_paper_out(false);
    k.wait_until("the printer is back", Duration::from_secs(20), |k| {
        !k.window.window.global::<ui::HomePage>().get_apply_paused()
    });
    k.tap("再试一次打印");
    k.wait_shows("受理通知已打印");
    let notices = printer
        .slips()
        .iter()
        .filter(|s| s.text.contains(&number))
        .count();
    assert_eq!(notices, 1);
}

#[test]
fn with_the_printer_out_the_journeys_that_need_it_pause_and_the_others_work() {
    let k = WholeKiosk::start();
    k.wait_screen(ui::Screen::Home);
    k.sims.printer.as_ref().unwrap().set_paper_out(true);
    k.wait_until("applying pauses", Duration::from_secs(20), |k| {
        k.window.window.global::<ui::HomePage>().get_apply_paused()
    });
    let home = k.window.window.global::<ui::HomePage>();
    assert!(!home.get_progress_paused() && !home.get_guide_paused());
    k.tap("办理“一件事”");
    k.wait_screen(ui::Screen::OutOfService);
    assert!(k.shows("打印机暂时不能打印"), "{:?}", k.texts());
    k.tap("返回首页");
    k.tap("办事指南");
    k.wait_screen(ui::Screen::GuideLifeStage);
}

#[test]
fn finished_documents_are_loaded_by_staff_and_collected_with_the_parents_id_card() {
    let k = WholeKiosk::start();
    apply_for_the_newborn_then(&k, |k| k.tap("到本中心24小时智能取件柜自取"));
    let (number, _) = number_and_code(&k);
    k.wait_until(
        "the platform has it",
        Duration::from_secs(30),
        delivered_once,
    );
    k.tap("完成");
    k.tap("回首页");
    k.wait_screen(ui::Screen::Home);
    // Weeks later on the platform: every item finished.
    k.platform().advance_days(40.0);

    // Staff load the certificates (the simulated kiosk's sample account).
    k.window
        .window
        .global::<ui::Kiosk>()
        .invoke_start(ui::Journey::Staff);
    k.settle();
    k.keys("1001");
    k.type_into("工作人员密码", "246810");
    k.tap("登录");
    k.wait_shows("设备与运行状态");
    k.tap("放入证件");
    k.wait_shows("选择要放入取件柜的证件");
    k.tap_containing(&number);
    let (board, lock) = k.wait_open_door();
    k.sims.locker.as_ref().unwrap().close(board, lock);
    k.wait_shows("已放入");
    k.tap("退出工作人员模式");
    k.wait_screen(ui::Screen::Home);

    // The father collects them with his ID card; the receipt prints.
    k.tap("取件柜取件");
    k.tap("刷身份证取件");
    k.present_card("resident_han.json");
    k.wait_shows("柜门已打开");
    let (b2, l2) = k.wait_open_door();
    assert_eq!((b2, l2), (board, lock), "the same door");
    k.remove_card();
    k.sims.locker.as_ref().unwrap().close(board, lock);
    k.wait_shows("取件完成");
    let printer = k.sims.printer.as_ref().unwrap();
    k.wait_until("the pickup receipt", Duration::from_secs(20), |_| {
        printer
            .slips()
            .iter()
            .any(|s| s.text.contains(&number) && s.text.contains("取件"))
    });
    k.wait_until("the platform hears of both", Duration::from_secs(30), |k| {
        k.platform().stats().locker_events.distinct == 2
    });
    // KIOSK_KEEP_SLIPS=DIR keeps the printed slips' PNGs to look at.
    if let Ok(dir) = std::env::var("KIOSK_KEEP_SLIPS") {
        for slip in printer.slips() {
            if let Some(png) = &slip.png {
                let name = png.file_name().unwrap();
                std::fs::copy(png, std::path::Path::new(&dir).join(name)).unwrap();
            }
        }
    }
}

/// 巴特尔测试 has no marriage record on the platform: the certificate must be scanned, or
/// promised for later (容缺受理).
const UNMARRIED_FATHER: &str = "resident_mongol_long_address.json";

#[test]
fn a_material_the_platform_cannot_share_is_scanned_and_sent_with_the_application() {
    let k = WholeKiosk::start();
    apply_with(
        &k,
        UNMARRIED_FATHER,
        |k| {
            k.tap("扫描这份材料");
            // SANE's test backend is the scanner: a real scan, page by page.
            k.wait_until("the page", Duration::from_mins(1), |k| {
                k.shows("已扫描 1 页")
            });
        },
        |_| {},
    );
    k.wait_until(
        "the application and its page",
        Duration::from_mins(1),
        |k| {
            let stats = k.platform().stats();
            delivered_once(k) && stats.pages.distinct == 1 && stats.pages.rejected == 0
        },
    );
}

#[test]
fn a_secondary_material_may_follow_later_on_a_written_commitment() {
    let k = WholeKiosk::start();
    apply_with(
        &k,
        UNMARRIED_FATHER,
        |k| {
            k.tap("以后补交");
            assert!(k.shows("承诺以后补交"), "{:?}", k.texts());
        },
        |_| {},
    );
    k.wait_shows("受理通知已打印");
    let (number, _) = number_and_code(&k);
    let printer = k.sims.printer.as_ref().unwrap();
    let notice = printer
        .slips()
        .into_iter()
        .find(|s| s.text.contains(&number))
        .expect("the notice");
    assert!(
        notice.text.contains("结婚证"),
        "the notice names what is owed: {}",
        notice.text
    );
    k.wait_until(
        "the platform has it",
        Duration::from_secs(30),
        delivered_once,
    );
}
