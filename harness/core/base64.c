/* The one base64 (RFC 4648): the standard and the URL alphabet, with or
 * without padding; a strict decoder (JWTs: one encoding per byte string) and
 * a lenient one (kubeconfig *-data: either alphabet, white space, padding). */
#include "wiharness/core.h"

#include <stdlib.h>
#include <string.h>

static const char k_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char k_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *wih_b64_encode(const void *data, size_t n, unsigned flags)
{
    const char *t = flags & WIH_B64_URL ? k_url : k_std;
    bool pad = !(flags & WIH_B64_NOPAD);
    const unsigned char *p = data;
    char *out = wih_xmalloc((n + 2) / 3 * 4 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n) v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];
        if (i + 1 < n) out[o++] = t[v >> 6 & 63];
        else if (pad) out[o++] = '=';
        if (i + 2 < n) out[o++] = t[v & 63];
        else if (pad) out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

/* the 6-bit value of c in the alphabets flags allows, or -1 */
static int val(unsigned char c, unsigned flags)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    bool url = flags & (WIH_B64_URL | WIH_B64_LENIENT), std = !(flags & WIH_B64_URL) || (flags & WIH_B64_LENIENT);
    if ((url && c == '-') || (std && c == '+')) return 62;
    if ((url && c == '_') || (std && c == '/')) return 63;
    return -1;
}

static unsigned char *fail(unsigned char *out)
{
    free(out);
    return NULL;
}

unsigned char *wih_b64_decode(const char *s, size_t len, unsigned flags, size_t *outlen)
{
    bool lenient = flags & WIH_B64_LENIENT;
    if (!lenient && (flags & WIH_B64_NOPAD) && len % 4 == 1) return NULL;
    unsigned char *out = wih_xmalloc(len / 4 * 3 + 4);
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (lenient && (c == ' ' || c == '\n' || c == '\r' || c == '\t')) continue;
        if (c == '=' && !(flags & WIH_B64_NOPAD)) {
            pad++;
            continue;
        }
        int v = val(c, flags);
        if (v < 0 || pad) return fail(out); /* a symbol after padding */
        acc = (acc << 6 | (unsigned)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits & 0xff);
        }
    }
    if (lenient) {
        if (pad > 2 || bits >= 6) return fail(out);
    } else if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
        return fail(out); /* not the canonical encoding */
    } else if (!(flags & WIH_B64_NOPAD) && (len % 4 != 0 || pad > 2)) {
        return fail(out); /* the padded form has whole quanta */
    }
    out[o] = '\0';
    if (outlen) *outlen = o;
    return out;
}
