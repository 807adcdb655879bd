//! The doctor's log scan keeps within its limits: the tail of big files, the newest files.

use std::fs::{self, File};
use std::path::Path;
use std::time::{Duration, SystemTime};

use azure_cacerts::doctor::logs::{self, Limits};

const PKIX: &str = "javax.net.ssl.SSLHandshakeException: sun.security.validator.ValidatorException: PKIX path building failed: x\n";

fn age(path: &Path, secs_ago: u64) {
    let f = File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(secs_ago))
        .unwrap();
}

#[test]
fn reads_only_the_tail_of_a_big_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    fs::create_dir_all(&log).unwrap();
    let mut text = format!("ERROR - 01/02 03:04:05|old\n{PKIX}");
    // Shift_JIS filler so that the cut falls among multi-byte characters.
    let (filler, _, _) =
        encoding_rs::SHIFT_JIS.encode("INFO - 01/02 03:04:06|同期を終了します。\r\n");
    let mut bytes = text.as_bytes().to_vec();
    while bytes.len() < 3 * 1024 * 1024 {
        bytes.extend_from_slice(&filler);
    }
    text = format!("ERROR - 01/03 00:00:00|new\n{PKIX}");
    bytes.extend_from_slice(text.as_bytes());
    fs::write(log.join("server.log"), &bytes).unwrap();

    let limits = Limits {
        max_tail_bytes: 1024 * 1024,
        ..Limits::default()
    };
    let scan = logs::scan(&log, &limits);
    assert_eq!(scan.files_scanned, 1);
    assert_eq!(scan.files_tail_only, 1);
    assert_eq!(scan.files_shift_jis, 1);
    assert_eq!(scan.pkix.count, 1, "the old one is beyond the tail");
    let last = scan.pkix.last.unwrap();
    assert_eq!(last.stamp.unwrap().as_written(), "01/03 00:00:00");
    assert_eq!(last.message, "new");

    let scan = logs::scan(&log, &Limits::default());
    assert_eq!((scan.pkix.count, scan.files_tail_only), (2, 0));
}

#[test]
fn reads_the_newest_files_first_and_no_more_than_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    for i in 0..20u64 {
        let user = log.join(format!("task{i}/user"));
        fs::create_dir_all(&user).unwrap();
        let f = user.join("synctask.log");
        fs::write(
            &f,
            format!("ERROR - 05/{:02} 10:00:00|task{i}\n{PKIX}", i + 1),
        )
        .unwrap();
        // task19 is the newest.
        age(&f, (20 - i) * 3600);
    }
    // Not logs: other names and a compressed roll.
    fs::write(log.join("server.log.1.gz"), PKIX).unwrap();
    fs::write(log.join("task0/user/notes.txt"), PKIX).unwrap();
    let limits = Limits {
        max_files: 5,
        ..Limits::default()
    };
    let scan = logs::scan(&log, &limits);
    assert_eq!(scan.files_found, 20);
    assert_eq!((scan.files_scanned, scan.files_skipped), (5, 15));
    assert_eq!(scan.pkix.count, 5);
    assert_eq!(scan.pkix.last.unwrap().message, "task19");
    assert!(!scan.server_log_seen);
}

#[test]
fn no_log_folder_and_binary_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let scan = logs::scan(&dir.path().join("log"), &Limits::default());
    assert!(!scan.log_dir_exists);
    assert_eq!(scan.files_scanned, 0);

    let log = dir.path().join("log");
    fs::create_dir_all(&log).unwrap();
    let garbage: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(log.join("server.log"), &garbage).unwrap();
    fs::write(log.join("connect_test.log"), b"").unwrap();
    let scan = logs::scan(&log, &Limits::default());
    assert_eq!(scan.files_scanned, 2);
    assert!(scan.unreadable.is_empty());
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Any bytes, with log-like fragments mixed in, scan without a panic.
        #[test]
        fn any_log_bytes_scan(
            chunks in proptest::collection::vec(
                prop_oneof![
                    proptest::collection::vec(any::<u8>(), 0..64),
                    Just(b"ERROR - 02/29 23:59:60|".to_vec()),
                    Just(b"\n".to_vec()),
                    Just(PKIX.as_bytes().to_vec()),
                    Just(b"ClientTransportException HTTP 403".to_vec()),
                    Just("PIMSYNCの起動を開始".as_bytes().to_vec()),
                ],
                0..40,
            ),
            tail in 1u64..512,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let log = dir.path().join("log");
            fs::create_dir_all(&log).unwrap();
            let bytes = chunks.concat();
            fs::write(log.join("server.log"), &bytes).unwrap();
            let limits = Limits { max_tail_bytes: tail, ..Limits::default() };
            let scan = logs::scan(&log, &limits);
            prop_assert_eq!(scan.files_scanned, 1);
            let (text, _) = azure_cacerts::text::decode(&bytes);
            for line in text.lines() {
                let _ = logs::parse_stamp(line);
            }
        }
    }
}
