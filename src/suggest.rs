//! Commands the tool suggests to a person, quoted by one rule wherever they are printed
//! (diff's next step, check's fix, doctor's fix).

/// Quotes one argument so that it survives copy and paste into the shell of this platform:
/// plain when it holds only safe characters; in double quotes when that is enough (sh,
/// PowerShell and cmd all read `"C:\Program Files\x"` and `"/opt/my app"` alike); on Unix in
/// single quotes when the value holds something a POSIX shell expands inside double quotes.
pub fn quote_arg(arg: &str) -> String {
    let safe = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/\\._-:+=@,%~".contains(c));
    if safe {
        return arg.to_string();
    }
    let expands_in_double_quotes = arg.contains(['$', '`', '"', '\\', '!']);
    if cfg!(unix) && expands_in_double_quotes {
        format!("'{}'", arg.replace('\'', r"'\''"))
    } else {
        format!("\"{arg}\"")
    }
}

/// `azure-cacerts <command> <option> <value>` with the value quoted.
pub fn command(command: &str, option: &str, value: &str) -> String {
    format!("azure-cacerts {command} {option} {}", quote_arg(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_for_copy_and_paste() {
        assert_eq!(quote_arg("/tmp/cacerts"), "/tmp/cacerts");
        assert_eq!(
            quote_arg(r"C:\PIMSYNC\jre\lib\security\cacerts"),
            r"C:\PIMSYNC\jre\lib\security\cacerts"
        );
        assert_eq!(quote_arg("/opt/my app/cacerts"), "\"/opt/my app/cacerts\"");
        assert_eq!(quote_arg("a&b"), "\"a&b\"");
        assert_eq!(quote_arg(""), "\"\"");
        if cfg!(unix) {
            assert_eq!(quote_arg("/opt/$x y"), "'/opt/$x y'");
            assert_eq!(quote_arg("it's $x"), r"'it'\''s $x'");
        } else {
            assert_eq!(
                quote_arg(r"C:\Program Files\PIMSYNC"),
                "\"C:\\Program Files\\PIMSYNC\""
            );
        }
        assert_eq!(
            command("import", "-k", "/opt/HULFT PIMSYNC/cacerts"),
            "azure-cacerts import -k \"/opt/HULFT PIMSYNC/cacerts\""
        );
    }
}
