/* Test-only stand-in for bcryptprimitives.dll under wine 8.0 (Debian 12), which lacks
   ProcessPrng: Rust's std imports it, so without it azure-cacerts.exe does not start there.
   Forwards to RtlGenRandom (SystemFunction036). Built by scripts/windows-check.sh and
   scripts/release.sh into a throw-away wine prefix only; never shipped: Windows 10 and
   later have the real one. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, n)) return FALSE;
        data += n;
        length -= n;
    }
    return TRUE;
}
