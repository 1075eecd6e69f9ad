// SPDX-License-Identifier: Apache-2.0
// Notifications (`notify:`): what a finished run has to tell people, queued once per event in
// the state and delivered to webhooks and Slack after the run, never in its way.
#include <wfsync/app/notifications.hpp>

#include <wfsync/core/hash.hpp>
#include <wfsync/core/log.hpp>
#include <wfsync/net/http_client.hpp>
#include <wfsync/sync/engine.hpp>

#include <boost/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <set>

namespace wfsync::app {
namespace {

namespace json = boost::json;
using config::notify_event;

std::string iso_time(std::int64_t t)
{
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

bool is_tenant(const std::string& target) { return target.rfind("archive:", 0) != 0; }

notice from_item(notify_event ev, const sync::run_summary& s, const sync::item& i, std::int64_t now)
{
    notice n;
    n.event = ev;
    n.rule = s.rule;
    n.run = s.run_uid;
    n.at = now;
    n.source_tenant = i.source_tenant;
    n.target_tenant = i.target_tenant;
    n.workflow = i.workflow_name;
    n.workflow_id = i.source_workflow;
    n.version = i.source_version;
    n.target_version = i.target_version;
    n.content_hash = i.content_hash;
    n.message = log::redact(i.reason);
    return n;
}

/// Why a run counts as failing, in words; empty when it does not.
std::string failing_why(const result<sync::run_summary>& run, std::string& targets)
{
    if (!run) return "the run failed: " + log::redact(run.error().what());
    std::vector<std::string> lines;
    std::set<std::string> where;
    int failed = 0;
    for (const auto& i : run->items) {
        if (i.what != sync::action::error) continue;
        ++failed;
        where.insert(i.target_tenant);
        if (lines.size() < 5)
            lines.push_back(fmt::format("{} -> {}: {}", i.workflow_name, i.target_tenant, log::redact(i.reason)));
    }
    for (const auto& p : run->prune_errors) {
        ++failed;
        if (lines.size() < 5) lines.push_back(log::redact(p));
    }
    if (failed == 0) return {};
    for (const auto& t : where) targets += (targets.empty() ? "" : ",") + t;
    std::string out = fmt::format("{} item{} failed", failed, failed == 1 ? "" : "s");
    for (const auto& l : lines) out += "; " + l;
    if (failed > static_cast<int>(lines.size())) out += "; ...";
    return out;
}

}  // namespace

run_notices notices_of(const std::string& rule, const result<sync::run_summary>& run,
                       const std::optional<store::rule_health>& previous,
                       const std::vector<store::import_intent>& held, std::int64_t now)
{
    run_notices out;
    const std::string run_uid = run ? run->run_uid : std::string();
    if (run) {
        for (const auto& i : run->items) {
            const bool landed = ((i.what == sync::action::import || i.what == sync::action::create) && i.done) ||
                                i.what == sync::action::adopt;
            if (landed && is_tenant(i.target_tenant)) {
                auto n = from_item(notify_event::promoted, *run, i, now);
                // Once per version per target, however it got there (this run, or an adoption).
                n.key = fmt::format("promoted|{}|{}/{}|{}|{}", rule, i.source_tenant, i.source_workflow,
                                    i.target_tenant, i.content_hash);
                out.notices.push_back(std::move(n));
            }
            const bool drift = i.what == sync::action::drift || i.drifted ||
                               (i.what == sync::action::error && i.error_kind == errc::drift);
            if (drift) {
                auto n = from_item(notify_event::drift, *run, i, now);
                // The target's version tells one hand edit from the next; without it, the
                // reason does (it names that version).
                std::string which = i.what == sync::action::drift ? i.target_version : sha256_hex(i.reason).substr(0, 16);
                n.key = fmt::format("drift|{}|{}/{}|{}|{}|{}", rule, i.source_tenant, i.source_workflow,
                                    i.target_tenant, i.target_workflow, which);
                out.notices.push_back(std::move(n));
            }
        }
    }
    for (const auto& h : held) {
        if (h.rule != rule) continue;
        notice n;
        n.event = notify_event::unknown_outcome;
        n.key = fmt::format("unknown_outcome|intent|{}", h.id);
        n.rule = rule;
        n.run = run_uid;
        n.at = now;
        n.source_tenant = h.source_tenant;
        n.target_tenant = h.target_tenant;
        n.workflow_id = h.source_workflow;
        n.version = h.source_version;
        n.target_version = h.target_version;
        n.content_hash = h.content_hash;
        n.intent = h.id;
        if (run)
            for (const auto& i : run->items)
                if (i.source_workflow == h.source_workflow && i.target_tenant == h.target_tenant) n.workflow = i.workflow_name;
        n.message = log::redact(fmt::format("no read can tell whether import intent {} happened: {}; check the "
                                            "target, then `wfsync resolve --intent {} --imported` or `--not-imported`",
                                            h.id, h.hold, h.id));
        out.notices.push_back(std::move(n));
    }

    std::string targets;
    const std::string why = failing_why(run, targets);
    const bool was_failing = previous && previous->failing;
    out.health.rule = rule;
    out.health.updated_at = now;
    out.health.failing = !why.empty();
    // A run that could not start has no id: the time stands in for it.
    const std::string this_run = run_uid.empty() ? fmt::format("at-{}", now) : run_uid;
    out.health.since_run = out.health.failing == was_failing && previous ? previous->since_run : this_run;
    if (out.health.failing != was_failing) {
        notice n;
        n.event = out.health.failing ? notify_event::failure : notify_event::recovered;
        n.rule = rule;
        n.run = run_uid;
        n.at = now;
        n.target_tenant = targets;
        if (run && !run->items.empty()) n.source_tenant = run->items.front().source_tenant;
        // A failure is keyed by the run it began in, its recovery by the same run.
        n.key = fmt::format("{}|{}|{}", to_string(n.event), rule,
                            out.health.failing ? this_run : previous->since_run);
        n.message = out.health.failing ? why : fmt::format("rule {} runs without errors again", rule);
        out.notices.push_back(std::move(n));
    }
    return out;
}

json::object notice_json(const notice& n)
{
    json::object o;
    o["event"] = to_string(n.event);
    o["rule"] = n.rule;
    o["run"] = n.run;
    o["time"] = iso_time(n.at);
    o["source_tenant"] = n.source_tenant;
    o["target_tenant"] = n.target_tenant;
    o["workflow"] = n.workflow;
    o["workflow_id"] = n.workflow_id;
    o["version"] = n.version;
    o["target_version"] = n.target_version;
    o["content_hash"] = n.content_hash;
    if (n.intent != 0) o["intent"] = n.intent;
    else o["intent"] = nullptr;
    o["message"] = n.message;
    return o;
}

std::string webhook_body(const json::object& stored, std::string_view delivery, std::int64_t timestamp)
{
    json::object o = stored;
    o["delivery"] = delivery;
    o["timestamp"] = timestamp;
    return json::serialize(o);
}

std::string webhook_signature(std::string_view key, std::string_view body)
{
    return "sha256=" + hmac_sha256_hex(key, body);
}

namespace {

std::string text_of(const json::object& o, std::string_view key)
{
    if (auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->as_string());
    return {};
}

/// Slack's mrkdwn gives &, < and > a meaning; text from outside is escaped.
std::string slack_escape(std::string_view s)
{
    std::string out;
    for (char c : s) {
        if (c == '&') out += "&amp;";
        else if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else out += c;
    }
    return out;
}

}  // namespace

std::string slack_body(const json::object& o)
{
    const auto event = text_of(o, "event");
    const auto rule = slack_escape(text_of(o, "rule"));
    const auto workflow = slack_escape(text_of(o, "workflow").empty() ? text_of(o, "workflow_id") : text_of(o, "workflow"));
    const auto target = slack_escape(text_of(o, "target_tenant"));
    const auto source = slack_escape(text_of(o, "source_tenant"));
    const auto version = slack_escape(text_of(o, "target_version").empty() ? text_of(o, "version") : text_of(o, "target_version"));
    std::string head;
    if (event == "promoted")
        head = fmt::format(":rocket: *wfsync* rule `{}`: promoted *{}* {} from {} to {}", rule, workflow,
                           slack_escape(text_of(o, "version")), source, target);
    else if (event == "drift")
        head = fmt::format(":warning: *wfsync* rule `{}`: *{}* in {} was changed outside wfsync (version {})", rule,
                           workflow, target, version);
    else if (event == "unknown_outcome")
        head = fmt::format(":question: *wfsync* rule `{}`: import of *{}* {} into {} is held for an operator", rule,
                           workflow, slack_escape(text_of(o, "version")), target);
    else if (event == "failure")
        head = fmt::format(":x: *wfsync* rule `{}` is failing", rule);
    else if (event == "recovered")
        head = fmt::format(":white_check_mark: *wfsync* rule `{}` recovered", rule);
    else
        head = fmt::format("*wfsync* rule `{}`: {}", rule, slack_escape(event));
    std::string text = head;
    if (auto m = text_of(o, "message"); !m.empty()) text += "\n" + slack_escape(m);
    if (auto run = text_of(o, "run"); !run.empty()) text += fmt::format("\n(run {})", slack_escape(run));
    return json::serialize(json::object{{"text", text}});
}

awaitable<delivery_outcome> deliver(executor ex, const config::notify_target& target,
                                    const store::notification_row& row, std::int64_t now)
{
    delivery_outcome out;
    std::string url = target.url;
    if (!target.url_secret.empty()) {
        auto s = target.url_secret.read();
        if (!s) {
            out.error = log::redact("url: " + s.error().message);
            co_return out;
        }
        url = std::move(*s);
        // Errors of the client name the path; the secret URL's path is masked everywhere.
        if (auto p = url.find('/', url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
            p != std::string::npos)
            log::add_secret(url.substr(p));
        if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
            out.error = "the URL read from the secret does not start with https:// or http://";
            co_return out;
        }
    }
    json::object stored;
    {
        boost::system::error_code ec;
        auto v = json::parse(row.payload, ec);
        if (ec || !v.is_object()) {
            out.error = "the queued notification is not JSON";
            co_return out;
        }
        stored = std::move(v.as_object());
    }

    net::http_request req;
    req.method = "POST";
    req.content_type = "application/json";
    // Receivers de-duplicate by X-Wfsync-Delivery, so a resend after a lost answer is harmless.
    req.repeatable = true;
    req.headers.set("X-Wfsync-Event", row.event);
    req.headers.set("X-Wfsync-Delivery", row.delivery);
    if (target.type == config::notify_type::slack) {
        req.body = slack_body(stored);
    } else {
        auto key = target.key.read();
        if (!key) {
            out.error = log::redact("secret: " + key.error().message);
            co_return out;
        }
        req.body = webhook_body(stored, row.delivery, now);
        req.headers.set("X-Wfsync-Timestamp", std::to_string(now));
        req.headers.set("X-Wfsync-Signature", webhook_signature(*key, req.body));
    }

    net::client_settings cs;
    cs.base_url = url;
    cs.request_timeout = target.net.timeout;
    cs.connect_timeout = std::min(target.net.timeout, milliseconds(10'000));
    cs.max_attempts = target.net.retry.max_attempts;
    cs.initial_backoff = target.net.retry.initial_backoff;
    cs.max_backoff = target.net.retry.max_backoff;
    cs.concurrency = 1;
    cs.rate_per_second = 0;
    cs.max_body = 64 * 1024;  // the answer is read only for its status
    net::http_client client(ex, cs);
    client.on_attempt([&](const net::attempt_record&) { ++out.attempts; });
    auto r = co_await client.send(std::move(req));
    if (!r) {
        out.error = log::redact(r.error().what());
    } else if (r->status / 100 != 2) {
        out.error = fmt::format("HTTP {}", r->status);
    } else {
        out.sent = true;
    }
    co_return out;
}

notifications::notifications(executor ex, store::store& st) : ex_(std::move(ex)), st_(st) {}

void notifications::report(const std::string& target, const std::string& event, std::string_view outcome)
{
    if (observer_) observer_(target, event, outcome);
}

void notifications::queue(const config::config& cfg, const std::string& rule, const result<sync::run_summary>& run)
{
    if (cfg.notify.empty()) return;
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    auto previous = st_.get_rule_health(rule);
    auto held = st_.held_intents();
    if (!previous || !held) {
        log::warn("notifications of rule {}: cannot read the state: {}", rule,
                  (!previous ? previous.error() : held.error()).what());
        return;
    }
    auto found = notices_of(rule, run, *previous, *held, now);
    // The health and the notices it implies go in together: a crash between them would lose
    // a failure's notice, or announce one twice.
    st_.begin_batching();
    auto health = st_.put_rule_health(found.health);
    if (!health) log::warn("notifications of rule {}: cannot record its health: {}", rule, health.error().what());
    for (const auto& n : found.notices) {
        for (const auto& [name, target] : cfg.notify) {
            if (!target.wants(n.event, rule)) continue;
            store::notification_row row;
            row.target = name;
            row.event_key = n.key;
            row.event = std::string(to_string(n.event));
            row.rule = rule;
            row.delivery = random_hex(16);
            row.payload = json::serialize(notice_json(n));
            row.created_at = now;
            auto q = st_.queue_notification(row);
            if (!q) log::warn("notification {} for {}: cannot queue it: {}", n.key, name, q.error().what());
            else if (*q) log::debug("notification {} queued for {}", n.key, name);
        }
    }
    if (auto e = st_.end_batching(); !e) log::warn("notifications of rule {}: cannot commit: {}", rule, e.error().what());
}

awaitable<std::size_t> notifications::deliver_pending(std::shared_ptr<const config::config> cfg)
{
    if (delivering_) {
        again_ = true;
        co_return 0;
    }
    delivering_ = true;
    struct reset {
        bool& flag;
        ~reset() { flag = false; }
    } guard{delivering_};
    std::size_t sent = 0;
    do {
        again_ = false;
        auto pending = st_.pending_notifications();
        if (!pending) {
            log::warn("notifications: cannot read the queue: {}", pending.error().what());
            co_return sent;
        }
        std::set<std::string> down;  // failed in this pass: the rest waits for a later run
        for (const auto& row : *pending) {
            auto t = cfg->notify.find(row.target);
            if (t == cfg->notify.end() || down.contains(row.target)) continue;
            const auto now = static_cast<std::int64_t>(std::time(nullptr));
            if (now - row.created_at > max_age_seconds) {
                log::warn("notify {}: dropping {} notification {} (delivery {}), undelivered since {}: {}",
                          t->second.shown(), row.event, row.event_key, row.delivery, iso_time(row.created_at),
                          row.last_error);
                (void)st_.set_notification_state(row.id, store::notification_state::dropped, 0, row.last_error);
                report(row.target, row.event, "dropped");
                continue;
            }
            auto r = co_await deliver(ex_, t->second, row, now);
            for (int i = 1; i < r.attempts; ++i) report(row.target, row.event, "retry");
            auto state = r.sent ? store::notification_state::sent : store::notification_state::pending;
            if (auto u = st_.set_notification_state(row.id, state, r.attempts, r.error); !u)
                log::warn("notify {}: cannot record the delivery: {}", t->second.shown(), u.error().what());
            if (r.sent) {
                ++sent;
                report(row.target, row.event, "sent");
                log::debug("notify {}: sent {} ({}), delivery {}", t->second.shown(), row.event, row.event_key,
                           row.delivery);
            } else {
                down.insert(row.target);
                report(row.target, row.event, "failed");
                log::warn("notify {}: {} notification not delivered (a later run tries again): {}",
                          t->second.shown(), row.event, r.error);
            }
        }
    } while (again_);
    if (sent > 0) log::info("notifications: {} sent", sent);
    co_return sent;
}

awaitable<std::size_t> notifications::after_run(std::shared_ptr<const config::config> cfg, std::string rule,
                                                const result<sync::run_summary>& run)
{
    queue(*cfg, rule, run);
    if (cfg->notify.empty()) co_return 0;
    co_return co_await deliver_pending(std::move(cfg));
}

}  // namespace wfsync::app
