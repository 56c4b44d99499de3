//! Technician command line: `kiosk device encoder --reader NAME apdu HEX` (or through the
//! dispenser's contact reader with `--dispenser PORT`), and `kiosk sim card` to plug the
//! virtual card into vpcd by hand.

use std::process::ExitCode;

use anyhow::Context;
use kiosk_link::Port;

use crate::apdu::parse_hex;
use crate::card::{CardProfile, CardStock, VirtualCard};
use crate::crt591::Crt591Transport;
use crate::pcsc_transport::PcscTransport;
use crate::transport::{ApduTransport, exchange_raw};

/// `kiosk device encoder …`
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("via").required(true).args(["reader", "dispenser"])))]
pub struct DeviceArgs {
    /// PC/SC reader name (exact, or a unique part of it), e.g. "Virtual PCD 00 00".
    #[arg(long)]
    pub reader: Option<String>,
    /// Use the CRT-591 dispenser's contact reader at this port instead (the card must be at
    /// the IC position).
    #[arg(long)]
    pub dispenser: Option<Port>,
    /// Dispenser address (0–15), with --dispenser.
    #[arg(long, default_value_t = 0)]
    pub address: u8,
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Action {
    /// Send one APDU (hex, spaces allowed) and print the response and the status word.
    Apdu {
        /// The command APDU, e.g. "00A40400 0F 7378312E73682EC9E7BBE1B1A3D5CF".
        hex: String,
    },
}

/// What `apdu` prints.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApduJson {
    /// Response data (hex, without the status word).
    pub data: String,
    /// Status word, e.g. "9000".
    pub sw: String,
    /// What the status word means.
    pub meaning: String,
}

/// Sends the APDU through a connected transport.
pub fn apdu_json(t: &mut dyn ApduTransport, hex_text: &str) -> anyhow::Result<ApduJson> {
    let bytes = parse_hex(hex_text).map_err(anyhow::Error::msg)?;
    let response = exchange_raw(t, &bytes).map_err(anyhow::Error::msg)?;
    Ok(ApduJson {
        data: hex::encode_upper(&response.data),
        sw: format!("{:04X}", response.sw.0),
        meaning: response.sw.meaning(),
    })
}

fn run_on(t: &mut dyn ApduTransport, action: &Action) -> anyhow::Result<ApduJson> {
    t.connect()
        .with_context(|| format!("no card on {}", t.describe()))?;
    let Action::Apdu { hex } = action;
    let result = apdu_json(t, hex);
    let _ = t.disconnect();
    result
}

/// Runs the action and prints JSON on stdout.
pub fn run_device(args: DeviceArgs) -> anyhow::Result<ExitCode> {
    let DeviceArgs {
        reader,
        dispenser,
        address,
        action,
    } = args;
    let json = match (reader, dispenser) {
        (Some(name), _) => {
            let mut t = PcscTransport::open(&name)?;
            run_on(&mut t, &action)?
        }
        (None, Some(port)) => {
            let mut driver =
                kiosk_dispenser::Driver::open(&port, address, kiosk_dispenser::Timeouts::default())
                    .with_context(|| format!("cannot open the dispenser at {port}"))?;
            driver.start().context("initialising the dispenser")?;
            let mut t = Crt591Transport::new(driver, kiosk_dispenser::Vcc::Iso5V);
            run_on(&mut t, &action)?
        }
        (None, None) => anyhow::bail!("give --reader NAME or --dispenser PORT"),
    };
    println!("{}", serde_json::to_string(&json)?);
    Ok(ExitCode::SUCCESS)
}

/// `kiosk sim card …`
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Where vpcd listens.
    #[arg(long, default_value = "127.0.0.1:35963")]
    pub vpcd: String,
    /// Answer with 61xx and wait for GET RESPONSE, as T=0 cards do.
    #[arg(long)]
    pub t0: bool,
}

/// Plugs a blank virtual card into vpcd and serves it until killed or until vpcd hangs up.
pub fn run_sim(args: SimArgs) -> anyhow::Result<ExitCode> {
    let SimArgs { vpcd, t0 } = args;
    let card = VirtualCard::new(CardProfile {
        t0_get_response: t0,
        ..CardProfile::default()
    });
    let attachment = crate::vpcd::attach(card, vpcd.as_str())
        .with_context(|| format!("cannot reach vpcd at {vpcd} (is pcscd running?)"))?;
    eprintln!("virtual social security card attached to vpcd at {vpcd}");
    while attachment.is_attached() {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    attachment.detach()?;
    Ok(ExitCode::SUCCESS)
}

/// `kiosk sim dispenser …` with a virtual social security chip on every card in the hopper,
/// so CM 51 APDUs (and `kiosk device encoder --dispenser PORT apdu HEX`) work against it.
pub fn run_dispenser_sim(args: kiosk_dispenser::cli::SimArgs) -> anyhow::Result<ExitCode> {
    let stock = CardStock::new(CardProfile::default());
    kiosk_dispenser::cli::run_sim_with_chips(args, Some(stock.factory()))
}
