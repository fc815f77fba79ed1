/*
 * A stand-in bcryptprimitives.dll for Wine releases that lack ProcessPrng
 * (Wine 8 among them). Rust's standard library on x86_64-pc-windows-gnu
 * imports ProcessPrng for its random numbers (HashMap keys, temp names);
 * without the export the program does not start under such a Wine.
 *
 * It fills the buffer from RtlGenRandom (exported by advapi32 as
 * SystemFunction036, which takes at most a ULONG of bytes per call).
 * CI builds it with mingw and puts it beside the .exe it runs under Wine:
 *   x86_64-w64-mingw32-gcc -shared -o bcryptprimitives.dll processprng.c -ladvapi32
 * Real Windows (10 and later) has its own; this is never shipped.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE out, SIZE_T length)
{
    const ULONG most = 0x7fffffffUL;
    while (length > 0) {
        ULONG part = length > most ? most : (ULONG)length;
        if (!SystemFunction036(out, part))
            return FALSE;
        out += part;
        length -= part;
    }
    return TRUE;
}
