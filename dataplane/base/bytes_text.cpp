#include "dataplane/base/bytes_text.hpp"

namespace idpath {

std::string hex(ByteSpan data)
{
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(data.size() * 2);
    for (const std::uint8_t b : data) {
        out += kDigits[b >> 4];
        out += kDigits[b & 0x0f];
    }
    return out;
}

bool is_printable_utf8(ByteSpan data)
{
    std::size_t i = 0;
    while (i < data.size()) {
        const std::uint8_t c = data[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return false;
            ++i;
            continue;
        }
        std::size_t n;
        std::uint32_t cp;
        if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + n >= data.size())
            return false;
        for (std::size_t k = 1; k <= n; ++k) {
            if ((data[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (data[i + k] & 0x3f);
        }
        // Overlong forms, surrogates, beyond U+10FFFF and C1 controls are not printable text.
        static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
        if (cp < kMin[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
            (cp >= 0x80 && cp < 0xa0))
            return false;
        i += n + 1;
    }
    return true;
}

} // namespace idpath
