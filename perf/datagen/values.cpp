#include "perf/datagen/values.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <string>

namespace idpath::datagen {
namespace {

// Fictional hosts and names in the style of Chinese industrial identifier records.
constexpr std::array<std::string_view, 8> kHosts{
    "trace.haier-iot.example.cn", "id.heavy-machinery.example.com", "qr.appliance.example.cn",
    "www.example-industry.cn",    "gs1.example.org.cn",             "iot.cosmo-platform.example.com",
    "portal.xz-equipment.example.cn", "idp.example-auto.com.cn",
};
constexpr std::array<std::string_view, 4> kMailboxes{"qa", "service", "trace", "registry"};
constexpr std::array<std::string_view, 8> kManufacturers{
    "Suzhou Precision Machinery Co., Ltd.", "苏州精密机械有限公司",
    "Qingdao Smart Appliance Group",         "青岛智能家电集团",
    "Xuzhou Heavy Equipment Co.",            "宁波模具制造有限公司",
    "Shenzhen Electronic Components Ltd.",   "Wuxi Bearing Works",
};
constexpr std::array<std::string_view, 8> kProducts{
    "Hydraulic pump HP-200",  "Servo motor SM-75",          "Bearing 6204-2RS", "Industrial camera IC-5M",
    "PLC module CPU-1214",    "Refrigerator compressor RC-9", "液压泵 HP-200",    "伺服电机 SM-75",
};
constexpr std::array<std::string_view, 6> kPlants{"Suzhou-3", "Qingdao-1", "Xuzhou-2", "Ningbo-5", "Shenzhen-8", "Wuxi-4"};
constexpr std::array<std::string_view, 16> kWords{
    "inspected", "torque",  "calibrated", "sealed",   "pressure", "tested",   "rated",    "assembly",
    "certified", "coating", "grade",      "tolerance", "shipment", "warranty", "firmware", "revision",
};
// (relative) ttls given explicitly on ~15 % of values: 0 is "do not cache".
constexpr std::array<std::uint32_t, 4> kTtls{0, 300, 3600, 604800};

constexpr std::uint32_t kFirstTimestamp = 1'704'067'200; // 2024-01-01T00:00:00Z
constexpr std::uint32_t kTimestampSpan = 2 * 365 * 86400;

void append_number(std::string& s, std::uint64_t n, std::size_t width = 0)
{
    char buf[24];
    const auto len = static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, n).ptr - buf);
    if (len < width)
        s.append(width - len, '0');
    s.append(buf, len);
}

/// Triangular over [min, max] with its mode at `mode`.
std::size_t data_budget(gun::Random& rng)
{
    constexpr double a = kMinDataOctets, c = kModeDataOctets, b = kMaxDataOctets;
    const double u = rng.unit();
    const double x = u < (c - a) / (b - a) ? a + std::sqrt(u * (b - a) * (c - a))
                                           : b - std::sqrt((1 - u) * (b - a) * (b - c));
    return static_cast<std::size_t>(x);
}

/// 1..6 values: 8, 12, 25, 25, 18, 12 % (a URL only is rare; most records carry 3-5).
std::size_t value_count(gun::Random& rng)
{
    constexpr std::array<unsigned, kMaxValues> kCumulative{8, 20, 45, 70, 88, 100};
    const auto r = rng.below(100);
    std::size_t n = 0;
    while (r >= kCumulative[n])
        ++n;
    return n + 1;
}

/// Words appended to `s` until it is `length` octets (the last word is cut to fit).
void fill_words(std::string& s, std::size_t length, gun::Random& rng)
{
    while (s.size() < length) {
        if (!s.empty() && s.back() != ' ' && s.back() != '"')
            s.push_back(' ');
        const std::string_view w = kWords[rng.below(kWords.size())];
        s.append(w.substr(0, std::min(w.size(), length > s.size() ? length - s.size() : 0)));
    }
    s.resize(length);
}

GenValue& start(Identifier& out, std::uint32_t index, std::string_view type, std::uint32_t timestamp)
{
    GenValue& v = out.slots[out.count++];
    v.index = index;
    v.type = type;
    v.admin = false;
    v.data.clear();
    v.admin_index = 0;
    v.admin_permissions = 0;
    v.timestamp = timestamp;
    v.ttl_given = false;
    v.ttl_absolute = false;
    v.ttl = 0;
    v.permissions = {};
    return v;
}

void make_url(GenValue& v, std::string_view prefix, std::uint64_t serial, std::string_view host)
{
    v.data.append("https://").append(host).append("/resolve/").append(prefix).push_back('/');
    append_number(v.data, serial);
}

/// Grows the URL to `length` with a signature parameter, as signed links do.
void pad_url(GenValue& v, std::size_t length, gun::Random& rng)
{
    constexpr std::string_view kSig = "?sig=";
    if (v.data.size() + kSig.size() >= length)
        return;
    v.data.append(kSig);
    static constexpr char kHex[] = "0123456789abcdef";
    while (v.data.size() < length)
        v.data.push_back(kHex[rng.below(16)]);
}

void make_spec(GenValue& v, std::size_t length, std::uint64_t serial, std::uint32_t timestamp, gun::Random& rng)
{
    std::string& d = v.data;
    d.append("{\"model\":\"EX-");
    append_number(d, serial % 1000000, 6);
    d.append("\",\"weight_g\":");
    append_number(d, 100 + rng.below(50000));
    d.append(",\"made\":");
    append_number(d, timestamp - rng.below(30 * 86400));
    d.append(",\"plant\":\"").append(kPlants[rng.below(kPlants.size())]).append("\",\"notes\":\"");
    const std::size_t close = 2; // "}
    fill_words(d, std::max(d.size(), length > close ? length - close : 0), rng);
    d.append("\"}");
}

void maybe_ttl(GenValue& v, gun::Random& rng)
{
    const auto r = rng.below(100);
    if (r < 15) {
        v.ttl_given = true;
        v.ttl = kTtls[rng.below(kTtls.size())];
    } else if (r < 17) {
        v.ttl_given = true;
        v.ttl_absolute = true; // expires a year after the value was written
        v.ttl = v.timestamp + 365 * 86400;
    }
}

} // namespace

void make_values(std::string_view prefix, std::uint64_t serial, gun::Random& rng, Identifier& out)
{
    out.count = 0;
    const std::size_t n = value_count(rng);
    const std::size_t budget = data_budget(rng);
    const auto timestamp = kFirstTimestamp + static_cast<std::uint32_t>(rng.below(kTimestampSpan));
    const std::string_view host = kHosts[rng.below(kHosts.size())];

    GenValue& url = start(out, 1, "URL", timestamp);
    make_url(url, prefix, serial, host);
    maybe_ttl(url, rng);
    // n - 3 of the optional kinds, chosen by a partial shuffle, then put back in index order:
    // values are written in index order (1, 2..6, 10, 100).
    std::array<std::uint32_t, 5> kinds{2, 3, 4, 5, 6};
    const std::size_t extra = n > 3 ? n - 3 : 0;
    for (std::size_t k = 0; k < extra; ++k)
        std::swap(kinds[k], kinds[k + rng.below(kinds.size() - k)]);
    std::sort(kinds.begin(), kinds.begin() + static_cast<std::ptrdiff_t>(extra));
    for (std::size_t k = 0; k < extra; ++k) {
        switch (kinds[k]) {
        case 2: {
            GenValue& v = start(out, 2, "EMAIL", timestamp);
            v.data.append(kMailboxes[rng.below(kMailboxes.size())]).push_back('@');
            v.data.append(host.substr(host.find('.') + 1));
            if (rng.below(100) < 10)
                v.permissions = "rw--"; // a contact kept from anonymous clients
            break;
        }
        case 3:
            start(out, 3, "manufacturer", timestamp).data.append(kManufacturers[rng.below(kManufacturers.size())]);
            break;
        case 4:
            start(out, 4, "product.name", timestamp).data.append(kProducts[rng.below(kProducts.size())]);
            break;
        case 5: {
            GenValue& v = start(out, 5, "product.batch", timestamp);
            v.data.push_back('B');
            append_number(v.data, 2019 + rng.below(8));
            v.data.push_back('-');
            append_number(v.data, 1 + rng.below(12), 2);
            v.data.push_back('-');
            append_number(v.data, rng.below(10000), 4);
            break;
        }
        default: {
            GenValue& v = start(out, 6, "GS1", timestamp); // GTIN and serial as GS1 element strings
            v.data.append("(01)0690");
            append_number(v.data, rng.below(10'000'000'000), 10);
            v.data.append("(21)");
            append_number(v.data, serial, 6);
            break;
        }
        }
        maybe_ttl(out.slots[out.count - 1], rng);
    }
    std::size_t used = n >= 2 ? 2 + 4 + 5 + prefix.size() + 4 : 0; // the HS_ADMIN record, added last
    for (const GenValue& v : out.values())
        used += v.data_size();
    if (n >= 3) {
        GenValue& spec = start(out, 10, "product.spec", timestamp);
        make_spec(spec, budget > used ? budget - used : 0, serial, timestamp, rng);
        if (rng.below(100) < 5)
            spec.permissions = "rw--"; // internal data: not publicly readable
        maybe_ttl(spec, rng);
    } else {
        pad_url(out.slots[0], budget > used ? out.slots[0].data.size() + budget - used : 0, rng);
    }
    if (n >= 2) {
        GenValue& admin = start(out, 100, "HS_ADMIN", timestamp);
        admin.admin = true;
        admin.data.append("0.NA/").append(prefix);
        admin.admin_index = kAdminIndex;
        admin.admin_permissions = kDefaultAdminPermissions;
    }
}

} // namespace idpath::datagen
