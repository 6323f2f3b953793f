// A private rsyslogd for the syslog sink's tests; see rsyslogd.hpp.

#include "tests/unit/mirror/syslog/rsyslogd.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace idpath::mirror::testing {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

std::string read_file(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Starts argv with stdout and stderr appended to `log` and stdin from /dev/null; the pid or
/// -1. The child gets SIGKILL when this process dies, so a crashed or killed test run leaves
/// no rsyslogd behind.
pid_t spawn(const std::string& program, const std::vector<std::string>& argv, const fs::path& log, bool path_lookup)
{
    std::vector<char*> args;
    for (const std::string& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid != 0)
        return pid;
    // The child: async-signal-safe calls only until exec.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent)
        ::_exit(127);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || in < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0)
        ::_exit(127);
    if (path_lookup)
        ::execvp(program.c_str(), args.data());
    else
        ::execv(program.c_str(), args.data());
    ::_exit(127);
}

/// Waits for `pid` until `deadline`; its wait status, or -1 if it is still running.
int wait_until(pid_t pid, Clock::time_point deadline)
{
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return r == pid ? status : 0;
        if (Clock::now() >= deadline)
            return -1;
        std::this_thread::sleep_for(5ms);
    }
}

std::uint16_t read_port(const fs::path& path)
{
    const std::string text = read_file(path);
    unsigned long port = 0;
    try {
        port = std::stoul(text);
    } catch (...) {
        return 0;
    }
    return port > 0 && port < 65536 ? static_cast<std::uint16_t>(port) : 0;
}

/// Whether something listens on 127.0.0.1:`port` (/proc/net/tcp: no connection, so rsyslogd
/// logs nothing about it). rsyslogd writes listenPortFileName only for ports it chose itself.
bool listening(std::uint16_t port)
{
    char local[32];
    std::snprintf(local, sizeof local, "0100007F:%04X", port);
    std::istringstream table(read_file("/proc/net/tcp"));
    std::string line;
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string slot, address, remote, state;
        if (fields >> slot >> address >> remote >> state && address == local && state == "0A")
            return true;
    }
    return false;
}

/// The output template: one JSON object per message with the fields rsyslog's parser found.
const char* const kFieldsTemplate = R"(template(name="fields" type="list") {
  constant(value="{\"version\":\"")
  property(name="protocol-version" format="json")
  constant(value="\",\"time\":\"")
  property(name="timereported" dateFormat="rfc3339" format="json")
  constant(value="\",\"hostname\":\"")
  property(name="hostname" format="json")
  constant(value="\",\"app\":\"")
  property(name="app-name" format="json")
  constant(value="\",\"procid\":\"")
  property(name="procid" format="json")
  constant(value="\",\"msgid\":\"")
  property(name="msgid" format="json")
  constant(value="\",\"pri\":\"")
  property(name="pri" format="json")
  constant(value="\",\"sd\":\"")
  property(name="structured-data" format="json")
  constant(value="\",\"msg\":\"")
  property(name="msg" format="json")
  constant(value="\"}\n")
}
)";

} // namespace

bool run_command(const std::vector<std::string>& argv, const fs::path& log, std::chrono::seconds timeout)
{
    const pid_t pid = spawn(argv.at(0), argv, log, true);
    if (pid < 0)
        return false;
    const int status = wait_until(pid, Clock::now() + timeout);
    if (status < 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        return false;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string make_test_pki(const fs::path& dir)
{
    const fs::path log = dir / "openssl.log";
    const auto p = [&](const char* name) { return (dir / name).string(); };
    const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
    auto req = [&](std::vector<std::string> argv) {
        std::vector<std::string> full = {"openssl", "req"};
        full.insert(full.end(), ec.begin(), ec.end());
        full.insert(full.end(), argv.begin(), argv.end());
        return run_command(full, log);
    };
    {
        std::ofstream(dir / "server.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                             "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
        std::ofstream(dir / "client.ext") << "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n";
    }
    const bool ok =
        req({"-x509", "-days", "2", "-subj", "/CN=idpath test CA", "-keyout", p("ca.key"), "-out", p("ca.pem")}) &&
        req({"-x509", "-days", "2", "-subj", "/CN=idpath wrong CA", "-keyout", p("wrong-ca.key"), "-out",
             p("wrong-ca.pem")}) &&
        req({"-subj", "/CN=localhost", "-keyout", p("server.key"), "-out", p("server.csr")}) &&
        req({"-subj", "/CN=idpath-node", "-keyout", p("client.key"), "-out", p("client.csr")}) &&
        run_command({"openssl", "x509", "-req", "-days", "2", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey",
                     p("ca.key"), "-CAcreateserial", "-extfile", p("server.ext"), "-out", p("server.pem")},
                    log) &&
        run_command({"openssl", "x509", "-req", "-days", "2", "-in", p("client.csr"), "-CA", p("ca.pem"), "-CAkey",
                     p("ca.key"), "-CAcreateserial", "-extfile", p("client.ext"), "-out", p("client.pem")},
                    log);
    return ok ? std::string() : "openssl failed: " + read_file(log);
}

Rsyslogd::Rsyslogd(fs::path dir, bool count_only) : dir_(std::move(dir)), count_only_(count_only) {}

Rsyslogd::~Rsyslogd() { stop(); }

std::string Rsyslogd::start() { return start(Ports{}); }

std::string Rsyslogd::start(const Ports& want)
{
    stop();
    fs::create_directories(dir_ / "work");
    for (const char* name : {"plain.port", "tls.port", "mtls.port", "rsyslogd.pid"})
        fs::remove(dir_ / name);
    const auto p = [&](const char* name) { return (dir_ / name).string(); };
    const auto input = [&](const char* name, std::uint16_t port, const char* tls) {
        std::ostringstream s;
        s << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << port << "\" listenPortFileName=\""
          << p(name) << "\"" << tls << ")\n";
        return s.str();
    };
    const std::string tls_files = " streamDriver.name=\"ossl\" streamDriver.mode=\"1\" streamDriver.CAFile=\"" +
                                  p("ca.pem") + "\" streamDriver.CertFile=\"" + p("server.pem") +
                                  "\" streamDriver.KeyFile=\"" + p("server.key") + "\"";
    {
        std::ofstream conf(dir_ / "rsyslog.conf");
        conf << "global(workDirectory=\"" << p("work") << "\")\n" // maxMessageSize: the default 8k
             << "module(load=\"imtcp\")\n"
             << input("plain.port", want.plain, "")
             << input("tls.port", want.tls, (tls_files + " streamDriver.authMode=\"anon\"").c_str())
             << input("mtls.port", want.mtls, (tls_files + " streamDriver.authMode=\"x509/certvalid\"").c_str())
             << (count_only_ ? "template(name=\"fields\" type=\"string\" string=\"%msgid%\\n\")\n" : kFieldsTemplate)
             << "if $app-name == \"idpathd\" then {\n"
             << "  action(type=\"omfile\" file=\"" << p("out.log") << "\" template=\"fields\")\n"
             << "  stop\n}\n"
             << "action(type=\"omfile\" file=\"" << p("other.log") << "\")\n";
    }
    pid_ = spawn(kRsyslogd, {"rsyslogd", "-f", p("rsyslog.conf"), "-i", p("rsyslogd.pid"), "-n"},
                 dir_ / "rsyslogd.out", false);
    if (pid_ < 0)
        return "cannot start " + std::string(kRsyslogd);
    const auto deadline = Clock::now() + 10s;
    for (;;) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
            pid_ = -1;
            return "rsyslogd exited at startup: " + diagnostics();
        }
        const auto port = [&](std::uint16_t wanted, const char* file) -> std::uint16_t {
            if (wanted == 0)
                return read_port(dir_ / file);
            return listening(wanted) ? wanted : 0;
        };
        const Ports got{port(want.plain, "plain.port"), port(want.tls, "tls.port"), port(want.mtls, "mtls.port")};
        if (got.plain != 0 && got.tls != 0 && got.mtls != 0) {
            ports_ = got;
            return {};
        }
        if (Clock::now() >= deadline) {
            stop();
            return "rsyslogd did not listen within 10 s: " + diagnostics();
        }
        std::this_thread::sleep_for(10ms);
    }
}

void Rsyslogd::stop()
{
    if (pid_ <= 0)
        return;
    ::kill(pid_, SIGTERM);
    if (wait_until(pid_, Clock::now() + 5s) < 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
}

std::vector<std::string> Rsyslogd::lines() const
{
    std::vector<std::string> out;
    const std::string text = read_file(dir_ / "out.log");
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
        out.push_back(text.substr(start, nl - start));
    return out; // a last line without its '\n' is still being written
}

std::vector<nlohmann::json> Rsyslogd::wait_for(std::size_t n, std::chrono::milliseconds timeout) const
{
    const auto deadline = Clock::now() + timeout;
    std::vector<std::string> got = lines();
    while (got.size() < n && Clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
        got = lines();
    }
    std::vector<nlohmann::json> parsed;
    for (const std::string& line : got)
        parsed.push_back(nlohmann::json::parse(line, nullptr, false));
    return parsed;
}

std::string Rsyslogd::diagnostics() const
{
    return "\n--- rsyslogd output:\n" + read_file(dir_ / "rsyslogd.out") + "\n--- rsyslogd's own messages:\n" +
           read_file(dir_ / "other.log");
}

} // namespace idpath::mirror::testing
