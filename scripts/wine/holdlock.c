/* holdlock FILE READY RELEASE (scripts/windows-check.sh): another Windows program holding
   the keystore's lock. Opens FILE as most programs do, locks it whole with LockFileEx
   (exclusive), creates READY, waits for RELEASE to exist (at most 120 s), then unlocks. */
#include <windows.h>

int wmain(int argc, wchar_t **argv) {
    if (argc != 4) return 2;
    HANDLE h = CreateFileW(argv[1], GENERIC_READ | GENERIC_WRITE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) return 3;
    OVERLAPPED whole = {0};
    if (!LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, MAXDWORD,
                    MAXDWORD, &whole))
        return 4;
    CloseHandle(CreateFileW(argv[2], GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL));
    for (int i = 0; i < 1200 && GetFileAttributesW(argv[3]) == INVALID_FILE_ATTRIBUTES; i++)
        Sleep(100);
    UnlockFileEx(h, 0, MAXDWORD, MAXDWORD, &whole);
    CloseHandle(h);
    return 0;
}
