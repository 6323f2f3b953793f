#include "controlplane/mirror/syslog/tls_context.hpp"

#include <openssl/err.h>

namespace idpath::mirror::syslog {

namespace {

std::string failed(const char* what, const std::string& file)
{
    std::string text = "tls: " + std::string(what) + " " + file;
    if (std::string reason = take_openssl_errors(); !reason.empty())
        text += ": " + reason;
    return text;
}

} // namespace

std::string take_openssl_errors()
{
    std::string text;
    while (const unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!text.empty())
            text += "; ";
        text += buf;
    }
    return text;
}

Result<SslCtxPtr, std::string> make_tls_context(const TlsFiles& files)
{
    ERR_clear_error();
    SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx)
        return Err("tls: cannot create a context: " + take_openssl_errors());
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);

    if (files.ca_file.empty()) {
        if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1)
            return Err("tls: cannot load the system's trust store: " + take_openssl_errors());
    } else if (SSL_CTX_load_verify_locations(ctx.get(), files.ca_file.c_str(), nullptr) != 1) {
        return Err(failed("ca_file", files.ca_file));
    }

    if (files.cert_file.empty()) {
        if (!files.key_file.empty())
            return Err(std::string("tls: key_file is set but cert_file is not"));
        return ctx;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert_file.c_str()) != 1)
        return Err(failed("cert_file", files.cert_file));
    const std::string& key = files.key_file.empty() ? files.cert_file : files.key_file;
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1)
        return Err(failed("key_file", key));
    if (SSL_CTX_check_private_key(ctx.get()) != 1)
        return Err(failed("key_file does not match cert_file:", key));
    return ctx;
}

} // namespace idpath::mirror::syslog
