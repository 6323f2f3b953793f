#include "controlplane/crypto/openssl_error.hpp"

#include <openssl/err.h>

namespace idpath::crypto {

std::string openssl_errors()
{
    std::string out;
    for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        out += out.empty() ? "" : "; ";
        out += buf;
    }
    return out.empty() ? "unknown OpenSSL error" : out;
}

} // namespace idpath::crypto
