//! Command lines as a service manager writes them (systemd's ExecStart, a Windows service's
//! ImagePath, Procrun's options): their words, the program they run, and the
//! `-Djavax.net.ssl.trustStore*` properties they pass to the JVM.

/// The trustStore settings a command line or environment gives the JVM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustProps {
    pub store: Option<String>,
    pub password: Option<String>,
    pub store_type: Option<String>,
}

impl TrustProps {
    /// Takes the properties among `words` (the first of each wins, as for the PIMSYNC
    /// start-up files).
    pub fn add_words<'a>(&mut self, words: impl IntoIterator<Item = &'a str>) {
        for w in words {
            let Some((name, value)) = w.strip_prefix("-D").and_then(|p| p.split_once('=')) else {
                continue;
            };
            let value = value.trim_matches('"').trim();
            if value.is_empty() {
                continue;
            }
            let slot = match name {
                "javax.net.ssl.trustStore" => &mut self.store,
                "javax.net.ssl.trustStorePassword" => &mut self.password,
                "javax.net.ssl.trustStoreType" => &mut self.store_type,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.to_string());
            }
        }
    }
}

/// Words of a Unix command line or systemd value: blanks separate, single and double
/// quotes group, a backslash escapes the next character.
pub fn split_unix(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => word.push(c),
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    word.push(n);
                }
                in_word = true;
            }
            (_, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Words of a Windows command line: blanks separate, double quotes group (`\"` is a quote);
/// backslashes are path separators, not escapes.
pub fn split_windows(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'"') => {
                chars.next();
                word.push('"');
                in_word = true;
            }
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// The program and arguments of a Windows service's ImagePath. An unquoted path with
/// blanks (`C:\Program Files\Java\bin\java.exe -jar x`) is read as Windows reads it: up to
/// the first `.exe`.
pub fn split_image_path(image: &str) -> Vec<String> {
    let trimmed = image.trim();
    if !trimmed.starts_with('"') {
        let lower = trimmed.to_ascii_lowercase();
        if let Some(at) = lower
            .match_indices(".exe")
            .map(|(i, _)| i + 4)
            .find(|&end| lower[end..].is_empty() || lower[end..].starts_with(' '))
        {
            let mut words = vec![trimmed[..at].to_string()];
            words.extend(split_windows(&trimmed[at..]));
            return words;
        }
    }
    split_windows(trimmed)
}

/// The executable of an ExecStart value: systemd's prefixes (`-`, `@`, `:`, `+`, `!`)
/// removed.
pub fn strip_exec_prefixes(word: &str) -> &str {
    word.trim_start_matches(['-', '@', ':', '+', '!'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_words() {
        assert_eq!(
            split_unix(r#"/usr/bin/java "-Dx=a b" '-Dy=$z' c\ d"#),
            vec!["/usr/bin/java", "-Dx=a b", "-Dy=$z", "c d"]
        );
        assert_eq!(split_unix("  "), Vec::<String>::new());
        assert_eq!(split_unix(r#""""#), vec![""]);
    }

    #[test]
    fn windows_words_and_image_paths() {
        assert_eq!(
            split_image_path(r#""C:\Program Files\Java\jre\bin\java.exe" -Dx="a b" -jar C:\x.jar"#),
            vec![
                r"C:\Program Files\Java\jre\bin\java.exe",
                "-Dx=a b",
                "-jar",
                r"C:\x.jar"
            ]
        );
        assert_eq!(
            split_image_path(r"C:\Program Files\PIMSYNC\bin\pimsyncsvc.exe //RS//PIMSYNC"),
            vec![
                r"C:\Program Files\PIMSYNC\bin\pimsyncsvc.exe",
                "//RS//PIMSYNC"
            ]
        );
        assert_eq!(
            split_image_path(r"C:\svc\a.exe.config.exe"),
            vec![r"C:\svc\a.exe.config.exe"]
        );
        assert_eq!(split_windows(r#"a \"b\" "#), vec!["a", "\"b\""]);
    }

    #[test]
    fn trust_properties() {
        let mut t = TrustProps::default();
        t.add_words([
            "-Xmx1g",
            "-Djavax.net.ssl.trustStore=/opt/app/trust.jks",
            "-Djavax.net.ssl.trustStorePassword=s3cret",
            "-Djavax.net.ssl.trustStore=/second",
            "-Djavax.net.ssl.trustStoreType=",
            "-Djavax.net.ssl.keyStore=/k",
        ]);
        assert_eq!(t.store.as_deref(), Some("/opt/app/trust.jks"));
        assert_eq!(t.password.as_deref(), Some("s3cret"));
        assert_eq!(t.store_type, None);
        assert_eq!(strip_exec_prefixes("-@/usr/bin/java"), "/usr/bin/java");
    }
}
