//! PIMSYNC's logs: which files, how they are encoded, the two error signatures the doctor
//! looks for, and the server start lines.
//!
//! PIMSYNC writes `MM/dd HH:mm:ss|message` in local time without a year, so every time here
//! is placed on the calendar with the help of the file's modification time (see [`Clock`]).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// How much work a scan may do: a PIMSYNC server with many tasks and users can hold
/// thousands of rolled logs, and the doctor must answer in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Files read, newest first.
    pub max_files: usize,
    /// Bytes read from the end of each file (the newest lines are the ones that matter).
    pub max_tail_bytes: u64,
    /// Bytes read over all files.
    pub max_total_bytes: u64,
    /// Directory entries looked at while finding the files.
    pub max_dir_entries: usize,
    /// Lines after a timestamped line that still belong to it (a stack trace).
    pub max_continuation_lines: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_files: 300,
            max_tail_bytes: 4 * 1024 * 1024,
            max_total_bytes: 256 * 1024 * 1024,
            max_dir_entries: 50_000,
            max_continuation_lines: 100,
        }
    }
}

/// Start lines of the PIMSYNC server in server.log. Japanese as the product writes them;
/// the English ones are compared in lower case.
pub const START_PATTERNS_JA: &[&str] = &[
    "PIMSYNCの起動を開始",
    "PIMSYNCを起動しました",
    "PIMSYNCサーバーの起動を開始",
    "PIMSYNCサーバーを起動しました",
];
pub const START_PATTERNS_EN: &[&str] = &[
    "starting pimsync",
    "pimsync server start",
    "pimsync start",
    "pimsync is starting",
    "pimsync has started",
    "pimsync was started",
];

/// A log timestamp as written: no year, local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp {
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl Stamp {
    /// `MM/dd HH:mm:ss`, as the log writes it.
    pub fn as_written(&self) -> String {
        format!(
            "{:02}/{:02} {:02}:{:02}:{:02}",
            self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// The naive local date-time in `year`; None for a date the year lacks (Feb 29).
    fn at_year(&self, year: i32) -> Option<PrimitiveDateTime> {
        let month = Month::try_from(self.month).ok()?;
        let date = Date::from_calendar_date(year, month, self.day).ok()?;
        let time = Time::from_hms(self.hour, self.minute, self.second).ok()?;
        Some(PrimitiveDateTime::new(date, time))
    }
}

/// The timestamp and the message of a line such as `ERROR - 11/25 10:15:01|...` or
/// `04/16 14:42:25|...`; None for any other line (a stack trace, a continuation).
pub fn parse_stamp(line: &str) -> Option<(Stamp, &str)> {
    let s = line.trim_start_matches('\u{feff}').trim_start();
    let s = match s.find(" - ") {
        Some(i) if (1..=7).contains(&i) && s[..i].bytes().all(|b| b.is_ascii_alphabetic()) => {
            &s[i + 3..]
        }
        _ => s,
    };
    let b = s.as_bytes();
    if b.len() < 14 {
        return None;
    }
    let two = |i: usize| -> Option<u8> {
        let (h, l) = (b[i], b[i + 1]);
        (h.is_ascii_digit() && l.is_ascii_digit()).then(|| (h - b'0') * 10 + (l - b'0'))
    };
    if b[2] != b'/' || b[5] != b' ' || b[8] != b':' || b[11] != b':' {
        return None;
    }
    let stamp = Stamp {
        month: two(0)?,
        day: two(3)?,
        hour: two(6)?,
        minute: two(9)?,
        second: two(12)?,
    };
    let valid = (1..=12).contains(&stamp.month)
        && (1..=31).contains(&stamp.day)
        && stamp.hour < 24
        && stamp.minute < 60
        && stamp.second < 61;
    if !valid {
        return None;
    }
    // The first 14 bytes are ASCII, so this is a character boundary.
    let rest = &s[14..];
    let message = if let Some(m) = rest.strip_prefix('|') {
        m
    } else if rest.is_empty() || rest.starts_with(' ') {
        rest.trim_start()
    } else {
        return None;
    };
    Some((stamp, message))
}

/// `403` as a number of its own on a line that is about HTTP (not `user403`, not `14030`).
fn mentions_http_403(line: &str) -> bool {
    let b = line.as_bytes();
    let has_token = line.match_indices("403").any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| b[j]);
        let after = b.get(i + 3).copied();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    });
    if !has_token {
        return false;
    }
    let lower = line.to_ascii_lowercase();
    lower.contains("http") || lower.contains("forbidden") || lower.contains("clienttransport")
}

fn is_start_line(message: &str) -> bool {
    if START_PATTERNS_JA.iter().any(|p| message.contains(p)) {
        return true;
    }
    let lower = message.to_ascii_lowercase();
    START_PATTERNS_EN.iter().any(|p| lower.contains(p))
}

/// What kind of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    /// `ClientTransportException` with HTTP 403 (Exchange Online refused the old sign-in).
    Http403,
    /// `SSLHandshakeException` with `PKIX path building failed` (a CA missing).
    Pkix,
    /// A PIMSYNC server start line (server.log only).
    Start,
}

/// One finding in one file.
#[derive(Debug, Clone)]
pub struct Found {
    pub file: PathBuf,
    /// The timestamp of the line the finding belongs to; None when the file's tail starts
    /// inside a stack trace whose timestamped line was cut off.
    pub stamp: Option<Stamp>,
    /// The timestamped line's message, shortened.
    pub message: String,
    pub file_modified: Option<OffsetDateTime>,
    /// The moment in UTC, estimated from the stamp and the file's clock.
    pub utc: Option<OffsetDateTime>,
    /// Whether `utc` rests on a time zone learnt from the file (else UTC was assumed).
    pub zone_known: bool,
}

/// The last finding of a kind over all files, and how many there were.
#[derive(Debug, Clone, Default)]
pub struct Latest {
    pub last: Option<Found>,
    pub count: usize,
}

impl Latest {
    fn offer(&mut self, f: Found, count: usize) {
        self.count += count;
        let newer = match &self.last {
            None => true,
            Some(old) => sort_key(&f) > sort_key(old),
        };
        if newer {
            self.last = Some(f);
        }
    }
}

fn sort_key(f: &Found) -> (Option<OffsetDateTime>, Option<OffsetDateTime>) {
    (f.utc, f.file_modified)
}

/// The outcome of a scan of the log folder.
#[derive(Debug, Clone, Default)]
pub struct LogScan {
    pub log_dir: PathBuf,
    pub log_dir_exists: bool,
    /// Log files found (before the limits).
    pub files_found: usize,
    pub files_scanned: usize,
    /// Files left unread because of the limits.
    pub files_skipped: usize,
    /// Files read only in part (their last `max_tail_bytes`).
    pub files_tail_only: usize,
    /// Files decoded as Shift_JIS.
    pub files_shift_jis: usize,
    /// Files that could not be read, with why.
    pub unreadable: Vec<(PathBuf, String)>,
    pub http_403: Latest,
    pub pkix: Latest,
    /// The newest server start line (server.log and its rolled copies).
    pub start: Latest,
    /// Whether any server.log file was read.
    pub server_log_seen: bool,
}

/// Scans `log_dir` within `limits`. Never fails: what cannot be read is listed.
pub fn scan(log_dir: &Path, limits: &Limits) -> LogScan {
    let mut out = LogScan {
        log_dir: log_dir.to_path_buf(),
        log_dir_exists: log_dir.is_dir(),
        ..LogScan::default()
    };
    if !out.log_dir_exists {
        return out;
    }
    let mut files = collect_files(log_dir, limits.max_dir_entries);
    out.files_found = files.len();
    // Newest first: when the limits bite, the old rolled files are the ones left out.
    files.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut total = 0u64;
    for (path, _) in files {
        if out.files_scanned >= limits.max_files || total >= limits.max_total_bytes {
            out.files_skipped += 1;
            continue;
        }
        let budget = limits
            .max_tail_bytes
            .min(limits.max_total_bytes - total)
            .max(1);
        let tail = match read_tail(&path, budget) {
            Ok(t) => t,
            Err(e) => {
                out.unreadable.push((path, e.to_string()));
                continue;
            }
        };
        total += tail.bytes.len() as u64;
        out.files_scanned += 1;
        if tail.partial {
            out.files_tail_only += 1;
        }
        let (text, encoding) = crate::text::decode(&tail.bytes);
        if encoding == encoding_rs::SHIFT_JIS {
            out.files_shift_jis += 1;
        }
        let is_server_log = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.to_ascii_lowercase().starts_with("server.log"));
        out.server_log_seen |= is_server_log;
        let findings = scan_text(&text, is_server_log, limits.max_continuation_lines);
        let clock = Clock::new(tail.modified, findings.last_stamp);
        let place = |hit: Option<Hit>| {
            hit.map(|h| {
                let (utc, zone_known) = match h.stamp.and_then(|s| clock.to_utc(s)) {
                    Some(u) => (Some(u), clock.offset.is_some()),
                    None => (None, false),
                };
                Found {
                    file: path.clone(),
                    stamp: h.stamp,
                    message: h.message,
                    file_modified: tail.modified,
                    utc,
                    zone_known,
                }
            })
        };
        if let Some(f) = place(findings.http_403) {
            out.http_403.offer(f, findings.n_403);
        }
        if let Some(f) = place(findings.pkix) {
            out.pkix.offer(f, findings.n_pkix);
        }
        if let Some(f) = place(findings.start) {
            out.start.offer(f, findings.n_start);
        }
    }
    out
}

fn log_name_wanted(name: &str, stems: &[&str]) -> bool {
    let lower = name.to_ascii_lowercase();
    let compressed = [".gz", ".zip", ".7z", ".bz2", ".xz"]
        .iter()
        .any(|e| lower.ends_with(e));
    !compressed
        && stems.iter().any(|stem| {
            lower == *stem
                || lower
                    .strip_prefix(stem)
                    .is_some_and(|rest| rest.starts_with('.'))
        })
}

/// server.log*, connect_test.log* in the folder; synctask.log* two levels down
/// (`<task>/<user>/`). Returns each with its modification time.
fn collect_files(log_dir: &Path, max_entries: usize) -> Vec<(PathBuf, Option<SystemTime>)> {
    let mut out = Vec::new();
    let mut seen = 0usize;
    let list = |dir: &Path, seen: &mut usize| -> Vec<(PathBuf, std::fs::Metadata)> {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut v = Vec::new();
        for e in rd.filter_map(Result::ok) {
            if *seen >= max_entries {
                break;
            }
            *seen += 1;
            let p = e.path();
            if let Ok(m) = std::fs::metadata(&p) {
                v.push((p, m));
            }
        }
        v
    };
    let name_of = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string()
    };
    for (p, m) in list(log_dir, &mut seen) {
        if m.is_file() {
            if log_name_wanted(&name_of(&p), &["server.log", "connect_test.log"]) {
                out.push((p, m.modified().ok()));
            }
        } else if m.is_dir() {
            for (user_dir, um) in list(&p, &mut seen) {
                if !um.is_dir() {
                    continue;
                }
                for (f, fm) in list(&user_dir, &mut seen) {
                    if fm.is_file() && log_name_wanted(&name_of(&f), &["synctask.log"]) {
                        out.push((f, fm.modified().ok()));
                    }
                }
            }
        }
    }
    out
}

struct Tail {
    bytes: Vec<u8>,
    partial: bool,
    modified: Option<OffsetDateTime>,
}

/// The last `max` bytes of a file, starting at a line boundary when cut.
fn read_tail(path: &Path, max: u64) -> std::io::Result<Tail> {
    let mut f = File::open(path)?;
    let meta = f.metadata()?;
    let len = meta.len();
    let partial = len > max;
    if partial {
        f.seek(SeekFrom::Start(len - max))?;
    }
    let mut bytes = Vec::with_capacity(len.min(max) as usize);
    f.take(max).read_to_end(&mut bytes)?;
    if partial {
        // The cut may fall inside a character or a line: start at the next full line.
        // 0x0A is never part of a UTF-8 or Shift_JIS multi-byte character.
        match bytes.iter().position(|&b| b == b'\n') {
            Some(i) => {
                bytes.drain(..=i);
            }
            None => bytes.clear(),
        }
    }
    Ok(Tail {
        bytes,
        partial,
        modified: meta.modified().ok().and_then(system_time),
    })
}

/// A file time as a calendar time; None for one outside the calendar's range (a file can
/// carry any 64-bit time, and `OffsetDateTime::from` would panic on it).
pub fn system_time(t: SystemTime) -> Option<OffsetDateTime> {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => OffsetDateTime::UNIX_EPOCH.checked_add(Duration::try_from(d).ok()?),
        Err(e) => OffsetDateTime::UNIX_EPOCH.checked_sub(Duration::try_from(e.duration()).ok()?),
    }
}

struct Hit {
    stamp: Option<Stamp>,
    message: String,
}

#[derive(Default)]
struct TextFindings {
    http_403: Option<Hit>,
    n_403: usize,
    pkix: Option<Hit>,
    n_pkix: usize,
    start: Option<Hit>,
    n_start: usize,
    last_stamp: Option<Stamp>,
}

/// A timestamped line and the untimestamped lines after it (a stack trace).
#[derive(Default)]
struct Event {
    stamp: Option<Stamp>,
    message: String,
    continuation: usize,
    transport: bool,
    http_403: bool,
    handshake: bool,
    pkix: bool,
}

const MESSAGE_CHARS: usize = 200;

fn shorten(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() <= MESSAGE_CHARS {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MESSAGE_CHARS).collect();
        t.push('…');
        t
    }
}

fn scan_text(text: &str, server_log: bool, max_continuation: usize) -> TextFindings {
    let mut out = TextFindings::default();
    let mut ev = Event::default();
    let close = |ev: &Event, out: &mut TextFindings| {
        if ev.transport && ev.http_403 {
            out.n_403 += 1;
            out.http_403 = Some(Hit {
                stamp: ev.stamp,
                message: ev.message.clone(),
            });
        }
        if ev.handshake && ev.pkix {
            out.n_pkix += 1;
            out.pkix = Some(Hit {
                stamp: ev.stamp,
                message: ev.message.clone(),
            });
        }
    };
    for line in text.lines() {
        if let Some((stamp, message)) = parse_stamp(line) {
            close(&ev, &mut out);
            ev = Event {
                stamp: Some(stamp),
                message: shorten(message),
                ..Event::default()
            };
            out.last_stamp = Some(stamp);
            if server_log && is_start_line(message) {
                out.n_start += 1;
                out.start = Some(Hit {
                    stamp: Some(stamp),
                    message: shorten(message),
                });
            }
        } else {
            ev.continuation += 1;
            if ev.continuation > max_continuation {
                continue;
            }
        }
        ev.transport |= line.contains("ClientTransportException");
        ev.http_403 |= mentions_http_403(line);
        ev.handshake |= line.contains("SSLHandshakeException");
        ev.pkix |= line.contains("PKIX path building failed");
    }
    close(&ev, &mut out);
    out
}

/// Places year-less local stamps of one file on the UTC time line.
///
/// The file's modification time is when its last line was written. Comparing that line's
/// stamp with it gives the file's UTC offset (rounded to 15 minutes), and the year: the
/// latest year that does not put a stamp after the modification time.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    modified_utc: Option<PrimitiveDateTime>,
    /// Local time minus UTC, when the last stamp agrees with the modification time.
    pub offset: Option<Duration>,
}

/// The widest UTC offset in use (UTC+14), plus a little for a slow last write.
const MAX_OFFSET: Duration = Duration::minutes(14 * 60 + 30);

impl Clock {
    pub fn new(modified: Option<OffsetDateTime>, last_stamp: Option<Stamp>) -> Clock {
        let modified_utc = modified.map(|m| {
            let u = m.to_offset(time::UtcOffset::UTC);
            PrimitiveDateTime::new(u.date(), u.time())
        });
        let offset = match (modified_utc, last_stamp) {
            (Some(m), Some(s)) => estimate_offset(m, s),
            _ => None,
        };
        Clock {
            modified_utc,
            offset,
        }
    }

    pub fn to_utc(&self, stamp: Stamp) -> Option<OffsetDateTime> {
        let modified = self.modified_utc?;
        let offset = self.offset.unwrap_or(Duration::ZERO);
        let local_modified = modified.checked_add(offset)?;
        // Without a known offset the stamp may be up to a day "after" the UTC time.
        let slack = if self.offset.is_some() {
            Duration::hours(1)
        } else {
            MAX_OFFSET
        };
        let limit = local_modified.checked_add(slack)?;
        let year = local_modified.year();
        // Four years back reaches the previous Feb 29.
        (year - 4..=year)
            .rev()
            .filter_map(|y| stamp.at_year(y))
            .find(|dt| *dt <= limit)
            .and_then(|dt| dt.checked_sub(offset))
            .map(PrimitiveDateTime::assume_utc)
    }
}

fn estimate_offset(modified_utc: PrimitiveDateTime, last: Stamp) -> Option<Duration> {
    let y = modified_utc.year();
    let d = [y - 1, y, y + 1]
        .iter()
        .filter_map(|&y| last.at_year(y))
        .map(|dt| dt - modified_utc)
        .min_by_key(|d| d.abs())?;
    if d.abs() > MAX_OFFSET {
        return None;
    }
    let quarter = 15 * 60;
    let secs = d.whole_seconds();
    let rounded = (secs + secs.signum() * quarter / 2) / quarter * quarter;
    Some(Duration::seconds(rounded.clamp(-14 * 3600, 14 * 3600)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn parses_both_line_shapes() {
        let (s, m) =
            parse_stamp("ERROR - 11/25 10:15:01|ユーザー[a]の同期タスク[b]の実行に失敗しました。")
                .unwrap();
        assert_eq!(s.as_written(), "11/25 10:15:01");
        assert!(m.starts_with("ユーザー"));
        let (s, m) = parse_stamp("04/16 14:42:25|PIMSYNCの起動を開始します").unwrap();
        assert_eq!((s.month, s.day, s.hour), (4, 16, 14));
        assert!(is_start_line(m));
        assert!(parse_stamp("\tat com.example.Foo.bar(Foo.java:12)").is_none());
        assert!(parse_stamp("13/25 10:15:01|x").is_none());
        assert!(parse_stamp("11/25 10:15:0").is_none());
        assert!(parse_stamp("11/25 10:15:01x").is_none());
        assert!(parse_stamp("").is_none());
        assert!(parse_stamp("ユーザー 11/25").is_none());
    }

    #[test]
    fn http_403_must_be_a_number_about_http() {
        assert!(mentions_http_403(
            "ClientTransportException: The server sent HTTP status code 403: Forbidden"
        ));
        assert!(!mentions_http_403("HTTP status code 4030"));
        assert!(!mentions_http_403("user403 logged in"));
    }

    #[test]
    fn attributes_a_stack_trace_to_its_timestamped_line() {
        let text = "INFO - 11/25 10:00:00|ok\n\
                    ERROR - 11/25 10:15:01|タスク失敗\n\
                    com.sun.xml.internal.ws.client.ClientTransportException: The server sent HTTP status code 403: Forbidden\n\
                    \tat a.b(C.java:1)\n\
                    ERROR - 11/25 11:00:00|other\n\
                    \tat x.y(Z.java:2)\n\
                    Caused by: javax.net.ssl.SSLHandshakeException: sun.security.validator.ValidatorException: PKIX path building failed: x\n\
                    INFO - 11/25 11:05:00|done\n";
        let f = scan_text(text, false, 100);
        let h = f.http_403.unwrap();
        assert_eq!(h.stamp.unwrap().as_written(), "11/25 10:15:01");
        assert_eq!(h.message, "タスク失敗");
        assert_eq!(
            f.pkix.unwrap().stamp.unwrap().as_written(),
            "11/25 11:00:00"
        );
        assert_eq!((f.n_403, f.n_pkix), (1, 1));
        assert_eq!(f.last_stamp.unwrap().as_written(), "11/25 11:05:00");
        assert!(f.start.is_none());
        // Too far down a stack trace: no longer attributed.
        let long = format!(
            "ERROR - 11/25 10:15:01|x\n{}ClientTransportException HTTP 403\n",
            "\tat a.b\n".repeat(5)
        );
        assert!(scan_text(&long, false, 3).http_403.is_none());
        assert!(scan_text(&long, false, 10).http_403.is_some());
    }

    #[test]
    fn clock_learns_the_zone_and_the_year() {
        // Written in JST (UTC+9): last line 01/02 10:20:00 local = 01:20 UTC.
        let modified = datetime!(2026-01-02 01:20:00.4 UTC);
        let last = parse_stamp("01/02 10:20:00|x").unwrap().0;
        let clock = Clock::new(Some(modified), Some(last));
        assert_eq!(clock.offset, Some(Duration::hours(9)));
        let dec = parse_stamp("12/31 23:00:00|x").unwrap().0;
        assert_eq!(clock.to_utc(dec), Some(datetime!(2025-12-31 14:00:00 UTC)));
        assert_eq!(clock.to_utc(last), Some(datetime!(2026-01-02 01:20:00 UTC)));
        // A last line far from the modification time: zone unknown, UTC assumed.
        let clock = Clock::new(Some(modified), parse_stamp("06/01 00:00:00|x").map(|p| p.0));
        assert_eq!(clock.offset, None);
        assert_eq!(clock.to_utc(dec), Some(datetime!(2025-12-31 23:00:00 UTC)));
        // Feb 29 goes back to a leap year.
        let clock = Clock::new(Some(datetime!(2026-03-01 00:00:00 UTC)), None);
        let leap = parse_stamp("02/29 12:00:00|x").unwrap().0;
        assert_eq!(clock.to_utc(leap).map(|t| t.year()), Some(2024));
    }

    #[test]
    fn file_times_out_of_range_do_not_panic() {
        // Beyond the year 9999 that `time` can hold, yet within every platform's SystemTime
        // (Windows' ends in the year 30828): about the year 11476.
        let far = SystemTime::UNIX_EPOCH
            .checked_add(std::time::Duration::from_secs(300_000_000_000))
            .expect("representable on Unix and Windows");
        assert_eq!(system_time(far), None);
        assert_eq!(
            system_time(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(86_400)),
            Some(datetime!(1970-01-02 00:00:00 UTC))
        );
    }

    #[test]
    fn names_of_rolled_logs() {
        let stems = ["server.log"];
        assert!(log_name_wanted("server.log", &stems));
        assert!(log_name_wanted("server.log.3", &stems));
        assert!(log_name_wanted("SERVER.LOG", &stems));
        assert!(!log_name_wanted("server.log.3.gz", &stems));
        assert!(!log_name_wanted("server.logger", &stems));
        assert!(log_name_wanted("synctask.log.20251125", &["synctask.log"]));
    }
}
