//! The output code page of the Windows console this process is attached to, the number
//! `chcp` shows: text written to a file or a pipe from such a console is read back in it
//! (`type`, PowerShell 5.1's `$out = & prog`).
//!
//! A crate of its own because it is the one Windows API call azure-cacerts makes without a
//! safe wrapper crate (none that is maintained offers it), and the azure-cacerts crate
//! forbids unsafe code. The call takes no arguments and reads no memory of ours.

#![deny(unsafe_op_in_unsafe_fn)]

/// The console's output code page (932 on Japanese Windows, 65001 after `chcp 65001`);
/// None when the process has no console (a service, a task run without one) and off
/// Windows.
pub fn output_code_page() -> Option<u32> {
    #[cfg(windows)]
    {
        // SAFETY: GetConsoleOutputCP has no parameters and no preconditions; it returns 0
        // when the process has no console.
        let code_page = unsafe { windows_sys::Win32::System::Console::GetConsoleOutputCP() };
        (code_page != 0).then_some(code_page)
    }
    #[cfg(not(windows))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn no_code_page_off_windows() {
        if !cfg!(windows) {
            assert_eq!(super::output_code_page(), None);
        }
    }
}
