//! The PNG-writing simulator, and the IPP driver against a small IPP server on loopback that
//! answers like CUPS (printer state, reasons, marker levels, jobs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Cursor, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use ipp::prelude::*;
use ipp::value::{IppKeyword, IppName};
use kiosk_cardprinter::{
    CardPrinter, IppPrinter, JobId, JobState, PrintJob, PrinterError, PrinterState, Ribbon,
    SimPrinter,
};

fn job(name: &str) -> PrintJob {
    PrintJob {
        name: name.into(),
        png: b"\x89PNG\r\n\x1a\nfake".to_vec(),
    }
}

#[test]
fn the_simulator_writes_pngs_and_runs_the_ribbon_down() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = SimPrinter::new(dir.path().join("out"), 20).unwrap();
    let control = p.control();
    assert!(p.status().unwrap().ready());
    let id = p.print(&job("attempt-01/../x")).unwrap();
    assert_eq!(p.job_state(id).unwrap(), JobState::Completed);
    let files = control.printed();
    assert_eq!(files.len(), 1);
    assert!(files[0].starts_with(dir.path().join("out")));
    assert!(files[0].ends_with("0001-attempt-01x.png"), "{files:?}");
    assert_eq!(std::fs::read(&files[0]).unwrap(), job("").png);
    assert_eq!(p.status().unwrap().ribbon, Ribbon::Ok { percent: Some(95) });
    control.set_ribbon_left(2);
    let st = p.status().unwrap();
    assert_eq!(st.ribbon, Ribbon::Low { percent: Some(10) });
    assert!(st.ready(), "a low ribbon still prints");
    assert_eq!(st.reasons, vec!["marker-supply-low-warning".to_owned()]);
    p.print(&job("a")).unwrap();
    p.print(&job("b")).unwrap();
    let st = p.status().unwrap();
    assert!(st.ribbon_out() && !st.ready());
    assert_eq!(st.state, PrinterState::Stopped);
    assert!(matches!(p.print(&job("c")), Err(PrinterError::RibbonOut)));
    control.replace_ribbon();
    assert!(p.status().unwrap().ready());
}

#[test]
fn the_simulator_jams_and_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = SimPrinter::new(dir.path(), 100).unwrap();
    let control = p.control();
    control.jam_next();
    let id = p.print(&job("j")).unwrap();
    assert_eq!(p.job_state(id).unwrap(), JobState::Stopped);
    let st = p.status().unwrap();
    assert!(st.jammed() && !st.ready());
    assert!(matches!(p.print(&job("k")), Err(PrinterError::Jam)));
    p.cancel(id).unwrap();
    assert_eq!(p.job_state(id).unwrap(), JobState::Canceled);
    control.set_jam(false);
    control.set_accepting(false);
    assert!(matches!(
        p.print(&job("l")),
        Err(PrinterError::NotAccepting(_))
    ));
    assert!(matches!(
        p.job_state(JobId(99)),
        Err(PrinterError::NoSuchJob(_))
    ));
    assert!(control.printed().is_empty());
}

/// What the fake CUPS reports and what it received.
#[derive(Default)]
struct Cups {
    state: i32,
    reasons: Vec<&'static str>,
    level: i32,
    accepting: bool,
    documents: Vec<(String, Vec<u8>)>,
    jobs: Vec<i32>,
}

fn read_request(stream: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut chunked = false;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let l = line.trim_end().to_ascii_lowercase();
        if l.is_empty() {
            break;
        }
        if l.starts_with("transfer-encoding:") && l.contains("chunked") {
            chunked = true;
        }
        if let Some(v) = l.strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            stream.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; n + 2];
            stream.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        body.resize(length, 0);
        stream.read_exact(&mut body).ok()?;
    }
    Some(body)
}

fn kw(s: &str) -> IppValue {
    IppValue::Keyword(IppKeyword::new_truncated(s))
}

fn attr(name: &str, value: IppValue) -> IppAttribute {
    IppAttribute::new(IppName::new_truncated(name), value)
}

fn answer(cups: &Mutex<Cups>, body: Vec<u8>) -> Vec<u8> {
    let req = ipp::parser::IppParser::new(ipp::reader::IppReader::new(Cursor::new(body)))
        .parse()
        .unwrap();
    let op = req.header().operation_or_status;
    let id = req.header().request_id;
    let mut c = cups.lock().unwrap();
    let mut resp =
        IppRequestResponse::new_response(IppVersion::v1_1(), StatusCode::SuccessfulOk, id).unwrap();
    match op {
        0x000B => {
            let a = resp.attributes_mut();
            a.add(
                DelimiterTag::PrinterAttributes,
                attr("printer-state", IppValue::Enum(c.state)),
            );
            let reasons = if c.reasons.is_empty() {
                vec![kw("none")]
            } else {
                c.reasons.iter().map(|r| kw(r)).collect()
            };
            a.add(
                DelimiterTag::PrinterAttributes,
                attr("printer-state-reasons", IppValue::Array(reasons)),
            );
            a.add(
                DelimiterTag::PrinterAttributes,
                attr("printer-is-accepting-jobs", IppValue::Boolean(c.accepting)),
            );
            a.add(
                DelimiterTag::PrinterAttributes,
                attr("marker-types", IppValue::Array(vec![kw("ribbon-wax")])),
            );
            a.add(
                DelimiterTag::PrinterAttributes,
                attr(
                    "marker-levels",
                    IppValue::Array(vec![IppValue::Integer(c.level)]),
                ),
            );
            a.add(
                DelimiterTag::PrinterAttributes,
                attr(
                    "marker-low-levels",
                    IppValue::Array(vec![IppValue::Integer(15)]),
                ),
            );
        }
        0x0002 => {
            let title = req
                .attributes()
                .first_of(DelimiterTag::OperationAttributes)
                .and_then(|g| g.get("job-name"))
                .map(|a| a.value().to_string())
                .unwrap_or_default();
            let mut doc = Vec::new();
            req.into_payload().read_to_end(&mut doc).unwrap();
            c.documents.push((title, doc));
            let job_id = 100 + i32::try_from(c.jobs.len()).unwrap();
            c.jobs.push(job_id);
            resp.attributes_mut().add(
                DelimiterTag::JobAttributes,
                attr("job-id", IppValue::Integer(job_id)),
            );
        }
        0x0009 => {
            resp.attributes_mut().add(
                DelimiterTag::JobAttributes,
                attr("job-state", IppValue::Enum(9)),
            );
        }
        0x0008 => {}
        _ => {
            resp.header_mut().operation_or_status = 0x0501;
        }
    }
    resp.to_bytes().to_vec()
}

fn serve(cups: Arc<Mutex<Cups>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let cups = cups.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                while let Some(body) = read_request(&mut reader) {
                    let reply = answer(&cups, body);
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\nContent-Length: {}\r\n\r\n",
                        reply.len()
                    );
                    if stream.write_all(head.as_bytes()).is_err()
                        || stream.write_all(&reply).is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    format!("ipp://{addr}/printers/CardPrinter")
}

#[test]
fn ipp_driver_reads_state_ribbon_and_prints() {
    let cups = Arc::new(Mutex::new(Cups {
        state: 3,
        level: 60,
        accepting: true,
        ..Cups::default()
    }));
    let mut p = IppPrinter::new(&serve(cups.clone())).unwrap();
    let st = p.status().unwrap();
    assert_eq!(st.state, PrinterState::Idle);
    assert_eq!(st.ribbon, Ribbon::Ok { percent: Some(60) });
    assert!(st.ready(), "{st:?}");
    let id = p.print(&job("attempt-7")).unwrap();
    assert_eq!(id, JobId(100));
    assert_eq!(p.job_state(id).unwrap(), JobState::Completed);
    p.cancel(id).unwrap();
    {
        let c = cups.lock().unwrap();
        assert_eq!(c.documents.len(), 1);
        assert_eq!(c.documents[0].0, "attempt-7");
        assert_eq!(
            c.documents[0].1,
            job("").png,
            "the PNG went as the document"
        );
    }
    // Ribbon low, then out as CUPS reports it.
    cups.lock().unwrap().level = 10;
    assert_eq!(
        p.status().unwrap().ribbon,
        Ribbon::Low { percent: Some(10) }
    );
    {
        let mut c = cups.lock().unwrap();
        c.level = 0;
        c.state = 5;
        c.reasons = vec!["marker-supply-empty-error"];
    }
    let st = p.status().unwrap();
    assert!(st.ribbon_out() && !st.ready());
    assert!(matches!(p.print(&job("x")), Err(PrinterError::RibbonOut)));
    // A jam.
    {
        let mut c = cups.lock().unwrap();
        c.level = 50;
        c.reasons = vec!["media-jam-error"];
    }
    assert!(matches!(p.print(&job("y")), Err(PrinterError::Jam)));
    // Staff disabled the queue.
    {
        let mut c = cups.lock().unwrap();
        c.state = 3;
        c.reasons = vec![];
        c.accepting = false;
    }
    assert!(matches!(
        p.print(&job("z")),
        Err(PrinterError::NotAccepting(_))
    ));
    assert_eq!(
        cups.lock().unwrap().documents.len(),
        1,
        "nothing else printed"
    );
}

#[test]
fn an_unreachable_cups_is_named() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut p = IppPrinter::new(&format!("ipp://{addr}/printers/Nope")).unwrap();
    assert!(matches!(p.status(), Err(PrinterError::Unreachable(_))));
    assert!(IppPrinter::cups_queue("bad/queue").is_err());
    assert!(IppPrinter::cups_queue("CardPrinter").is_ok());
}
