#include "controlplane/crypto/byte_stream.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace idpath::crypto {

namespace {

using Clock = std::chrono::steady_clock;

/// Milliseconds left before `deadline`, 0 when it has passed.
int remaining_ms(Clock::time_point deadline)
{
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

/// Waits for `events` on `fd` until `deadline`: true when ready (or in error, which the next
/// call reports), false at the deadline.
bool wait_for(int fd, short events, Clock::time_point deadline)
{
    for (;;) {
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, remaining_ms(deadline));
        if (n > 0)
            return true;
        if (n == 0)
            return false;
        if (errno != EINTR)
            return true; // let recv/send say what is wrong
    }
}

std::string io_error(const char* what, int e)
{
    if (e == ECONNRESET || e == EPIPE)
        return "reset";
    return std::string(what) + ": " + std::strerror(e);
}

class PlainStream final : public ByteStream {
public:
    explicit PlainStream(int fd) : fd_(fd) {}
    ~PlainStream() override
    {
        if (fd_ >= 0)
            ::close(fd_);
    }

    Result<std::size_t, std::string> read_some(MutableByteSpan out, int timeout_ms) override
    {
        const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        for (;;) {
            const ssize_t n = ::recv(fd_, out.data(), out.size(), MSG_DONTWAIT);
            if (n >= 0)
                return static_cast<std::size_t>(n);
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return Err(io_error("recv", errno));
            if (!wait_for(fd_, POLLIN, deadline))
                return Err(std::string("timeout"));
        }
    }

    Result<void, std::string> write_all(ByteSpan bytes, int timeout_ms) override
    {
        const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n >= 0) {
                done += static_cast<std::size_t>(n);
                continue;
            }
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return Err(io_error("send", errno));
            if (!wait_for(fd_, POLLOUT, deadline))
                return Err(std::string("timeout"));
        }
        return {};
    }

    void close() override
    {
        if (!shut_) {
            shut_ = true;
            ::shutdown(fd_, SHUT_WR);
        }
    }

    int fd() const noexcept override { return fd_; }

private:
    int fd_;
    bool shut_ = false;
};

} // namespace

Result<void, std::string> ByteStream::read_exact(MutableByteSpan out, int timeout_ms)
{
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    std::size_t got = 0;
    while (got < out.size()) {
        auto n = read_some(out.subspan(got), remaining_ms(deadline));
        if (!n)
            return Err(n.error());
        if (*n == 0)
            return Err("closed after " + std::to_string(got) + " of " + std::to_string(out.size()) + " octets");
        got += *n;
    }
    return {};
}

std::unique_ptr<ByteStream> plain_stream(int fd)
{
    return std::make_unique<PlainStream>(fd);
}

} // namespace idpath::crypto
