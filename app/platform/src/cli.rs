//! `kiosk platform-sim`: runs the platform simulator (a stand-in for the provincial platform)
//! until killed. The app's command line embeds [`PlatformSimArgs`] and calls
//! [`run_platform_sim`].

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::sim::{People, SimConfig, Simulator};

/// Arguments of `kiosk platform-sim`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlatformSimArgs {
    /// Address to listen on, e.g. `127.0.0.1:8088` (port 0 picks a free port; the chosen
    /// address is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8088")]
    pub listen: String,
    /// Real time of one simulated working day: `10s`, `500ms`, `2m`, or seconds. `0` freezes
    /// the clock (it then moves only by `POST /sim/clock/advance`).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub day_length: Duration,
    /// Keep the state in this file (a journal) so that a restarted simulator carries on where
    /// it stopped. Without it the state is in memory only.
    #[arg(long, value_name = "PATH")]
    pub state_file: Option<PathBuf>,
    /// Serve the people and shared data of this file instead of the built-in sample
    /// (same shape as resources/sim/platform/people.toml).
    #[arg(long, value_name = "PATH")]
    pub people: Option<PathBuf>,
}

/// Parses `10s`, `250ms`, `2m`, `1h` or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 10s or 500ms"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "s" | "" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("{text:?} is not a duration such as 10s or 500ms")),
    };
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| format!("{text:?} is not a duration such as 10s or 500ms"))
}

/// Runs the simulator until Ctrl-C or SIGTERM. Prints one JSON line on stdout when listening:
/// `{"platform_sim":"listening","url":"http://127.0.0.1:8088","stand_in":true}`.
pub fn run_platform_sim(args: PlatformSimArgs) -> anyhow::Result<ExitCode> {
    let people = match &args.people {
        Some(path) => Some(People::load(path)?),
        None => None,
    };
    let config = SimConfig {
        day_length: (!args.day_length.is_zero()).then_some(args.day_length),
        state_file: args.state_file.clone(),
        people,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let handle = Simulator::start_with(&args.listen, config).await?;
        let line = serde_json::json!({
            "platform_sim": "listening",
            "url": handle.url(),
            "stand_in": true,
        });
        println!("{line}");
        wait_for_stop().await;
        handle.shutdown().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: PlatformSimArgs,
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_mins(2));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn flags() {
        let cli = Cli::try_parse_from([
            "platform-sim",
            "--listen",
            "127.0.0.1:0",
            "--day-length",
            "0",
            "--state-file",
            "/tmp/x.jsonl",
        ])
        .unwrap();
        assert_eq!(cli.args.listen, "127.0.0.1:0");
        assert!(cli.args.day_length.is_zero());
        assert!(cli.args.state_file.is_some());
        let cli = Cli::try_parse_from(["platform-sim"]).unwrap();
        assert_eq!(cli.args.day_length, Duration::from_secs(10));
    }

    #[test]
    fn startup_failures_are_errors_not_hangs() {
        let args = |listen: &str, people: Option<PathBuf>| PlatformSimArgs {
            listen: listen.into(),
            day_length: Duration::ZERO,
            state_file: None,
            people,
        };
        let err = run_platform_sim(args("not an address", None)).unwrap_err();
        assert!(err.to_string().contains("cannot listen"), "{err}");
        let missing =
            run_platform_sim(args("127.0.0.1:0", Some("/nonexistent/people.toml".into())));
        assert!(missing.unwrap_err().to_string().contains("people file"));
    }
}
