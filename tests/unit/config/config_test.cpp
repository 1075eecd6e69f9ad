// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE wfsync_config
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <wfsync/config/config.hpp>
#include <wfsync/core/log.hpp>

#include <support/temp_dir.hpp>

#include <cstdlib>
#include <string>

using namespace wfsync;
using namespace std::chrono_literals;
namespace cfg = wfsync::config;

namespace {

std::vector<cfg::config_issue> issues_of(const cfg::load_result& r)
{
    if (auto p = std::get_if<std::vector<cfg::config_issue>>(&r)) return *p;
    return {};
}

std::string all_text(const std::vector<cfg::config_issue>& v)
{
    std::string out;
    for (const auto& i : v) out += i.str() + "\n";
    return out;
}

std::shared_ptr<const cfg::config> require_ok(const cfg::load_result& r)
{
    auto issues = issues_of(r);
    BOOST_TEST_REQUIRE(issues.empty(), "unexpected issues:\n" << all_text(issues));
    return std::get<std::shared_ptr<const cfg::config>>(r);
}

std::vector<cfg::config_issue> require_issues(const cfg::load_result& r)
{
    auto issues = issues_of(r);
    BOOST_TEST_REQUIRE(!issues.empty(), "expected the config to be refused");
    return issues;
}

/// The one issue with this YAML path; fails the test if there is not exactly one.
/// A loaded secret's value, read now (secrets are read when used, not at load).
std::string secret_value(const cfg::secret& s)
{
    auto v = s.read();
    BOOST_TEST_REQUIRE(v.has_value(), (v ? "" : v.error().message));
    return *v;
}

cfg::config_issue issue_at(const std::vector<cfg::config_issue>& v, const std::string& path)
{
    const cfg::config_issue* found = nullptr;
    int n = 0;
    for (const auto& i : v)
        if (i.path == path) found = &i, ++n;
    BOOST_TEST_REQUIRE(n == 1, "expected one issue at " << path << ", got " << n << ":\n" << all_text(v));
    return *found;
}

bool contains(const std::string& hay, const std::string& needle)
{
    return hay.find(needle) != std::string::npos;
}

// A small valid tenant block to build failing configs around.
const std::string two_tenants = R"y(tenants:
  a:
    platform: zuora
    base_url: https://a.example
    auth: {type: bearer, token_env: WFT_TOKEN_A}
  b:
    platform: zuora
    base_url: https://b.example
    auth: {type: bearer, token_env: WFT_TOKEN_A}
)y";

/// One bearer tenant `a` whose token is the variable `var`.
std::string two_tenants_with_token(const std::string& var)
{
    return "tenants:\n  a:\n    platform: zuora\n    base_url: https://a.example\n"
           "    auth: {type: bearer, token_env: " + var + "}\n";
}

struct env_fixture {
    env_fixture()
    {
        ::setenv("WFT_ID", "client-id-123", 1);
        ::setenv("WFT_SECRET", "s3cret-from-env-xyz", 1);
        ::setenv("WFT_TOKEN", "bearer-token-abcdef", 1);
        ::setenv("WFT_TOKEN_A", "token-a-value-0001", 1);
        ::unsetenv("WFT_NOT_SET");
        ::unsetenv("CREDENTIALS_DIRECTORY");
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(loading, env_fixture)

BOOST_AUTO_TEST_CASE(full_config_lands_in_structs_with_defaults_merged)
{
    auto c = require_ok(cfg::load_string(R"y(state:
  path: /var/lib/wfsync-test
log: {level: debug, format: json}
admin: {listen: "127.0.0.1:9999"}
defaults:
  timeout: 10s
  retry: {max_attempts: 3, initial_backoff: 100ms, max_backoff: 5s}
  concurrency: 8
  rate_limit: 600/m
  poll: {interval: 1s, max_interval: 10s, timeout: 5m}
tenants:
  zsbx:
    platform: zuora
    base_url: https://rest.apisandbox.zuora.com/
    auth: {type: oauth2, client_id: "${WFT_ID}", client_secret_env: WFT_SECRET, token_url: "https://t.example/oauth/token"}
    entity_id: ent-1
    concurrency: 2
    retry: {max_attempts: 9}
  zprod:
    platform: zuora
    base_url: http://127.0.0.1:8080/prefix//
    auth: {type: bearer, token: "${WFT_TOKEN}"}
    tls: {verify: false}
    rate_limit: 5/h
  kdev:
    platform: kore
    base_url: https://kore.example
    auth: {type: api_key, key_env: WFT_SECRET}
    workflows:
      - {id: a-1, flow_id: cf-1, name: Banking Assistant}
      - {id: a-2, flow_id: cf-2}
  soc:
    platform: secmaster
    base_url: https://secmaster.example
    project_id: p1
    workspace_id: w1
    auth: {type: iam_password, iam_url: "https://iam.example", user: ops, domain: acme, project: eu, password_env: WFT_SECRET}
archives:
  local: {path: /tmp/arch, retention: {keep_last: 7, keep_weekly: 4}}
  other: {}
rules:
  - name: promote
    source: zsbx
    targets: [zprod]
    select: {include: ["Billing *", 458], exclude: ["* (draft)"]}
    version: active
    version_policy: bump
    create_missing: true
    activate: yes
    on_drift: fail
    schedule: "*/15 8-18 * * MON-FRI"
    timezone: Europe/Berlin
    jitter: 30s
    catch_up: true
  - name: backup
    source: zprod
    targets: ["archive:local"]
    schedule: "@every 10m"
    retention: {keep_last: 10, keep_daily: 14}
)y", "full.yaml"));
    BOOST_TEST(c->file == "full.yaml");
    BOOST_TEST(c->state.path == "/var/lib/wfsync-test");
    BOOST_TEST(c->log.level == "debug");
    BOOST_TEST(c->log.format == "json");
    BOOST_TEST(c->admin.listen == "127.0.0.1:9999");
    BOOST_TEST(c->defaults.timeout.count() == 10'000);
    BOOST_TEST(c->defaults.retry.max_attempts == 3);
    BOOST_TEST(c->defaults.retry.initial_backoff.count() == 100);
    BOOST_TEST(c->defaults.retry.max_backoff.count() == 5000);
    BOOST_TEST(c->defaults.concurrency == 8);
    BOOST_TEST(c->defaults.rate.per_second == 10.0);
    BOOST_TEST(c->defaults.rate.burst == 10);
    BOOST_TEST(c->defaults.poll.interval.count() == 1000);
    BOOST_TEST(c->defaults.poll.max_interval.count() == 10'000);
    BOOST_TEST(c->defaults.poll.timeout.count() == 300'000);

    BOOST_TEST_REQUIRE(c->tenants.size() == 4u);
    const auto* z = c->find_tenant("zsbx");
    BOOST_TEST_REQUIRE(z);
    BOOST_TEST(z->name == "zsbx");
    BOOST_TEST((z->kind == cfg::platform::zuora));
    BOOST_TEST(z->base_url == "https://rest.apisandbox.zuora.com");
    BOOST_TEST(z->where.str() == "full.yaml:12:3");
    BOOST_TEST((z->auth.type == cfg::auth_type::oauth2));
    BOOST_TEST(z->auth.client_id == "client-id-123");
    BOOST_TEST(secret_value(z->auth.client_secret) == "s3cret-from-env-xyz");
    BOOST_TEST(z->auth.token_url == "https://t.example/oauth/token");
    BOOST_TEST(z->entity_id == "ent-1");
    // Overrides win, everything else comes from defaults.
    BOOST_TEST(z->net.concurrency == 2);
    BOOST_TEST(z->net.retry.max_attempts == 9);
    BOOST_TEST(z->net.retry.initial_backoff.count() == 100);
    BOOST_TEST(z->net.retry.max_backoff.count() == 5000);
    BOOST_TEST(z->net.timeout.count() == 10'000);
    BOOST_TEST(z->net.rate.per_second == 10.0);
    BOOST_TEST(z->tls.verify);

    const auto* p = c->find_tenant("zprod");
    BOOST_TEST_REQUIRE(p);
    BOOST_TEST(p->base_url == "http://127.0.0.1:8080/prefix");
    BOOST_TEST((p->auth.type == cfg::auth_type::bearer));
    BOOST_TEST(secret_value(p->auth.token) == "bearer-token-abcdef");
    BOOST_TEST(!p->tls.verify);
    BOOST_TEST(p->net.rate.per_second == 5.0 / 3600.0);
    BOOST_TEST(p->net.rate.burst == 1);
    BOOST_TEST(p->net.concurrency == 8);

    const auto* k = c->find_tenant("kdev");
    BOOST_TEST_REQUIRE(k);
    BOOST_TEST((k->kind == cfg::platform::kore));
    BOOST_TEST(secret_value(k->auth.api_key) == "s3cret-from-env-xyz");
    BOOST_TEST_REQUIRE(k->workflows.size() == 2u);
    BOOST_TEST(k->workflows[0].id == "a-1");
    BOOST_TEST(k->workflows[0].flow_id == "cf-1");
    BOOST_TEST(k->workflows[0].name == "Banking Assistant");
    BOOST_TEST(k->workflows[1].name == "a-2");

    const auto* s = c->find_tenant("soc");
    BOOST_TEST_REQUIRE(s);
    BOOST_TEST((s->kind == cfg::platform::secmaster));
    BOOST_TEST(s->project_id == "p1");
    BOOST_TEST(s->workspace_id == "w1");
    BOOST_TEST(s->auth.iam_url == "https://iam.example");
    BOOST_TEST(s->auth.user == "ops");
    BOOST_TEST(s->auth.domain == "acme");
    BOOST_TEST(s->auth.project == "eu");
    BOOST_TEST(secret_value(s->auth.password) == "s3cret-from-env-xyz");
    BOOST_TEST(!c->find_tenant("nope"));

    BOOST_TEST_REQUIRE(c->archives.size() == 2u);
    BOOST_TEST(c->archives.at("local").path == "/tmp/arch");
    BOOST_TEST(c->archives.at("other").path == "/var/lib/wfsync-test/archive/other");
    BOOST_TEST(c->archives.at("local").retention.at("keep_last") == 7);
    BOOST_TEST(c->archives.at("local").retention.at("keep_weekly") == 4);
    BOOST_TEST(c->archives.at("other").retention.empty());

    BOOST_TEST_REQUIRE(c->rules.size() == 2u);
    const auto* r = c->find_rule("promote");
    BOOST_TEST_REQUIRE(r);
    BOOST_TEST(r->source == "zsbx");
    BOOST_TEST(r->targets == std::vector<std::string>{"zprod"});
    BOOST_TEST(r->select.include == (std::vector<std::string>{"Billing *", "458"}));
    BOOST_TEST(r->select.exclude == std::vector<std::string>{"* (draft)"});
    BOOST_TEST((r->version == cfg::version_choice::active));
    BOOST_TEST((r->policy == cfg::version_policy::bump));
    BOOST_TEST(r->create_missing);
    BOOST_TEST(r->activate);
    BOOST_TEST((r->on_drift == cfg::drift_policy::fail));
    BOOST_TEST(r->schedule == "*/15 8-18 * * MON-FRI");
    BOOST_TEST(r->timezone == "Europe/Berlin");
    BOOST_TEST(r->jitter.count() == 30'000);
    BOOST_TEST(r->catch_up);
    BOOST_TEST(r->retention.empty());
    BOOST_TEST(r->where.str() == "full.yaml:42:5");

    const auto* b = c->find_rule("backup");
    BOOST_TEST_REQUIRE(b);
    BOOST_TEST(b->targets == std::vector<std::string>{"archive:local"});
    BOOST_TEST(b->schedule == "@every 10m");
    BOOST_TEST(b->timezone == "UTC");
    BOOST_TEST((b->version == cfg::version_choice::latest));
    BOOST_TEST((b->policy == cfg::version_policy::keep_source));
    BOOST_TEST((b->on_drift == cfg::drift_policy::skip));
    BOOST_TEST(!b->create_missing);
    BOOST_TEST(!b->activate);
    BOOST_TEST(b->jitter.count() == 0);
    BOOST_TEST(b->retention.size() == 2u);
    BOOST_TEST(b->retention.at("keep_last") == 10);
    BOOST_TEST(b->retention.at("keep_daily") == 14);
    BOOST_TEST(!c->find_rule("nope"));
}

BOOST_AUTO_TEST_CASE(minimal_config_uses_header_defaults)
{
    auto c = require_ok(cfg::load_string(two_tenants, "min.yaml"));
    cfg::config d;
    BOOST_TEST(c->state.path == d.state.path);
    BOOST_TEST(c->log.level == "info");
    BOOST_TEST(c->log.format == "text");
    BOOST_TEST(c->admin.listen == "127.0.0.1:9470");
    const auto& n = c->find_tenant("a")->net;
    BOOST_TEST(n.timeout.count() == 30'000);
    BOOST_TEST(n.retry.max_attempts == 6);
    BOOST_TEST(n.retry.initial_backoff.count() == 500);
    BOOST_TEST(n.retry.max_backoff.count() == 60'000);
    BOOST_TEST(n.concurrency == 4);
    BOOST_TEST(n.rate.per_second == 20.0);
    BOOST_TEST(n.rate.burst == 20);
    BOOST_TEST(n.poll.interval.count() == 2000);
    BOOST_TEST(n.poll.max_interval.count() == 30'000);
    BOOST_TEST(n.poll.timeout.count() == 900'000);
    BOOST_TEST(c->rules.empty());
}

BOOST_AUTO_TEST_CASE(unknown_key_is_reported_with_exact_position_and_allowed_keys)
{
    auto issues = require_issues(cfg::load_string(R"y(tenants:
  t1:
    platfrom: zuora
    base_url: https://a.example
    auth: {type: bearer, token_env: WFT_TOKEN_A}
)y", "cfg.yaml"));
    auto i = issue_at(issues, "tenants.t1.platfrom");
    BOOST_TEST(i.where.file == "cfg.yaml");
    BOOST_TEST(i.where.line == 3);
    BOOST_TEST(i.where.column == 5);
    BOOST_TEST(contains(i.str(), "cfg.yaml:3:5: tenants.t1.platfrom: unknown key 'platfrom'; allowed: platform, base_url"),
               i.str());
    // The misspelt key also leaves `platform` missing, reported at the tenant's name.
    auto m = issue_at(issues, "tenants.t1.platform");
    BOOST_TEST(m.where.str() == "cfg.yaml:2:3");
    BOOST_TEST(contains(m.message, "missing required key 'platform'"));
}

BOOST_AUTO_TEST_CASE(all_problems_in_a_file_are_reported_in_order)
{
    auto issues = require_issues(cfg::load_string(R"y(log: {level: loud}
defaults:
  timeout: 30 seconds
  concurrency: 0
  retry: {max_attempts: 0}
  rate_limit: 20/fortnight
tenants:
  a:
    platform: zuora
    base_url: ftp://a.example
    auth: {type: bearer, token_env: WFT_TOKEN_A}
extra: 1
)y", "many.yaml"));
    BOOST_TEST(issues.size() == 7u, all_text(issues));
    BOOST_TEST(issue_at(issues, "log.level").str() ==
               "many.yaml:1:14: log.level: invalid value 'loud'; expected one of: trace, debug, info, warn, error, off");
    BOOST_TEST(contains(issue_at(issues, "defaults.timeout").str(), "many.yaml:3:12: defaults.timeout: invalid duration '30 seconds'"));
    BOOST_TEST(issue_at(issues, "defaults.concurrency").str() ==
               "many.yaml:4:16: defaults.concurrency: 0 is out of range; must be between 1 and 1000");
    BOOST_TEST(issue_at(issues, "defaults.retry.max_attempts").where.str() == "many.yaml:5:25");
    BOOST_TEST(contains(issue_at(issues, "defaults.rate_limit").message, "invalid rate limit '20/fortnight'"));
    BOOST_TEST(contains(issue_at(issues, "tenants.a.base_url").message, "must start with http:// or https://"));
    BOOST_TEST(issue_at(issues, "extra").where.str() == "many.yaml:12:1");
    for (std::size_t i = 1; i < issues.size(); ++i)
        BOOST_TEST(issues[i - 1].where.line <= issues[i].where.line);
}

BOOST_AUTO_TEST_CASE(bad_durations_and_ranges)
{
    auto issues = require_issues(cfg::load_string(two_tenants + R"y(    timeout: 0s
    poll: {interval: 1m, max_interval: 10s, timeout: 5x}
    retry: {initial_backoff: 2m, max_backoff: 1m}
)y", "d.yaml"));
    BOOST_TEST(issue_at(issues, "tenants.b.timeout").message == "must be greater than zero");
    BOOST_TEST(contains(issue_at(issues, "tenants.b.poll.timeout").message, "invalid duration '5x'"));
    BOOST_TEST(issue_at(issues, "tenants.b.poll").message == "interval (1m) is longer than max_interval (10s)");
    BOOST_TEST(issue_at(issues, "tenants.b.retry").message == "initial_backoff (2m) is longer than max_backoff (1m)");
}

BOOST_AUTO_TEST_CASE(bad_platform_and_auth_mismatch)
{
    auto issues = require_issues(cfg::load_string(R"y(tenants:
  a:
    platform: zoura
    base_url: https://a.example
    auth: {type: bearer, token_env: WFT_TOKEN_A}
  k:
    platform: kore
    base_url: https://k.example
    auth: {type: oauth2, client_id: x, client_secret_env: WFT_SECRET}
    project_id: nope
)y", "p.yaml"));
    BOOST_TEST(issue_at(issues, "tenants.a.platform").str() ==
               "p.yaml:3:15: tenants.a.platform: invalid value 'zoura'; expected one of: zuora, kore, secmaster");
    BOOST_TEST(issue_at(issues, "tenants.k.auth.type").message == "auth type oauth2 does not fit platform kore; use api_key");
    BOOST_TEST(issue_at(issues, "tenants.k.project_id").message == "'project_id' applies only to secmaster tenants, not kore");
}

BOOST_AUTO_TEST_CASE(auth_keys_depend_on_the_type)
{
    auto issues = require_issues(cfg::load_string(R"y(tenants:
  a:
    platform: zuora
    base_url: https://a.example
    auth:
      type: bearer
      token_env: WFT_TOKEN_A
      client_id: x
  s:
    platform: secmaster
    base_url: https://s.example
    auth: {type: iam_password, user: u, password_env: WFT_SECRET}
)y", "auth.yaml"));
    auto i = issue_at(issues, "tenants.a.auth.client_id");
    BOOST_TEST(i.where.str() == "auth.yaml:8:7");
    BOOST_TEST(i.message == "unknown key 'client_id' for auth type bearer; allowed: type, token, token_env, token_file");
    BOOST_TEST(contains(issue_at(issues, "tenants.s.auth.iam_url").message, "missing required key 'iam_url'"));
    BOOST_TEST(contains(issue_at(issues, "tenants.s.auth.domain").message, "missing required key 'domain'"));
    BOOST_TEST(contains(issue_at(issues, "tenants.s.project_id").message, "missing required key"));
    BOOST_TEST(contains(issue_at(issues, "tenants.s.workspace_id").message, "missing required key"));
}

BOOST_AUTO_TEST_CASE(rule_naming_unknown_tenant_and_archive)
{
    auto issues = require_issues(cfg::load_string(two_tenants + R"y(rules:
  - name: r1
    source: ghost
    targets: [b, c, "archive:none"]
)y", "r.yaml"));
    BOOST_TEST(issue_at(issues, "rules[0].source").str() ==
               "r.yaml:12:13: rules[0].source: unknown tenant 'ghost'; declared tenants: a, b");
    BOOST_TEST(contains(issue_at(issues, "rules[0].targets[1]").message, "unknown tenant 'c'"));
    BOOST_TEST(issue_at(issues, "rules[0].targets[2]").message ==
               "unknown archive 'none'; declared archives: (none)");
}

BOOST_AUTO_TEST_CASE(cross_platform_target_and_self_target_are_refused)
{
    auto issues = require_issues(cfg::load_string(two_tenants + R"y(  k:
    platform: kore
    base_url: https://k.example
    auth: {type: api_key, key_env: WFT_SECRET}
rules:
  - name: r1
    source: a
    targets: [k, a, b, b]
  - name: r1
    source: b
    targets: [a]
    retention: {keep_last: 3}
)y", "x.yaml"));
    auto i = issue_at(issues, "rules[0].targets[0]");
    BOOST_TEST(i.where.str() == "x.yaml:17:15");
    BOOST_TEST(i.message == "target 'k' is a kore tenant but source 'a' is zuora; targets must be on the same platform as the source");
    BOOST_TEST(contains(issue_at(issues, "rules[0].targets[1]").message, "is the rule's source"));
    BOOST_TEST(issue_at(issues, "rules[0].targets[3]").message == "target 'b' is listed twice");
    BOOST_TEST(issue_at(issues, "rules[1].name").message == "duplicate rule name 'r1' (first used on line 15)");
    BOOST_TEST(contains(issue_at(issues, "rules[1].retention").message, "only to archive targets"));
}

BOOST_AUTO_TEST_CASE(one_version_platforms_default_to_active_and_refuse_latest)
{
    const std::string tenants = R"y(tenants:
  k1: {platform: kore, base_url: "https://k.example", auth: {type: api_key, key_env: WFT_SECRET}, workflows: [{id: a-1, flow_id: cf-1}]}
  k2: {platform: kore, base_url: "https://k2.example", auth: {type: api_key, key_env: WFT_SECRET}, workflows: [{id: a-1, flow_id: cf-1}]}
  s1: {platform: secmaster, base_url: "https://s.example", project_id: p, workspace_id: w, auth: {type: bearer, token_env: WFT_SECRET}}
  s2: {platform: secmaster, base_url: "https://s2.example", project_id: p, workspace_id: w, auth: {type: bearer, token_env: WFT_SECRET}}
)y";
    auto ok = require_ok(cfg::load_string(tenants + R"y(rules:
  - {name: k, source: k1, targets: [k2]}
  - {name: s, source: s1, targets: [s2], version: active}
)y", "ok.yaml"));
    BOOST_TEST((ok->rules.at(0).version == cfg::version_choice::active));
    BOOST_TEST((ok->rules.at(1).version == cfg::version_choice::active));

    auto issues = require_issues(cfg::load_string(tenants + R"y(rules:
  - {name: k, source: k1, targets: [k2], version: latest}
  - {name: s, source: s1, targets: [s2], version: all}
)y", "v.yaml"));
    BOOST_TEST(issue_at(issues, "rules[0].version").str() ==
               "v.yaml:7:51: rules[0].version: version: latest cannot be honoured: source 'k1' is a kore tenant, "
               "whose export API exports only the deployed version; use version: active (the default there)");
    BOOST_TEST(contains(issue_at(issues, "rules[1].version").message,
                        "version: all cannot be honoured: source 's1' is a secmaster tenant"));
}

BOOST_AUTO_TEST_CASE(a_missing_variable_in_a_secret_fails_when_it_is_read_not_at_load)
{
    // Secrets are lazy: the load succeeds, reading names file:line:col, key and variable.
    auto c = require_ok(cfg::load_string(R"y(tenants:
  a:
    platform: zuora
    base_url: https://a.example
    auth: {type: oauth2, client_id: "${WFT_ID}", client_secret: "pre-${WFT_NOT_SET}-post"}
  b:
    platform: zuora
    base_url: https://b.example
    auth: {type: bearer, token_env: WFT_NOT_SET}
)y", "v.yaml"));
    auto a = c->find_tenant("a")->auth.client_secret.read();
    BOOST_TEST_REQUIRE(a.has_error());
    BOOST_TEST(a.error().code == errc::config);
    BOOST_TEST(a.error().message == "v.yaml:5:65: tenants.a.auth.client_secret: variable WFT_NOT_SET is not set");
    BOOST_TEST(!contains(a.error().message, "pre-"));
    auto b = cfg::with_secrets(*c->find_tenant("b"));
    BOOST_TEST_REQUIRE(b.has_error());
    BOOST_TEST(b.error().message == "v.yaml:9:37: tenants.b.auth.token_env: variable WFT_NOT_SET is not set");
    auto problems = cfg::unreadable_secrets(*c);
    BOOST_TEST_REQUIRE(problems.size() == 2u);
    BOOST_TEST(problems[0].path == "tenants.a.auth.client_secret");
    BOOST_TEST(problems[1].path == "tenants.b.auth.token_env");

    // Once the variable exists, the same config gives the value: read when used, every time.
    ::setenv("WFT_LATE", "late-value-1", 1);
    c = require_ok(cfg::load_string(two_tenants_with_token("WFT_LATE"), "v.yaml"));
    auto t = cfg::with_secrets(*c->find_tenant("a"));
    BOOST_TEST_REQUIRE(t.has_value());
    BOOST_TEST(secret_value(t->auth.token) == "late-value-1");
    ::setenv("WFT_LATE", "rotated-value-2", 1);
    t = cfg::with_secrets(*c->find_tenant("a"));
    BOOST_TEST_REQUIRE(t.has_value());
    BOOST_TEST(secret_value(t->auth.token) == "rotated-value-2");
    ::unsetenv("WFT_LATE");
    BOOST_TEST(cfg::unreadable_secrets(*c).size() == 1u);
}

BOOST_AUTO_TEST_CASE(tenant_proxy_key)
{
    auto c = require_ok(cfg::load_string(two_tenants + "    proxy: http://u:pw@proxy.corp:3128\n", "p.yaml"));
    BOOST_TEST(!c->find_tenant("a")->proxy.has_value());  // absent: from the environment
    BOOST_TEST(c->find_tenant("b")->proxy.value() == "http://u:pw@proxy.corp:3128");
    c = require_ok(cfg::load_string(two_tenants + "    proxy: none\n", "p.yaml"));
    BOOST_TEST(c->find_tenant("b")->proxy.value() == "");
    c = require_ok(cfg::load_string(two_tenants + "    proxy: \"\"\n", "p.yaml"));
    BOOST_TEST(c->find_tenant("b")->proxy.value() == "");
    auto issues = require_issues(cfg::load_string(two_tenants + "    proxy: https://u:pw-x@proxy.corp:3128\n", "p.yaml"));
    BOOST_TEST(issue_at(issues, "tenants.b.proxy").str() ==
               "p.yaml:10:12: tenants.b.proxy: proxy scheme 'https' is not supported; use "
               "http://[user:password@]host:port, or none");
    BOOST_TEST(!contains(all_text(issues), "pw-x"));
    issues = require_issues(cfg::load_string(two_tenants + "    proxy: \"http://\"\n", "p.yaml"));
    BOOST_TEST(contains(issue_at(issues, "tenants.b.proxy").message, "proxy has no host"));
}

BOOST_AUTO_TEST_CASE(a_missing_variable_outside_secrets_is_still_a_load_error)
{
    auto issues = require_issues(cfg::load_string(two_tenants + "    entity_id: ${WFT_NOT_SET}\n", "v.yaml"));
    BOOST_TEST(issue_at(issues, "tenants.b.entity_id").message == "variable WFT_NOT_SET is not set");
    issues = require_issues(cfg::load_string(R"y(tenants:
  a:
    platform: zuora
    base_url: "https://${WFT_NOT_SET}.example"
    auth: {type: bearer, token_env: WFT_NOT_SET}
)y", "v.yaml"));
    BOOST_TEST_REQUIRE(issues.size() == 1u, all_text(issues));
    BOOST_TEST(issues[0].path == "tenants.a.base_url");
    // A variable name that cannot be one is a structural error, found at load.
    issues = require_issues(cfg::load_string(two_tenants_with_token("1-bad"), "v.yaml"));
    BOOST_TEST(contains(issue_at(issues, "tenants.a.auth.token_env").message, "expected the name of an environment variable"));
}

BOOST_AUTO_TEST_CASE(dollar_escape_and_interpolation_in_plain_values)
{
    auto c = require_ok(cfg::load_string(two_tenants + "    entity_id: \"$${WFT_ID}-${WFT_ID}$\"\n", "e.yaml"));
    BOOST_TEST(c->find_tenant("b")->entity_id == "${WFT_ID}-client-id-123$");
    auto issues = require_issues(cfg::load_string(two_tenants + "    entity_id: \"${WFT_ID\"\n", "e.yaml"));
    BOOST_TEST(contains(issue_at(issues, "tenants.b.entity_id").message, "unterminated ${"));
}

BOOST_AUTO_TEST_CASE(secret_files_and_env)
{
    test::temp_dir dir;
    dir.write("zsecret", "file-secret-value-1\n");
    dir.write("empty", "\n");
    auto yaml = R"y(tenants:
  a:
    platform: zuora
    base_url: https://a.example
    auth: {type: oauth2, client_id: id, client_secret_file: zsecret}
  b:
    platform: zuora
    base_url: https://b.example
    auth: {type: bearer, token_file: )y" + dir.file("zsecret") + R"y(}
  k:
    platform: kore
    base_url: https://k.example
    auth: {type: api_key, key_env: WFT_SECRET}
)y";
    // Relative to the config file's directory.
    auto c = require_ok(cfg::load_string(yaml, dir.file("wfsync.yaml")));
    BOOST_TEST(secret_value(c->find_tenant("a")->auth.client_secret) == "file-secret-value-1");
    BOOST_TEST(secret_value(c->find_tenant("b")->auth.token) == "file-secret-value-1");
    BOOST_TEST(secret_value(c->find_tenant("k")->auth.api_key) == "s3cret-from-env-xyz");

    // A bare name is looked up in $CREDENTIALS_DIRECTORY (systemd LoadCredential=).
    test::temp_dir creds;
    creds.write("zsecret", "from-credentials-dir\n");
    ::setenv("CREDENTIALS_DIRECTORY", creds.path().c_str(), 1);
    c = require_ok(cfg::load_string(yaml, dir.file("wfsync.yaml")));
    BOOST_TEST(secret_value(c->find_tenant("a")->auth.client_secret) == "from-credentials-dir");
    // Looked up when read: a shell without the variable reads the config's directory.
    ::unsetenv("CREDENTIALS_DIRECTORY");
    BOOST_TEST(secret_value(c->find_tenant("a")->auth.client_secret) == "file-secret-value-1");

    // Unreadable files do not fail the load; they are reported when read.
    c = require_ok(cfg::load_string(R"y(tenants:
  a:
    platform: zuora
    base_url: https://a.example
    auth: {type: oauth2, client_id: id, client_secret_file: missing-file}
  b:
    platform: zuora
    base_url: https://b.example
    auth: {type: bearer, token_file: empty}
)y", dir.file("w.yaml")));
    auto issues = cfg::unreadable_secrets(*c);
    BOOST_TEST(issue_at(issues, "tenants.a.auth.client_secret_file").message ==
               "cannot read secret file '" + dir.file("missing-file") + "': No such file or directory");
    BOOST_TEST(issue_at(issues, "tenants.b.auth.token_file").message ==
               "secret file '" + dir.file("empty") + "' is empty");
    auto a = cfg::with_secrets(*c->find_tenant("a"));
    BOOST_TEST_REQUIRE(a.has_error());
    BOOST_TEST(a.error().message == dir.file("w.yaml") + ":5:61: tenants.a.auth.client_secret_file: cannot read "
                                    "secret file '" + dir.file("missing-file") + "': No such file or directory");
    // Written later (or rotated), the file is read at the next use.
    dir.write("missing-file", "now-there-1\n");
    a = cfg::with_secrets(*c->find_tenant("a"));
    BOOST_TEST_REQUIRE(a.has_value());
    BOOST_TEST(secret_value(a->auth.client_secret) == "now-there-1");
    dir.write("missing-file", "rotated-2\n");
    BOOST_TEST(secret_value(c->find_tenant("a")->auth.client_secret) == "rotated-2");
}

BOOST_AUTO_TEST_CASE(inline_secret_is_refused_without_echoing_it)
{
    auto issues = require_issues(cfg::load_string(R"y(tenants:
  a:
    platform: zuora
    base_url: https://a.example
    auth: {type: oauth2, client_id: id, client_secret: "abc-inline-123"}
  k:
    platform: kore
    base_url: https://k.example
    auth: {type: api_key, key: "inline-key-999", key_env: WFT_SECRET}
)y", "i.yaml"));
    BOOST_TEST(issue_at(issues, "tenants.a.auth.client_secret").str() ==
               "i.yaml:5:56: tenants.a.auth.client_secret: secrets must not be written inline; use "
               "client_secret_env, client_secret_file or ${VAR}");
    BOOST_TEST(contains(issue_at(issues, "tenants.k.auth.key_env").message, "give only one of key, key_env and key_file"));
    BOOST_TEST(!contains(all_text(issues), "abc-inline"));
    BOOST_TEST(!contains(all_text(issues), "inline-key"));
}

BOOST_AUTO_TEST_CASE(loaded_secrets_are_masked_by_log_redact)
{
    ::setenv("WFT_MASK_ME", "very-private-token-42", 1);
    BOOST_TEST(log::redact("x very-private-token-42 y") == "x very-private-token-42 y");
    require_ok(cfg::load_string(R"y(tenants:
  a:
    platform: zuora
    base_url: https://a.example
    auth: {type: bearer, token: "${WFT_MASK_ME}"}
)y", "m.yaml"));
    BOOST_TEST(log::redact("x very-private-token-42 y") == "x *** y");
}

BOOST_AUTO_TEST_CASE(yaml_syntax_error_has_position)
{
    auto issues = require_issues(cfg::load_string("state:\n  path: /x\n  bad: [1, 2\nlog: {}\n", "s.yaml"));
    BOOST_TEST_REQUIRE(issues.size() == 1u, all_text(issues));
    BOOST_TEST(issues[0].where.file == "s.yaml");
    BOOST_TEST(issues[0].where.line >= 3);
    BOOST_TEST(contains(issues[0].message, "YAML syntax error"));
    BOOST_TEST(contains(issues[0].str(), "s.yaml:" + std::to_string(issues[0].where.line) + ":"));

    issues = require_issues(cfg::load_string("tenants:\n\ta: 1\n", "tab.yaml"));
    BOOST_TEST(issues.size() == 1u);
    BOOST_TEST(issues[0].where.line == 2);
}

BOOST_AUTO_TEST_CASE(bad_schedule_and_timezone_with_positions)
{
    auto issues = require_issues(cfg::load_string(two_tenants + R"y(rules:
  - name: r1
    source: a
    targets: [b]
    schedule: "*/15 25 * * MON-FRI"
    timezone: Europe/Berlinn
  - name: r2
    source: a
    targets: [b]
    schedule: "@fortnightly"
    timezone: ../../etc/passwd
  - {name: r3, source: a, targets: [b], schedule: "* * * *"}
  - {name: r4, source: a, targets: [b], schedule: "0 0 * FOO *"}
  - {name: r5, source: a, targets: [b], schedule: "@every 0s"}
  - {name: r6, source: a, targets: [b], schedule: "5-1 * * * *"}
)y", "sch.yaml"));
    BOOST_TEST(issue_at(issues, "rules[0].schedule").str() ==
               "sch.yaml:14:15: rules[0].schedule: invalid schedule '*/15 25 * * MON-FRI': hour field: 25 is out of range 0-23");
    BOOST_TEST(issue_at(issues, "rules[0].timezone").str() ==
               "sch.yaml:15:15: rules[0].timezone: unknown time zone 'Europe/Berlinn' (no zone file /usr/share/zoneinfo/Europe/Berlinn)");
    BOOST_TEST(contains(issue_at(issues, "rules[1].schedule").message, "unknown macro"));
    BOOST_TEST(contains(issue_at(issues, "rules[1].timezone").message, "is not an IANA time zone name"));
    BOOST_TEST(contains(issue_at(issues, "rules[2].schedule").message, "expected 5 fields"));
    BOOST_TEST(contains(issue_at(issues, "rules[3].schedule").message, "month field: unknown name 'FOO'"));
    BOOST_TEST(contains(issue_at(issues, "rules[4].schedule").message, "greater than zero"));
    BOOST_TEST(contains(issue_at(issues, "rules[5].schedule").message, "runs backwards"));

    auto ok = require_ok(cfg::load_string(two_tenants + R"y(rules:
  - {name: r1, source: a, targets: [b], schedule: "0,30 */2 1-15/2 jan,JUL 0-7", timezone: America/New_York}
  - {name: r2, source: a, targets: [b], schedule: "@hourly"}
  - {name: r3, source: a, targets: [b]}
)y", "ok.yaml"));
    BOOST_TEST(ok->rules.at(2).schedule.empty());
}

BOOST_AUTO_TEST_CASE(missing_file_names_the_file_and_os_error)
{
    auto issues = require_issues(cfg::load_file("/nonexistent/dir/wfsync.yaml"));
    BOOST_TEST_REQUIRE(issues.size() == 1u);
    BOOST_TEST(issues[0].str() ==
               "/nonexistent/dir/wfsync.yaml: cannot read config file '/nonexistent/dir/wfsync.yaml': No such file or directory");
}

BOOST_AUTO_TEST_CASE(a_config_or_secret_that_is_not_a_regular_file_is_refused_without_hanging)
{
    // A FIFO with no writer would block a plain open for ever; a directory never reads.
    test::temp_dir dir;
    auto fifo = dir.file("wfsync.yaml");
    BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto issues = require_issues(cfg::load_file(fifo));
    BOOST_TEST_REQUIRE(issues.size() == 1u);
    BOOST_TEST(issues[0].message == "cannot read config file '" + fifo + "': not a regular file but a FIFO");
    auto as_dir = require_issues(cfg::load_file(dir.path()));
    BOOST_TEST(as_dir[0].message.find("not a regular file but a directory") != std::string::npos, as_dir[0].message);

    auto secret = dir.file("secret");
    BOOST_TEST_REQUIRE(::mkfifo(secret.c_str(), 0600) == 0);
    auto loaded = require_ok(cfg::load_string(R"y(tenants:
  a:
    platform: zuora
    base_url: https://a.example
    auth: {type: oauth2, client_id: id, client_secret_file: secret}
)y", dir.file("w.yaml")));
    auto secret_issues = cfg::unreadable_secrets(*loaded);
    BOOST_TEST(issue_at(secret_issues, "tenants.a.auth.client_secret_file").message ==
               "cannot read secret file '" + secret + "': not a regular file but a FIFO");
}

BOOST_AUTO_TEST_CASE(wrong_shapes_are_reported_not_crashed_on)
{
    auto issues = require_issues(cfg::load_string(R"y(state: [1, 2]
log: text
tenants: [a, b]
rules: {a: 1}
archives:
  "bad name": {}
)y", "shape.yaml"));
    BOOST_TEST(issue_at(issues, "state").message == "expected a mapping (key: value), got a list");
    BOOST_TEST(issue_at(issues, "log").message == "expected a mapping (key: value), got a single value");
    BOOST_TEST(contains(issue_at(issues, "tenants").message, "expected a mapping"));
    BOOST_TEST(issue_at(issues, "rules").message == "expected a list");
    BOOST_TEST(contains(issue_at(issues, "archives.bad name").message, "archive names may use only"));

    issues = require_issues(cfg::load_string("", "empty.yaml"));
    BOOST_TEST(contains(issues.at(0).message, "the config is empty"));
    issues = require_issues(cfg::load_string("42\n", "scalar.yaml"));
    BOOST_TEST(contains(issues.at(0).message, "expected a mapping"));
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_errors)
{
    auto issues = require_issues(cfg::load_string("log: {level: info}\nlog: {level: debug}\n", "dup.yaml"));
    BOOST_TEST(issue_at(issues, "log").str() == "dup.yaml:2:1: log: duplicate key 'log'");
}

BOOST_AUTO_TEST_CASE(load_file_resolves_relative_paths_against_the_config_directory)
{
    const std::string dir = WFSYNC_TEST_DATA_DIR "/config";
    auto c = require_ok(cfg::load_file(dir + "/relative-secret.yaml"));
    BOOST_TEST(c->file == dir + "/relative-secret.yaml");
    BOOST_TEST(c->state.path == dir + "/state");
    BOOST_TEST(c->admin.listen == "[::1]:9471");
    BOOST_TEST(c->admin.token_file == dir + "/secrets/zuora.secret");
    BOOST_TEST(secret_value(c->find_tenant("z")->auth.client_secret) == "zuora-file-secret-777");
    BOOST_TEST(c->find_tenant("z")->auth.client_id == "plain-client-id");
    BOOST_TEST(c->archives.at("a").path == dir + "/archive-a");
    BOOST_TEST(c->archives.at("b").path == dir + "/state/archive/b");
    BOOST_TEST(log::redact("zuora-file-secret-777") == "***");
}

BOOST_AUTO_TEST_CASE(error_file_reports_every_problem_with_positions)
{
    const std::string file = WFSYNC_TEST_DATA_DIR "/config/errors.yaml";
    auto issues = require_issues(cfg::load_file(file));
    BOOST_TEST(issues.size() == 9u, all_text(issues));
    auto at = [&](const std::string& path) { return issue_at(issues, path).str().substr(file.size()); };
    BOOST_TEST(at("defaults.timeout") == ":4:12: defaults.timeout: invalid duration 'fast': expected a number (use e.g. 500ms, 30s, 5m, 2h)");
    BOOST_TEST(at("defaults.rate_limit") == ":5:15: defaults.rate_limit: invalid rate limit '0/s'; expected <number>/s, /m or /h, e.g. 20/s");
    BOOST_TEST(at("tenants.z.auth.type") == ":10:18: tenants.z.auth.type: auth type api_key does not fit platform zuora; use oauth2 or bearer");
    // yaml-cpp places an empty item where the next token starts.
    BOOST_TEST(at("rules[0]") == ":13:3: rules[0]: empty rule (a '-' with nothing after it); a rule needs name, source and targets");
    BOOST_TEST(at("rules[1].name") == ":13:11: rules[1].name: invalid rule name 'bad name!'; use only letters, digits, '.', '_' and '-'");
    BOOST_TEST(at("rules[1].targets[0]") == ":15:15: rules[1].targets[0]: tenant 'z' is the rule's source; it cannot also be a target");
    BOOST_TEST(at("rules[1].version") == ":16:14: rules[1].version: invalid value 'newest'; expected one of: latest, active, all");
    BOOST_TEST(contains(at("rules[1].jitter"), ":17:13: rules[1].jitter: invalid duration '-1s'"));
    BOOST_TEST(contains(at("rules[1].retention.keep_forever"), ":18:17: rules[1].retention.keep_forever: unknown key 'keep_forever'; allowed: keep_last, "));
}

BOOST_AUTO_TEST_CASE(unquoted_variable_in_flow_mapping_gets_a_hint)
{
    auto issues = require_issues(cfg::load_string(
        "tenants:\n  a:\n    auth: {type: oauth2, client_id: ${WFT_ID}, client_secret_env: WFT_SECRET}\n", "f.yaml"));
    BOOST_TEST_REQUIRE(issues.size() == 1u);
    BOOST_TEST(issues[0].where.line == 3);
    BOOST_TEST(contains(issues[0].message, "put values using ${VAR} in quotes"), issues[0].message);
}

BOOST_AUTO_TEST_CASE(rate_limits_and_listen_addresses)
{
    auto c = require_ok(cfg::load_string("defaults: {rate_limit: 0.5/s}\nadmin: {listen: \"localhost:1\"}\n", "r.yaml"));
    BOOST_TEST(c->defaults.rate.per_second == 0.5);
    BOOST_TEST(c->defaults.rate.burst == 1);
    c = require_ok(cfg::load_string("defaults: {rate_limit: 90/m}\n", "r.yaml"));
    BOOST_TEST(c->defaults.rate.per_second == 1.5);
    BOOST_TEST(c->defaults.rate.burst == 2);
    for (auto bad : {"9470", "::1:9470", "host:0", "host:70000", ":9470", "host:abc"}) {
        auto issues = require_issues(cfg::load_string(std::string("admin: {listen: \"") + bad + "\"}\n", "l.yaml"));
        BOOST_TEST(contains(issue_at(issues, "admin.listen").message, "invalid listen address"), bad);
    }
}

BOOST_AUTO_TEST_CASE(a_secret_echoed_by_another_error_is_masked)
{
    // The kore key registers the value; the same value misused as a platform is not repeated.
    auto issues = require_issues(cfg::load_string(R"y(tenants:
  k:
    platform: kore
    base_url: https://k.example
    auth: {type: api_key, key_env: WFT_SECRET}
  z:
    platform: "${WFT_SECRET}"
    base_url: https://z.example
    auth: {type: bearer, token_env: WFT_TOKEN_A}
)y", "leak.yaml"));
    BOOST_TEST(issue_at(issues, "tenants.z.platform").message ==
               "invalid value '***'; expected one of: zuora, kore, secmaster");
    BOOST_TEST(!contains(all_text(issues), "s3cret-from-env-xyz"));
}

BOOST_AUTO_TEST_CASE(example_file_mentions_every_key)
{
    auto text = test::read_file(WFSYNC_TEST_DATA_DIR "/../../etc/wfsync.example.yaml");
    BOOST_TEST_REQUIRE(!text.empty());
    auto is_ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    auto has_word = [&](const std::string& w) {
        for (auto pos = text.find(w); pos != std::string::npos; pos = text.find(w, pos + 1)) {
            bool left = pos == 0 || !is_ident(text[pos - 1]);
            bool right = pos + w.size() >= text.size() || !is_ident(text[pos + w.size()]);
            if (left && right) return true;
        }
        return false;
    };
    for (auto key : {"state", "path", "log", "level", "format", "admin", "listen", "token_file", "defaults",
                     "timeout", "retry", "max_attempts", "initial_backoff", "max_backoff", "concurrency",
                     "rate_limit", "poll", "interval", "max_interval", "tenants", "platform", "base_url", "auth",
                     "type", "client_id", "client_secret", "client_secret_env", "client_secret_file", "token_url",
                     "token", "token_env", "key", "key_env", "key_file", "iam_url", "user", "domain",
                     "project", "password", "password_env", "password_file", "tls", "ca_file", "verify",
                     "entity_id", "workflows", "id", "flow_id", "name", "project_id", "workspace_id", "archives",
                     "rules", "source", "targets", "select", "include", "exclude", "version", "version_policy",
                     "create_missing", "activate", "on_drift", "schedule", "timezone", "jitter", "catch_up",
                     "retention", "keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly",
                     "keep_yearly", "oauth2", "bearer", "api_key", "iam_password", "zuora", "kore", "secmaster",
                     "export_path", "import_path", "import_new_path", "dock_status_path", "files_path", "notify",
                     "webhook", "slack", "url", "url_env", "url_file", "secret", "secret_env", "secret_file", "on",
                     "failure", "drift", "unknown_outcome", "promoted", "proxy"})
        BOOST_TEST(has_word(key), "example does not mention " << key);
}

BOOST_AUTO_TEST_CASE(example_file_loads)
{
    test::temp_dir creds;
    for (auto name : {"zuora-sbx", "kore-dev", "iam", "admin-token"})
        creds.write(name, std::string("example-credential-") + name + "\n");
    ::setenv("CREDENTIALS_DIRECTORY", creds.path().c_str(), 1);
    ::setenv("ZUORA_SBX_ID", "sbx-client", 1);
    ::setenv("ZUORA_PROD_ID", "prod-client", 1);
    ::setenv("ZUORA_PROD_SECRET", "prod-secret-value", 1);
    ::setenv("SECMASTER_TOKEN", "secmaster-token-value", 1);
    auto r = cfg::load_file(WFSYNC_TEST_DATA_DIR "/../../etc/wfsync.example.yaml");
    auto c = require_ok(r);
    BOOST_TEST(c->tenants.size() >= 4u);
    BOOST_TEST(c->rules.size() >= 2u);
    BOOST_TEST(secret_value(c->find_tenant("zuora-sandbox")->auth.client_secret) == "example-credential-zuora-sbx");
    BOOST_TEST(cfg::unreadable_secrets(*c).empty());
    BOOST_TEST(c->notify.size() == 2u);
    ::unsetenv("CREDENTIALS_DIRECTORY");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(selection)

BOOST_AUTO_TEST_CASE(selector_globs_and_ids)
{
    cfg::selector all;
    BOOST_TEST(all.matches("1", "anything"));

    cfg::selector s;
    s.include = {"Billing *", "458", "Inv??ce"};
    s.exclude = {"* (draft)", "999"};
    BOOST_TEST(s.matches("1", "Billing run"));
    BOOST_TEST(s.matches("1", "Billing "));
    BOOST_TEST(!s.matches("1", "Billing"));
    BOOST_TEST(!s.matches("1", "billing run"));  // case matters
    BOOST_TEST(s.matches("458", "Whatever"));
    BOOST_TEST(!s.matches("4580", "Whatever"));  // ids match exactly
    BOOST_TEST(s.matches("2", "Invoice"));
    BOOST_TEST(s.matches("2", "Inv\xc3\xb6" "ice"));   // ? is one character, even a multi-byte one
    BOOST_TEST(!s.matches("2", "Invoiice"));
    BOOST_TEST(!s.matches("3", "Billing run (draft)"));
    BOOST_TEST(!s.matches("999", "Billing run"));

    cfg::selector ex;
    ex.exclude = {"*tmp*"};
    BOOST_TEST(ex.matches("1", "prod flow"));
    BOOST_TEST(!ex.matches("1", "my tmp flow"));
    cfg::selector stars;
    stars.include = {"**a*b*c**"};
    BOOST_TEST(stars.matches("1", "xxaxxbxxcxx"));
    BOOST_TEST(!stars.matches("1", "xxaxxcxxbxx"));
}

BOOST_AUTO_TEST_CASE(names_and_locations)
{
    BOOST_TEST(cfg::to_string(cfg::platform::zuora) == "zuora");
    BOOST_TEST(cfg::to_string(cfg::platform::kore) == "kore");
    BOOST_TEST(cfg::to_string(cfg::platform::secmaster) == "secmaster");
    cfg::source_location l{"w.yaml", 14, 7};
    BOOST_TEST(l.str() == "w.yaml:14:7");
    cfg::config_issue i{l, "tenants.x.auth", "bad"};
    BOOST_TEST(i.str() == "w.yaml:14:7: tenants.x.auth: bad");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(kore_paths, env_fixture)

BOOST_AUTO_TEST_CASE(kore_paths_default_and_override)
{
    auto c = require_ok(cfg::load_string(R"y(tenants:
  k1:
    platform: kore
    base_url: https://k1.example
    auth: {type: api_key, key_env: WFT_SECRET}
  k2:
    platform: kore
    base_url: https://k2.example
    auth: {type: api_key, key_env: WFT_SECRET}
    kore:
      export_path: /api/public/workflow/{id}/export
      dock_status_path: /api/public/dock-status/{id}?v=2
      files_path: /api/public/v2/files
)y", "k.yaml"));
    const auto* k1 = c->find_tenant("k1");
    BOOST_TEST_REQUIRE(k1);
    BOOST_TEST(k1->kore.export_path == "/api/public/workflows/{id}/export");
    BOOST_TEST(k1->kore.import_path == "/api/public/workflows/{id}/import");
    BOOST_TEST(k1->kore.import_new_path == "/api/public/workflows/import");
    BOOST_TEST(k1->kore.dock_status_path == "/api/public/dock-status/{id}");
    BOOST_TEST(k1->kore.files_path == "/api/public/files");
    const auto* k2 = c->find_tenant("k2");
    BOOST_TEST_REQUIRE(k2);
    BOOST_TEST(k2->kore.export_path == "/api/public/workflow/{id}/export");
    BOOST_TEST(k2->kore.dock_status_path == "/api/public/dock-status/{id}?v=2");
    BOOST_TEST(k2->kore.files_path == "/api/public/v2/files");
    BOOST_TEST(k2->kore.import_path == "/api/public/workflows/{id}/import");  // not given: default
}

BOOST_AUTO_TEST_CASE(bad_kore_paths_are_reported)
{
    auto issues = require_issues(cfg::load_string(R"y(tenants:
  k:
    platform: kore
    base_url: https://k.example
    auth: {type: api_key, key_env: WFT_SECRET}
    kore:
      export_path: api/public/workflows/{id}/export
      import_path: /api/public/workflows/import
      import_new_path: //evil.example/import
      exports: /x
  z:
    platform: zuora
    base_url: https://z.example
    auth: {type: bearer, token_env: WFT_TOKEN_A}
    kore: {files_path: /f}
)y", "k.yaml"));
    BOOST_TEST(issue_at(issues, "tenants.k.kore.export_path").message ==
               "'api/public/workflows/{id}/export' must be a path starting with '/' (the base URL gives scheme and host)");
    BOOST_TEST(issue_at(issues, "tenants.k.kore.import_path").message ==
               "'/api/public/workflows/import' must contain {id} where the id goes");
    BOOST_TEST(contains(issue_at(issues, "tenants.k.kore.import_new_path").message, "must be a path starting with '/'"));
    BOOST_TEST(contains(all_text(issues), "exports"));
    BOOST_TEST(issue_at(issues, "tenants.z.kore").message == "'kore' applies only to kore tenants, not zuora");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounds)

BOOST_AUTO_TEST_CASE(a_config_over_one_mib_is_refused_naming_the_path_and_the_limit)
{
    test::temp_dir dir;
    // Valid YAML all the way (a long comment): the size alone is refused, before parsing.
    auto file = dir.write("big.yaml", "state: {path: /tmp/x}\n# " + std::string(2u << 20, 'x') + "\n");
    auto issues = require_issues(cfg::load_file(file));
    BOOST_TEST_REQUIRE(issues.size() == 1u);
    BOOST_TEST(issues[0].message == "cannot read config file '" + file + "': it is " +
                                        std::to_string((2u << 20) + 25u) + " bytes, more than the limit of 1048576 bytes");
    // Just under the limit loads.
    auto fits = dir.write("fits.yaml", "state: {path: /tmp/x}\n# " + std::string((1u << 20) - 30u, 'x') + "\n");
    require_ok(cfg::load_file(fits));
}

BOOST_AUTO_TEST_CASE(yaml_errors_always_carry_file_line_and_column)
{
    for (const std::string& text : {std::string("tenants: [a, b\n"), std::string("a: b\n  c: d\n"),
                                   std::string("rules:\n  - {name: x\n"), std::string("\"unclosed\n"),
                                   std::string("a: *nope\n"), std::string(""), std::string("{[\n"),
                                   std::string("state: {path: /x}\nstate:\n"), std::string("- a\n- b\n"),
                                   std::string(200000, '[')}) {
        auto issues = require_issues(cfg::load_string(text, "f.yaml"));
        for (const auto& i : issues) {
            BOOST_TEST(i.where.line >= 1, i.str());
            BOOST_TEST(i.where.column >= 1, i.str());
            BOOST_TEST(i.str().rfind("f.yaml:" + std::to_string(i.where.line) + ":" + std::to_string(i.where.column) + ": ", 0) == 0u,
                       i.str());
        }
    }
}

BOOST_AUTO_TEST_CASE(jitter_over_a_day_is_refused_naming_the_rule_and_key)
{
    auto issues = require_issues(cfg::load_string(R"y(tenants:
  a: {platform: zuora, base_url: "https://a.example", auth: {type: bearer, token_env: HOME}}
  b: {platform: zuora, base_url: "https://b.example", auth: {type: bearer, token_env: HOME}}
rules:
  - name: slow
    source: a
    targets: [b]
    schedule: "@yearly"
    jitter: 3650d
)y", "j.yaml"));
    BOOST_TEST(issue_at(issues, "rules[0].jitter").str() ==
               "j.yaml:9:13: rules[0].jitter: rule 'slow': jitter 3650d is more than the maximum of 24h; jitter spreads "
               "runs over a short while, the schedule says when they run");

    auto ok = require_ok(cfg::load_string(R"y(tenants:
  a: {platform: zuora, base_url: "https://a.example", auth: {type: bearer, token_env: HOME}}
  b: {platform: zuora, base_url: "https://b.example", auth: {type: bearer, token_env: HOME}}
rules:
  - {name: r, source: a, targets: [b], schedule: "@daily", jitter: 24h}
)y", "k.yaml"));
    BOOST_TEST(ok->rules.at(0).jitter.count() == 86'400'000);
    BOOST_TEST(ok->rules.at(0).jitter_where.line == 5);
}

BOOST_AUTO_TEST_CASE(a_ca_file_that_is_a_fifo_is_refused_without_hanging)
{
    test::temp_dir dir;
    auto fifo = dir.file("ca.pem");
    BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto issues = require_issues(cfg::load_string(R"y(tenants:
  a: {platform: zuora, base_url: "https://a.example", auth: {type: bearer, token_env: HOME}, tls: {ca_file: ca.pem}}
)y", dir.file("w.yaml")));
    BOOST_TEST(issue_at(issues, "tenants.a.tls.ca_file").message ==
               "cannot read CA file '" + fifo + "': not a regular file but a FIFO");
}

// The notify: section, after two tenants and a rule, from line 11 on.
const std::string notify_base = two_tenants + R"y(rules:
  - {name: promote, source: a, targets: [b]}
notify:
)y";

BOOST_AUTO_TEST_CASE(notify_targets_land_with_lazy_secrets_and_defaults)
{
    // Neither secret exists yet: they are read when a notification is sent, not at load.
    ::unsetenv("WFT_HOOK_KEY");
    auto c = require_ok(cfg::load_string(notify_base + R"y(  ops:
    type: webhook
    url: https://hooks.example.com/wfsync/
    secret_env: WFT_HOOK_KEY
    on: [failure, promoted]
    rules: [promote]
    retry: {max_attempts: 2, initial_backoff: 5ms, max_backoff: 10ms}
  team:
    type: slack
    url_file: /nonexistent/slack-url
  team2:
    type: slack
    url: "${WFT_SLACK_URL}"
    timeout: 3s
)y", "/etc/wfsync/n.yaml"));
    BOOST_TEST_REQUIRE(c->notify.size() == 3u);
    const auto& ops = c->notify.at("ops");
    BOOST_TEST((ops.type == cfg::notify_type::webhook));
    BOOST_TEST(ops.url == "https://hooks.example.com/wfsync");
    BOOST_TEST(ops.url_secret.empty());
    BOOST_TEST((ops.key.how == cfg::secret_ref::from::env));
    BOOST_TEST(ops.key.name == "WFT_HOOK_KEY");
    BOOST_TEST(ops.net.retry.max_attempts == 2);
    BOOST_TEST(ops.net.timeout.count() == 10'000);  // the notify default, not the tenants'
    BOOST_TEST(ops.wants(cfg::notify_event::promoted, "promote"));
    BOOST_TEST(ops.wants(cfg::notify_event::recovered, "promote"));  // goes with failure
    BOOST_TEST(!ops.wants(cfg::notify_event::drift, "promote"));
    BOOST_TEST(!ops.wants(cfg::notify_event::promoted, "other"));
    const auto& team = c->notify.at("team");
    BOOST_TEST((team.url_secret.how == cfg::secret_ref::from::file));
    BOOST_TEST(team.url_secret.name == "/nonexistent/slack-url");
    BOOST_TEST(team.shown() == "team");  // never the URL
    BOOST_TEST(team.wants(cfg::notify_event::unknown_outcome, "anything"));
    const auto& team2 = c->notify.at("team2");
    BOOST_TEST((team2.url_secret.how == cfg::secret_ref::from::text));
    BOOST_TEST(team2.net.timeout.count() == 3000);

    // Read when needed: the error names the key's place, then the value is there.
    auto missing = cfg::read_secret(ops.key);
    BOOST_TEST_REQUIRE(!missing);
    BOOST_TEST(missing.error().message == "/etc/wfsync/n.yaml:16:17: variable WFT_HOOK_KEY is not set");
    ::setenv("WFT_HOOK_KEY", "hook-key-value-42", 1);
    BOOST_TEST(cfg::read_secret(ops.key).value().reveal() == "hook-key-value-42");
    BOOST_TEST(log::redact("k=hook-key-value-42") == "k=***");
    ::unsetenv("WFT_HOOK_KEY");
}

BOOST_AUTO_TEST_CASE(notify_problems_are_named_with_file_line_column)
{
    auto issues = require_issues(cfg::load_string(notify_base + R"y(  bad-type:
    type: teams
    url: https://x.example
    secret_env: K
  no-url:
    type: webhook
    secret_env: K
  bad-event:
    type: webhook
    url: https://x.example
    secret_env: K
    on: [failure, promotion]
    rules: [promote, nightly]
  unsigned:
    type: webhook
    url: https://x.example
  slack-inline:
    type: slack
    url: https://hooks.slack.com/services/T0/B0/XYZ
  slack-signed:
    type: slack
    url_env: SLACK_URL
    secret_env: K
  typo:
    type: webhook
    url: https://x.example
    secret_env: K
    retries: 3
)y", "n.yaml"));
    BOOST_TEST(issue_at(issues, "notify.bad-type.type").str() ==
               "n.yaml:14:11: notify.bad-type.type: invalid value 'teams'; expected one of: webhook, slack");
    BOOST_TEST(issue_at(issues, "notify.no-url.url").str() ==
               "n.yaml:18:5: notify.no-url.url: missing secret: give url_env, url_file or url: ${VAR}");
    BOOST_TEST(issue_at(issues, "notify.bad-event.on[1]").str() ==
               "n.yaml:24:19: notify.bad-event.on[1]: invalid value 'promotion'; expected one of: failure, drift, "
               "unknown_outcome, promoted");
    BOOST_TEST(issue_at(issues, "notify.bad-event.rules[1]").str() ==
               "n.yaml:25:22: notify.bad-event.rules[1]: unknown rule 'nightly'; rules: promote");
    BOOST_TEST(issue_at(issues, "notify.unsigned.secret").str() ==
               "n.yaml:27:5: notify.unsigned.secret: missing secret: give secret_env, secret_file or secret: ${VAR}");
    BOOST_TEST(contains(issue_at(issues, "notify.slack-inline.url").str(),
                        "n.yaml:31:10: notify.slack-inline.url: a Slack incoming webhook URL is itself a secret"));
    // The Slack URL given inline is not repeated in the message.
    BOOST_TEST(!contains(all_text(issues), "XYZ"));
    BOOST_TEST(issue_at(issues, "notify.slack-signed.secret_env").str() ==
               "n.yaml:35:17: notify.slack-signed.secret_env: a Slack target takes no HMAC secret: Slack checks "
               "nothing; its URL is the secret");
    BOOST_TEST(contains(issue_at(issues, "notify.typo.retries").str(), "n.yaml:40:5: notify.typo.retries: unknown key 'retries'"));
    BOOST_TEST(issues.size() == 8u, all_text(issues));
}

BOOST_AUTO_TEST_CASE(notify_secret_files_resolve_like_other_secrets_when_read)
{
    test::temp_dir dir;
    dir.write("hook.key", "file-key-0123456\n");
    auto c = require_ok(cfg::load_string(notify_base + R"y(  ops: {type: webhook, url: "https://x.example", secret_file: hook.key}
)y", dir.file("n.yaml")));
    const auto& ref = c->notify.at("ops").key;
    BOOST_TEST(ref.name == dir.file("hook.key"));
    BOOST_TEST(cfg::read_secret(ref).value().reveal() == "file-key-0123456");  // the newline dropped
    std::filesystem::remove(dir.file("hook.key"));
    auto gone = cfg::read_secret(ref);
    BOOST_TEST_REQUIRE(!gone);
    BOOST_TEST(contains(gone.error().message, dir.file("n.yaml") + ":13:63: secret file: "), gone.error().message);
}

BOOST_AUTO_TEST_SUITE_END()
