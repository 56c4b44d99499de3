//! The slips the kiosk prints, each built in one place from plain data. The app maps its
//! domain onto these structs; nothing here knows the app.
//!
//! Layout rules for elderly readers: a large title; right under it, in a box at double size,
//! the one thing the resident must do next; then sections with bold double-height headings;
//! numbered lists; a QR code with a plain caption; the consultation phone on every slip.
//! Personal data arrives already masked (ID numbers show the first 4 and last 4 only); the
//! builder refuses an ID that looks unmasked.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::font::CjkFont;
use crate::layout::{Align, SlipBytes, SlipError, SlipWriter};
use crate::profile::PrinterProfile;

/// A person's name. Personal data: its `Debug` shows only the length.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct PersonName(pub String);

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonName({} chars)", self.0.chars().count())
    }
}

impl From<&str> for PersonName {
    fn from(s: &str) -> Self {
        PersonName(s.to_owned())
    }
}

/// An ID or card number already masked by the app (e.g. `3301**********1234`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct MaskedNumber(pub String);

impl From<&str> for MaskedNumber {
    fn from(s: &str) -> Self {
        MaskedNumber(s.to_owned())
    }
}

impl MaskedNumber {
    /// At most 8 characters may show (first 4 + last 4); the rest must be masked.
    fn checked(&self) -> Result<&str, SlipError> {
        let shown = self.0.chars().filter(char::is_ascii_alphanumeric).count();
        if shown > 8 || self.0.is_empty() {
            return Err(SlipError::UnmaskedId);
        }
        Ok(&self.0)
    }
}

/// One item of a one-thing and the department responsible for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemLine {
    pub name: String,
    pub department: String,
}

/// A material the resident committed to supply later (容缺受理).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedMaterial {
    pub name: String,
    /// Pre-formatted, e.g. `2024年5月20日前`.
    pub deadline: String,
}

/// Who accepted the application: the self-service kiosk and its window number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedBy {
    pub kiosk_id: String,
    pub window_no: String,
}

/// 受理通知 (DB33/T 2304 6.2.3, DB33/T 2036.2 6.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptanceNotice {
    pub centre_name: String,
    pub application_no: String,
    /// The one-thing, e.g. `出生“一件事”联办`.
    pub one_thing: String,
    pub items: Vec<ItemLine>,
    pub applicant_name: PersonName,
    pub masked_id_number: MaskedNumber,
    pub materials_received: Vec<String>,
    pub materials_committed: Vec<CommittedMaterial>,
    pub accepted_by: AcceptedBy,
    /// Pre-formatted acceptance time, e.g. `2024-05-06 10:30`.
    pub accepted_at: String,
    /// e.g. `4个工作日`.
    pub time_limit: String,
    /// e.g. `2024年5月10日`.
    pub due_date: String,
    /// e.g. `到本中心智能柜凭身份证自取`.
    pub pickup_method: String,
    pub consultation_phone: String,
    /// The progress page (QR payload).
    pub progress_url: String,
    /// The one thing the resident must do next, in a sentence.
    pub next_step: String,
}

/// One material still to supply, with why and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingMaterial {
    pub name: String,
    /// Why it is needed or what was wrong with the one given.
    pub reason: String,
    /// How to supply it (original to the window, scan at the kiosk, locker drop…).
    pub how_to_supply: String,
}

/// 材料补齐补正通知 — one-time notice (一次告知) of everything still to supply
/// (DB33/T 2036.2 6.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingMaterialsNotice {
    pub centre_name: String,
    pub one_thing: String,
    /// Set when the application was accepted on a commitment (容缺受理).
    pub application_no: Option<String>,
    pub applicant_name: PersonName,
    pub masked_id_number: MaskedNumber,
    pub missing: Vec<MissingMaterial>,
    /// e.g. `2024年5月20日前`.
    pub deadline: String,
    /// Where to bring them (address, window, locker).
    pub where_to_supply: String,
    pub issued_by: AcceptedBy,
    pub issued_at: String,
    pub consultation_phone: String,
    /// Optional QR to the full guide.
    pub guide_url: Option<String>,
    pub next_step: String,
}

/// Simplified guide (简版办事指南, birth spec annex C, DB33/T 2304 5.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuideSlip {
    pub centre_name: String,
    /// C.1 事项名称.
    pub name: String,
    /// C.2 适用范围.
    pub scope: String,
    /// The joint items and their departments (5.3.2: 宜注明联办事项).
    pub items: Vec<ItemLine>,
    /// C.3 申请材料.
    pub materials: Vec<String>,
    /// C.4 办结时限.
    pub time_limit: String,
    /// C.5 收费依据及标准.
    pub fees: String,
    /// C.6 结果送达.
    pub delivery: String,
    /// C.7 咨询途径.
    pub consultation: String,
    /// C.8 办公地址和时间.
    pub address_and_hours: String,
    /// QR to the full guide.
    pub full_guide_url: String,
}

/// Receipt for certificates collected from a locker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockerPickupReceipt {
    pub centre_name: String,
    pub application_no: String,
    pub one_thing: String,
    /// What was in the cell.
    pub documents: Vec<String>,
    /// e.g. `A柜 12号格`.
    pub locker: String,
    pub collected_by: PersonName,
    pub masked_id_number: MaskedNumber,
    pub collected_at: String,
    pub consultation_phone: String,
    /// Optional QR to rate the service (好差评), never forced.
    pub evaluation_url: Option<String>,
    pub next_step: String,
}

/// Receipt for a social security card made at the kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardIssuanceReceipt {
    pub centre_name: String,
    /// e.g. `社会保障卡（第三代）`.
    pub card_type: String,
    pub holder_name: PersonName,
    pub masked_id_number: MaskedNumber,
    pub masked_card_number: MaskedNumber,
    /// The bank of the financial account, if any.
    pub bank: Option<String>,
    pub issued_by: AcceptedBy,
    pub issued_at: String,
    /// What is already active and what the holder must still do, one line each.
    pub activation: Vec<String>,
    pub consultation_phone: String,
    pub info_url: Option<String>,
    pub next_step: String,
}

/// A technician's test slip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestSlip {
    pub kiosk_id: String,
    pub printed_at: String,
    pub qr_payload: String,
}

/// Anything the kiosk prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Document {
    Acceptance(AcceptanceNotice),
    MissingMaterials(MissingMaterialsNotice),
    Guide(GuideSlip),
    LockerPickup(LockerPickupReceipt),
    CardIssuance(CardIssuanceReceipt),
    Test(TestSlip),
}

impl Document {
    /// A short name for logs (never content).
    pub fn kind(&self) -> &'static str {
        match self {
            Document::Acceptance(_) => "acceptance_notice",
            Document::MissingMaterials(_) => "missing_materials_notice",
            Document::Guide(_) => "guide_slip",
            Document::LockerPickup(_) => "locker_pickup_receipt",
            Document::CardIssuance(_) => "card_issuance_receipt",
            Document::Test(_) => "test_slip",
        }
    }

    /// Builds the ESC/POS bytes for this printer.
    pub fn build(&self, profile: &PrinterProfile, font: &CjkFont) -> Result<SlipBytes, SlipError> {
        match self {
            Document::Acceptance(d) => acceptance_notice(d, profile, font),
            Document::MissingMaterials(d) => missing_materials_notice(d, profile, font),
            Document::Guide(d) => guide_slip(d, profile, font),
            Document::LockerPickup(d) => locker_pickup_receipt(d, profile, font),
            Document::CardIssuance(d) => card_issuance_receipt(d, profile, font),
            Document::Test(d) => test_slip(d, profile, font),
        }
    }
}

fn non_empty(field: &'static str, value: &str) -> Result<(), SlipError> {
    if value.trim().is_empty() {
        Err(SlipError::Empty { field })
    } else {
        Ok(())
    }
}

/// Title block: the slip's name large and centred, the centre's name under it.
fn title(w: &mut SlipWriter<'_>, title: &str, centre: &str) -> Result<(), SlipError> {
    w.plain()?.align(Align::Centre)?.bold(true)?.size(2, 2)?;
    w.text(title)?;
    w.size(1, 1)?;
    w.text(centre)?;
    w.plain()?;
    Ok(())
}

/// The one thing to do next, boxed and at double size so it is the first thing read.
fn next_step(w: &mut SlipWriter<'_>, s: &str) -> Result<(), SlipError> {
    w.plain()?;
    w.rule('=')?;
    w.bold(true)?.size(1, 2)?;
    w.line("请您注意：")?;
    w.size(2, 2)?;
    w.text(s)?;
    w.plain()?;
    w.rule('=')?;
    Ok(())
}

/// A key fact: label small, value at double size (application number, due date).
fn key_fact(w: &mut SlipWriter<'_>, label: &str, value: &str) -> Result<(), SlipError> {
    w.plain()?.bold(true)?;
    w.line(&format!("{label}："))?;
    w.size(2, 2)?;
    w.text(value)?;
    w.plain()?;
    Ok(())
}

fn footer(w: &mut SlipWriter<'_>, phone: &str) -> Result<(), SlipError> {
    w.plain()?;
    w.rule('-')?;
    w.bold(true)?.size(2, 2)?;
    w.field("咨询电话", phone)?;
    w.plain()?;
    Ok(())
}

/// "1. item（department）" on one line when it fits, else the department under the item.
fn item_lines(w: &mut SlipWriter<'_>, items: &[ItemLine]) -> Result<(), SlipError> {
    for (i, item) in items.iter().enumerate() {
        let first = format!("{}. ", i + 1);
        let one_line = format!("{}（{}）", item.name, item.department);
        if crate::text::width(&first) + crate::text::width(&one_line) <= w.columns() {
            w.line(&format!("{first}{one_line}"))?;
        } else {
            w.hanging(&first, &item.name)?;
            w.hanging(
                &" ".repeat(first.len()),
                &format!("（{}）", item.department),
            )?;
        }
    }
    Ok(())
}

/// 受理通知.
pub fn acceptance_notice(
    d: &AcceptanceNotice,
    profile: &PrinterProfile,
    font: &CjkFont,
) -> Result<SlipBytes, SlipError> {
    non_empty("application_no", &d.application_no)?;
    non_empty("progress_url", &d.progress_url)?;
    let id = d.masked_id_number.checked()?;
    let mut w = SlipWriter::new(profile, font)?;
    title(&mut w, "受理通知", &d.centre_name)?;
    key_fact(&mut w, "申请编号", &d.application_no)?;
    next_step(&mut w, &d.next_step)?;
    key_fact(&mut w, "预计办结日期", &d.due_date)?;
    w.bold(true)?;
    w.field("办理时限", &d.time_limit)?;
    w.field("取件方式", &d.pickup_method)?;
    w.plain()?;

    w.heading("申请人")?;
    w.field("姓名", &d.applicant_name.0)?;
    w.field("身份证号", id)?;

    w.heading("办理事项")?;
    w.text(&d.one_thing)?;
    item_lines(&mut w, &d.items)?;

    w.heading(&format!("已收材料（{}项）", d.materials_received.len()))?;
    if d.materials_received.is_empty() {
        w.text("无")?;
    }
    w.numbered(&d.materials_received)?;

    if !d.materials_committed.is_empty() {
        w.heading(&format!(
            "承诺补交材料（{}项）",
            d.materials_committed.len()
        ))?;
        for (i, m) in d.materials_committed.iter().enumerate() {
            let first = format!("{}. ", i + 1);
            w.hanging(&first, &m.name)?;
            w.bold(true)?;
            w.hanging(&" ".repeat(first.len()), &format!("请于{}补交", m.deadline))?;
            w.bold(false)?;
        }
    }

    w.heading("受理信息")?;
    w.field(
        "受理人",
        &format!(
            "自助终端 {}（{}号窗口）",
            d.accepted_by.kiosk_id, d.accepted_by.window_no
        ),
    )?;
    w.field("受理时间", &d.accepted_at)?;
    footer(&mut w, &d.consultation_phone)?;
    w.line("")?;
    w.qr(&d.progress_url, "手机扫码 查看办理进度")?;
    w.align(Align::Centre)?;
    w.text("请妥善保管本通知")?;
    w.finish()
}

/// 材料补齐补正通知（一次告知）.
pub fn missing_materials_notice(
    d: &MissingMaterialsNotice,
    profile: &PrinterProfile,
    font: &CjkFont,
) -> Result<SlipBytes, SlipError> {
    if d.missing.is_empty() {
        return Err(SlipError::Empty { field: "missing" });
    }
    let id = d.masked_id_number.checked()?;
    let mut w = SlipWriter::new(profile, font)?;
    title(&mut w, "材料补齐通知", &d.centre_name)?;
    w.align(Align::Centre)?;
    w.text("（一次告知）")?;
    w.plain()?;
    next_step(&mut w, &d.next_step)?;
    key_fact(&mut w, "补交期限", &d.deadline)?;

    w.heading(&format!("还需补交的材料（共{}项）", d.missing.len()))?;
    for (i, m) in d.missing.iter().enumerate() {
        let first = format!("{}. ", i + 1);
        let pad = " ".repeat(first.len());
        w.bold(true)?;
        w.hanging(&first, &m.name)?;
        w.bold(false)?;
        w.hanging(&pad, &format!("原因：{}", m.reason))?;
        w.hanging(&pad, &format!("补交方式：{}", m.how_to_supply))?;
    }
    w.bold(true)?;
    w.text("以上是需要补交的全部材料，不会再要求您提供其他材料。")?;
    w.plain()?;

    w.heading("补交地点")?;
    w.text(&d.where_to_supply)?;

    w.heading("办理信息")?;
    w.field("办理事项", &d.one_thing)?;
    if let Some(no) = &d.application_no {
        w.field("申请编号", no)?;
    }
    w.field("申请人", &d.applicant_name.0)?;
    w.field("身份证号", id)?;
    w.field(
        "告知人",
        &format!(
            "自助终端 {}（{}号窗口）",
            d.issued_by.kiosk_id, d.issued_by.window_no
        ),
    )?;
    w.field("告知时间", &d.issued_at)?;
    footer(&mut w, &d.consultation_phone)?;
    if let Some(url) = &d.guide_url {
        w.line("")?;
        w.qr(url, "手机扫码 查看办事指南")?;
    }
    w.finish()
}

/// 简版办事指南 (C.1–C.8) with a QR code to the full guide.
pub fn guide_slip(
    d: &GuideSlip,
    profile: &PrinterProfile,
    font: &CjkFont,
) -> Result<SlipBytes, SlipError> {
    non_empty("name", &d.name)?;
    non_empty("full_guide_url", &d.full_guide_url)?;
    let mut w = SlipWriter::new(profile, font)?;
    title(&mut w, "办事指南", &d.centre_name)?;
    w.plain()?.align(Align::Centre)?.bold(true)?.size(1, 2)?;
    w.text(&d.name)?;
    w.plain()?;
    w.heading("适用范围")?;
    w.text(&d.scope)?;
    if !d.items.is_empty() {
        w.heading(&format!("联办事项（{}项）", d.items.len()))?;
        item_lines(&mut w, &d.items)?;
    }
    w.heading(&format!("申请材料（{}项）", d.materials.len()))?;
    w.numbered(&d.materials)?;
    w.heading("办结时限")?;
    w.text(&d.time_limit)?;
    w.heading("收费标准")?;
    w.text(&d.fees)?;
    w.heading("结果送达")?;
    w.text(&d.delivery)?;
    w.heading("咨询途径")?;
    w.text(&d.consultation)?;
    w.heading("办理地点和时间")?;
    w.text(&d.address_and_hours)?;
    w.plain()?;
    w.rule('-')?;
    w.line("")?;
    w.qr(&d.full_guide_url, "手机扫码 查看完整版办事指南")?;
    w.finish()
}

/// 取件凭证 for a locker pickup.
pub fn locker_pickup_receipt(
    d: &LockerPickupReceipt,
    profile: &PrinterProfile,
    font: &CjkFont,
) -> Result<SlipBytes, SlipError> {
    // Collected by pickup code: no ID number to show (a number given is still checked).
    let id = if d.masked_id_number.0.is_empty() {
        ""
    } else {
        d.masked_id_number.checked()?
    };
    let mut w = SlipWriter::new(profile, font)?;
    title(&mut w, "取件凭证", &d.centre_name)?;
    next_step(&mut w, &d.next_step)?;
    key_fact(&mut w, "柜门", &d.locker)?;
    w.heading(&format!("已取出的材料（{}份）", d.documents.len()))?;
    w.numbered(&d.documents)?;
    w.heading("取件信息")?;
    // A pickup by code knows no ID number, and the locker may not know the one-thing's name:
    // an empty line would only puzzle the reader.
    if !d.one_thing.is_empty() {
        w.field("办理事项", &d.one_thing)?;
    }
    w.field("申请编号", &d.application_no)?;
    w.field("取件人", &d.collected_by.0)?;
    if !id.is_empty() {
        w.field("身份证号", id)?;
    }
    w.field("取件时间", &d.collected_at)?;
    footer(&mut w, &d.consultation_phone)?;
    if let Some(url) = &d.evaluation_url {
        w.line("")?;
        w.qr(url, "欢迎扫码评价本次服务（自愿）")?;
    }
    w.finish()
}

/// 社会保障卡领卡回执.
pub fn card_issuance_receipt(
    d: &CardIssuanceReceipt,
    profile: &PrinterProfile,
    font: &CjkFont,
) -> Result<SlipBytes, SlipError> {
    let id = d.masked_id_number.checked()?;
    let card = d.masked_card_number.checked()?;
    let mut w = SlipWriter::new(profile, font)?;
    title(&mut w, "领卡回执", &d.centre_name)?;
    w.plain()?.align(Align::Centre)?.bold(true)?.size(1, 2)?;
    w.text(&d.card_type)?;
    w.plain()?;
    next_step(&mut w, &d.next_step)?;
    w.heading("持卡人")?;
    w.field("姓名", &d.holder_name.0)?;
    w.field("身份证号", id)?;
    w.field("卡号", card)?;
    if let Some(bank) = &d.bank {
        w.field("开户银行", bank)?;
    }
    w.heading("卡片状态")?;
    w.numbered(&d.activation)?;
    w.heading("发卡信息")?;
    w.field(
        "发卡",
        &format!(
            "自助终端 {}（{}号窗口）",
            d.issued_by.kiosk_id, d.issued_by.window_no
        ),
    )?;
    w.field("发卡时间", &d.issued_at)?;
    footer(&mut w, &d.consultation_phone)?;
    if let Some(url) = &d.info_url {
        w.line("")?;
        w.qr(url, "手机扫码 了解社保卡使用")?;
    }
    w.finish()
}

/// A technician's test slip: paper width ruler, sizes, GB18030 text, `￥`, a rare
/// character as a raster image, a QR code, and the configured cut.
pub fn test_slip(
    d: &TestSlip,
    profile: &PrinterProfile,
    font: &CjkFont,
) -> Result<SlipBytes, SlipError> {
    let mut w = SlipWriter::new(profile, font)?;
    title(&mut w, "打印测试", "TEST PRINT")?;
    w.field("终端", &d.kiosk_id)?;
    w.field("时间", &d.printed_at)?;
    w.field(
        "纸宽",
        &format!("{}mm，每行{}列", profile.paper, profile.paper.columns()),
    )?;
    w.field("切纸", &profile.cut.to_string())?;
    w.heading("列宽标尺")?;
    let cols = w.full_columns();
    let ruler: String = (1..=cols)
        .map(|i| char::from(b'0' + u8::try_from(i % 10).unwrap_or(0)))
        .collect();
    w.line(&ruler)?;
    let hanzi: String = "一二三四五六七八九十"
        .chars()
        .cycle()
        .take(cols / 2)
        .collect();
    w.line(&hanzi)?;
    w.heading("字号")?;
    w.text("正常：便民服务中心")?;
    w.bold(true)?;
    w.text("加粗：便民服务中心")?;
    w.bold(false)?.size(1, 2)?;
    w.text("倍高：便民服务中心")?;
    w.size(2, 2)?;
    w.text("倍宽倍高：便民")?;
    w.plain()?;
    w.heading("字符")?;
    w.text("金额：￥12.50（全角￥）")?;
    w.text("生僻字（图像打印）：𫖯 𬌗")?;
    w.plain()?;
    w.rule('-')?;
    w.qr(&d.qr_payload, "二维码测试")?;
    w.finish()
}
