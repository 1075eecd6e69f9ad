// SPDX-License-Identifier: Apache-2.0
#include <wfsync/net/multipart.hpp>
#include <wfsync/net/http.hpp>

#include <wfsync/core/hash.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

namespace wfsync::net {

namespace {

constexpr std::string_view crlf = "\r\n";
// A part's header block is a few short lines; anything longer is garbage or an attack.
constexpr std::size_t max_header_block = 16 * 1024;

// WHATWG form encoding for names: keeps the quoted-string and the header line intact.
std::string escape_name(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c == '"')
            out += "%22";
        else if (c == '\r')
            out += "%0D";
        else if (c == '\n')
            out += "%0A";
        else
            out += c;
    }
    return out;
}

// A content type is ours to choose, but a CR/LF in it would inject header lines.
std::string clean_header_value(std::string_view s)
{
    std::string out;
    for (char c : s)
        if (c != '\r' && c != '\n')
            out += c;
    return out;
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

struct param {
    std::string key;  // lower-cased
    std::string value;
};

// Parses `; key=value; key="quoted \" value"` after a header's first token.
result<std::vector<param>> parse_params(std::string_view s, std::string_view where)
{
    std::vector<param> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == ';'))
            ++i;
        if (i >= s.size())
            break;
        auto eq = s.find('=', i);
        auto semi = s.find(';', i);
        if (eq == std::string_view::npos || (semi != std::string_view::npos && semi < eq)) {
            // A bare token (no value): skip it.
            i = semi == std::string_view::npos ? s.size() : semi;
            continue;
        }
        param p;
        for (char c : trim(s.substr(i, eq - i)))
            p.key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        i = eq + 1;
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
            ++i;
        if (i < s.size() && s[i] == '"') {
            ++i;
            bool closed = false;
            while (i < s.size()) {
                char c = s[i++];
                if (c == '\\' && i < s.size()) {
                    p.value += s[i++];
                } else if (c == '"') {
                    closed = true;
                    break;
                } else {
                    p.value += c;
                }
            }
            if (!closed)
                return fail(errc::bad_response,
                            std::string(where) + ": unterminated quoted value of parameter '" + p.key + "'");
        } else {
            auto end = s.find(';', i);
            if (end == std::string_view::npos)
                end = s.size();
            p.value = std::string(trim(s.substr(i, end - i)));
            i = end;
        }
        out.push_back(std::move(p));
    }
    return out;
}

const std::string* find_param(const std::vector<param>& ps, std::string_view key)
{
    for (auto& p : ps)
        if (p.key == key)
            return &p.value;
    return nullptr;
}

}  // namespace

multipart_body make_multipart(const std::vector<multipart_part>& parts)
{
    // 32 random hex digits: a collision with the data is astronomically unlikely, and it is
    // checked anyway so that a body can never be cut in the wrong place.
    std::string boundary;
    for (;;) {
        boundary = "wfsync-" + random_hex(16);
        bool clash = std::any_of(parts.begin(), parts.end(), [&](const multipart_part& p) {
            return p.data.find(boundary) != std::string::npos;
        });
        if (!clash)
            break;
    }
    multipart_body out;
    out.content_type = "multipart/form-data; boundary=" + boundary;
    for (auto& p : parts) {
        out.body += "--";
        out.body += boundary;
        out.body += crlf;
        out.body += "Content-Disposition: form-data; name=\"" + escape_name(p.name) + "\"";
        if (!p.filename.empty())
            out.body += "; filename=\"" + escape_name(p.filename) + "\"";
        out.body += crlf;
        if (!p.content_type.empty())
            out.body += "Content-Type: " + clean_header_value(p.content_type) + std::string(crlf);
        else if (!p.filename.empty())
            out.body += "Content-Type: application/octet-stream\r\n";
        out.body += crlf;
        out.body += p.data;
        out.body += crlf;
    }
    out.body += "--" + boundary + "--" + std::string(crlf);
    return out;
}

result<std::vector<multipart_part>> parse_multipart(std::string_view content_type,
                                                    std::string_view body, std::size_t max_parts)
{
    auto semi = content_type.find(';');
    auto type = trim(content_type.substr(0, semi));
    if (!iequals(type, "multipart/form-data"))
        return fail(errc::bad_response,
                    "multipart: content type is '" + std::string(type) + "', not multipart/form-data");
    if (semi == std::string_view::npos)
        return fail(errc::bad_response, "multipart: content type has no boundary parameter");
    auto params = parse_params(content_type.substr(semi + 1), "multipart content type");
    if (!params)
        return params.error();
    auto b = find_param(*params, "boundary");
    if (!b)
        return fail(errc::bad_response, "multipart: content type has no boundary parameter");
    if (b->empty() || b->size() > 70)
        return fail(errc::bad_response, "multipart: boundary must be 1 to 70 characters long");
    const std::string delim = "--" + *b;
    const std::string inner = "\r\n" + delim;

    // The first delimiter opens the body or follows a preamble line.
    std::size_t pos;
    if (body.substr(0, delim.size()) == delim) {
        pos = delim.size();
    } else {
        auto at = body.find(inner);
        if (at == std::string_view::npos)
            return fail(errc::bad_response, "multipart: body does not contain the boundary");
        pos = at + inner.size();
    }

    std::vector<multipart_part> parts;
    for (;;) {
        // After a delimiter: "--" closes the body, otherwise optional padding and CRLF.
        if (body.substr(pos, 2) == "--")
            return parts;
        while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t'))
            ++pos;
        if (body.substr(pos, 2) != crlf) {
            if (pos >= body.size())
                return fail(errc::bad_response, "multipart: body truncated after delimiter " +
                                                    std::to_string(parts.size() + 1));
            return fail(errc::bad_response, "multipart: garbage after delimiter " +
                                                std::to_string(parts.size() + 1));
        }
        pos += 2;
        if (parts.size() >= max_parts)
            return fail(errc::bad_response,
                        "multipart: more than " + std::to_string(max_parts) + " parts");
        const std::string where = "multipart part " + std::to_string(parts.size() + 1);

        // Header block up to the empty line.
        std::string_view headers;
        if (body.substr(pos, 2) == crlf) {
            pos += 2;
        } else {
            auto end = body.find("\r\n\r\n", pos);
            if (end == std::string_view::npos) {
                if (body.size() - pos > max_header_block)
                    return fail(errc::bad_response, where + ": header block too large");
                return fail(errc::bad_response, where + ": body truncated in the part's headers");
            }
            if (end - pos > max_header_block)
                return fail(errc::bad_response, where + ": header block too large");
            headers = body.substr(pos, end - pos);
            pos = end + 4;
        }

        multipart_part part;
        bool have_disposition = false;
        while (!headers.empty()) {
            auto eol = headers.find(crlf);
            auto line = headers.substr(0, eol);
            headers = eol == std::string_view::npos ? std::string_view{} : headers.substr(eol + 2);
            auto colon = line.find(':');
            if (colon == std::string_view::npos)
                return fail(errc::bad_response, where + ": header line without ':'");
            auto name = trim(line.substr(0, colon));
            auto value = trim(line.substr(colon + 1));
            if (iequals(name, "content-disposition")) {
                auto vsemi = value.find(';');
                if (!iequals(trim(value.substr(0, vsemi)), "form-data"))
                    return fail(errc::bad_response, where + ": Content-Disposition is not form-data");
                if (vsemi == std::string_view::npos)
                    return fail(errc::bad_response, where + ": Content-Disposition has no name");
                auto ps = parse_params(value.substr(vsemi + 1), where);
                if (!ps)
                    return ps.error();
                auto n = find_param(*ps, "name");
                if (!n)
                    return fail(errc::bad_response, where + ": Content-Disposition has no name");
                part.name = *n;
                if (auto f = find_param(*ps, "filename"))
                    part.filename = *f;
                have_disposition = true;
            } else if (iequals(name, "content-type")) {
                part.content_type = std::string(value);
            }
        }
        if (!have_disposition)
            return fail(errc::bad_response, where + ": no Content-Disposition header");

        auto end = body.find(inner, pos);
        if (end == std::string_view::npos)
            return fail(errc::bad_response, where + " ('" + part.name +
                                                "'): body truncated (no closing boundary)");
        part.data = std::string(body.substr(pos, end - pos));
        pos = end + inner.size();
        parts.push_back(std::move(part));
    }
}

}  // namespace wfsync::net
