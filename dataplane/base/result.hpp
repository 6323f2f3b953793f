#pragma once
/// Result<T, E>: a value or a typed error, for code that must not throw (std::expected is C++23).

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace idpath {

/// Wraps an error so Result's constructors are unambiguous when T and E convert to each other.
template <class E>
struct Err {
    explicit Err(E e) : error(std::move(e)) {}
    E error;
};

template <class E>
Err(E) -> Err<E>;

template <class T, class E>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    template <class E2>
    Result(Err<E2> e) : v_(std::in_place_index<1>, E(std::move(e.error)))
    {
    }

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & noexcept { return *checked(std::get_if<0>(&v_)); }
    const T& value() const& noexcept { return *checked(std::get_if<0>(&v_)); }
    T&& value() && noexcept { return std::move(*checked(std::get_if<0>(&v_))); }
    const E& error() const noexcept { return *checked(std::get_if<1>(&v_)); }

    T* operator->() noexcept { return &value(); }
    const T* operator->() const noexcept { return &value(); }
    T& operator*() & noexcept { return value(); }
    const T& operator*() const& noexcept { return value(); }

private:
    /// Accessing the alternative not held is a bug in the caller: asserted in debug builds, and
    /// declared impossible so the optimiser does not warn of a null dereference.
    template <class P>
    static P* checked(P* p) noexcept
    {
        assert(p);
        if (!p)
            __builtin_unreachable();
        return p;
    }

    std::variant<T, E> v_;
};

/// Result<void, E>: success carries nothing (`return {};`), failure an error, as Result<T, E>.
template <class E>
class [[nodiscard]] Result<void, E> {
public:
    Result() = default;
    template <class E2>
    Result(Err<E2> e) : error_(E(std::move(e.error)))
    {
    }

    bool ok() const noexcept { return !error_.has_value(); }
    explicit operator bool() const noexcept { return ok(); }

    const E& error() const noexcept
    {
        assert(error_);
        if (!error_)
            __builtin_unreachable();
        return *error_;
    }

private:
    std::optional<E> error_;
};

} // namespace idpath
