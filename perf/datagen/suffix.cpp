#include "perf/datagen/suffix.hpp"

#include <array>
#include <charconv>
#include <string_view>

namespace idpath::datagen {
namespace {

constexpr std::array<std::string_view, 6> kKinds{"SN", "PN", "LOT", "DEV", "PKG", "CID"};

// Path words of production and logistics records; some get a number appended.
constexpr std::array<std::string_view, 12> kWords{
    "batch", "line-",  "station-", "plant-suzhou", "workorder-", "pallet-",
    "qc",    "export", "lot-a",    "zone-b",       "assembly",   "mould-",
};

constexpr std::size_t kSerialWidth = 6;

/// One path segment, without its '/': a word, a word with a number, or a year.
std::size_t segment(gun::Random& rng, char* buf)
{
    const std::uint64_t pick = rng.below(kWords.size() + 3);
    if (pick >= kWords.size()) { // a year, three times as likely as any one word
        const auto year = 2019 + rng.below(8);
        return static_cast<std::size_t>(std::to_chars(buf, buf + 8, year).ptr - buf);
    }
    const std::string_view w = kWords[pick];
    w.copy(buf, w.size());
    std::size_t n = w.size();
    if (w.back() == '-')
        n = static_cast<std::size_t>(std::to_chars(buf + n, buf + n + 8, 1 + rng.below(99)).ptr - buf);
    return n;
}

} // namespace

SuffixMaker::SuffixMaker(double zipf_s) noexcept : lengths_(kMaxSuffixLength - kMinSuffixLength + 1, zipf_s) {}

void SuffixMaker::append(std::uint64_t serial, gun::Random& rng, std::string& out) const
{
    const std::size_t target = kMinSuffixLength + static_cast<std::size_t>(lengths_(rng));
    const std::string_view kind = kKinds[rng.below(kKinds.size())];
    char digits[24];
    const auto digit_count = static_cast<std::size_t>(std::to_chars(digits, digits + sizeof digits, serial).ptr - digits);
    const std::size_t width = digit_count > kSerialWidth ? digit_count : kSerialWidth;
    const std::size_t tail = kind.size() + 1 + width;

    std::size_t length = 0;
    char seg[32];
    // Whole segments while they fit; a year (5 octets with its '/') may still fill a gap a word
    // left, and zero padding of the serial closes the last few octets.
    for (;;) {
        std::size_t n = segment(rng, seg);
        if (length + n + 1 + tail > target) {
            n = static_cast<std::size_t>(std::to_chars(seg, seg + 8, 2019 + rng.below(8)).ptr - seg);
            if (length + n + 1 + tail > target)
                break;
        }
        out.append(seg, n).push_back('/');
        length += n + 1;
    }
    out.append(kind).push_back('-');
    const std::size_t pad = target > length + tail ? target - length - tail : 0;
    out.append(width - digit_count + pad, '0');
    out.append(digits, digit_count);
}

} // namespace idpath::datagen
