"""The posture report as one self-contained HTML page (inline CSS, a small inline script).

Every table is written into the page; the script only filters the tenant table (a search box,
or ``#tenant=TEXT`` in the address) and says how many rows it shows, so the page reads the
same with scripts off, printed or archived.
"""

from __future__ import annotations

from typing import Any

from ..webpage import esc, page, table

STATUS_MARK = {"pass": '<span class="good">✓ pass</span>', "fail": '<span class="bad">✗ FAIL</span>',
               "not-applicable": '<span class="muted">–</span>'}

SCRIPT = """
(function () {
  var input = document.getElementById('tenant-filter');
  var count = document.getElementById('tenant-count');
  var rows = Array.prototype.slice.call(document.querySelectorAll('#tenants tbody tr'));
  function apply(text) {
    var wanted = (text || '').trim().toLowerCase(), shown = 0;
    rows.forEach(function (row) {
      var hit = !wanted || row.textContent.toLowerCase().indexOf(wanted) >= 0;
      row.hidden = !hit;
      if (hit) { shown += 1; }
    });
    count.textContent = shown + ' of ' + rows.length + ' tenants shown';
    count.setAttribute('data-shown', String(shown));
  }
  input.addEventListener('input', function () { apply(input.value); });
  var found = /[#&]tenant=([^&]*)/.exec(window.location.hash);
  if (found) { input.value = decodeURIComponent(found[1]); }
  apply(input.value);
})();
"""


def _bar(percent: float) -> str:
    level = "high" if percent >= 90 else "mid" if percent >= 75 else ""
    width = max(0.0, min(percent, 100.0))
    return f'<span class="bar"><span class="{level}" style="width:{width:.0f}%"></span></span> {percent:.1f}%'


def _warn(state: str | None) -> str:
    if state in ("expired", "invalid"):
        return f'<span class="bad">{esc(state)}</span>'
    if state == "expiring":
        return f'<span class="warn">{esc(state)}</span>'
    return esc(state or "")


def _scope(scope: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(scope.items()))


def _summary(data: dict[str, Any]) -> str:
    s = data["summary"]
    findings = s["findings"]
    verdict = s.get("verdict") or "not checked"
    cards = [
        (s["tenants"], "tenants"), (s["stacks_checked"], f"of {s['stacks']} stacks checked"),
        (f'<span class="{"bad" if verdict == "fail" else "good"}">{esc(verdict)}</span>', "policy verdict"),
        (findings["blocking"], "blocking findings"), (findings["waived"], "waived findings"),
        (s["tenants_failing"], "tenants failing"),
        ("–" if s["hosts_failing"] is None else s["hosts_failing"], "hosts failing controls"),
        (sum(s["warnings"].values()), f"early warnings (≤ {data['within_days']} days)"),
    ]
    return '<div class="cards" id="summary-cards">' + "".join(f'<div class="card"><b>{v}</b>{esc(k)}</div>' for v, k in cards) + "</div>"


def _sources(data: dict[str, Any]) -> str:
    sources = data.get("sources") or {}
    items = []
    check = sources.get("check") or {}
    if check:
        items.append(f"policy check: {esc(check.get('file', 'run for this report'))} (pack {esc(check.get('pack', ''))}, "
                     f"waivers judged on {esc(check.get('today', ''))})")
    baseline = sources.get("baseline")
    items.append(f"host baseline: {esc(baseline['file'])} (verified {esc(baseline.get('generated_at', ''))})" if baseline
                 else "host baseline: none given (`govcloud baseline verify --out FILE`, then `--baseline FILE`)")
    items.append(f"review certificates: {esc(sources.get('reviews', ''))}")
    items.append(f"ledger: {esc((data.get('ledger') or {}).get('directory', 'none given (--ledger DIR)'))}")
    return '<ul class="meta" id="sources">' + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _warnings(data: dict[str, Any]) -> str:
    warnings = data["warnings"]
    out = [f'<h2 id="early-warning">Early warning: expired, invalid or expiring within {data["within_days"]} days</h2>']
    if not any(warnings.values()):
        return out[0] + "<p>Nothing expires within the window.</p>"
    if warnings["waivers"]:
        out.append("<h3>Waivers</h3>" + table(
            ("waiver", "rule", "scope", "approver", "expires", "days left", "state", "reason"),
            [[esc(w["id"]), esc(w["rule"]), esc(_scope(w["scope"])), esc(w["approver"]), esc(w["expires"]), str(w["days_left"]),
              _warn(w["warning"]), esc(w["reason"])] for w in warnings["waivers"]], numeric=(5,), attrs='id="warning-waivers"'))
    if warnings["certificates"]:
        out.append("<h3>Review certificates</h3>" + table(
            ("stack", "reviewer", "expires", "days left", "state", "problems"),
            [[f"<code>{esc(c['stack'])}</code>", esc(c.get("reviewer", "")), esc(c.get("expires_at", "")),
              str(c.get("days_left", "")), _warn(c["state"]), esc("; ".join(c["problems"]))] for c in warnings["certificates"]],
            numeric=(3,), attrs='id="warning-certificates"'))
    if warnings["reviews_due"]:
        out.append("<h3>Tenant requests due for review</h3>" + table(
            ("tenant", "department", "review by", "state"),
            [[f"<code>{esc(r['tenant'])}</code>", esc(r["department"]), esc(r["review_by"]), _warn(r["warning"])]
             for r in warnings["reviews_due"]], attrs='id="warning-reviews"'))
    if warnings.get("witnesses"):
        out.append("<h3>Ledger witnesses fallen behind</h3>" + table(
            ("witness", "bureau", "latest cosigned size", "behind by"),
            [[esc(w["id"]), esc(w["name"]), str(w["cosigned_size"]), str(w["behind"])] for w in warnings["witnesses"]],
            numeric=(2, 3), attrs='id="warning-witnesses"'))
    return "".join(out)


def _regions(data: dict[str, Any]) -> str:
    grid = data["tenants_by_region_and_zone"]
    indent = {"province": 0, "city": 1, "county": 2}
    rows = [[f'<span style="padding-left:{indent.get(r["level"], 0) * 1.2}em">{esc(r["region"])} {esc(r["name"])}</span>',
             *(str(r["zones"][z]) if r["zones"][z] else '<span class="muted">0</span>' for z in grid["zones"]), f"<b>{r['total']}</b>"]
            for r in grid["rows"]]
    rows.append(["<b>all regions</b>", *(f"<b>{grid['totals'][z]}</b>" for z in grid["zones"]), f"<b>{grid['total']}</b>"])
    numeric = range(1, len(grid["zones"]) + 2)
    return ('<h2 id="regions">Tenants by region and zone</h2>'
            + table(("region", *grid["zones"], "total"), rows, numeric=numeric, attrs='id="tenants-by-region"'))


def _rules(data: dict[str, Any]) -> str:
    rows = []
    for r in data["rules"]:
        failing = r["stacks_failing"]
        listed = ", ".join(failing[:5]) + (f" and {len(failing) - 5} more" if len(failing) > 5 else "")
        css = "bad" if r["failed"] and r["enforcement"] == "mandatory" else "warn" if r["failed"] else ""
        rows.append([esc(r["id"]), esc(r["title"]), esc(r["standard"]), esc(r["severity"]), esc(r["enforcement"]),
                     str(r["passed"]), f'<span class="{css}">{r["failed"]}</span>', str(r["waived"]), esc(listed)])
    return ('<h2 id="rules">Compliance per rule</h2>'
            + table(("rule", "title", "standard", "severity", "enforcement", "passed", "failed", "waived", "stacks failing"),
                    rows, numeric=(5, 6, 7), attrs='id="rules-table"'))


def _tenants(data: dict[str, Any]) -> str:
    rows = []
    for t in data["tenants"]:
        verdict = {"fail": '<span class="bad">fail</span>', "pass": '<span class="good">pass</span>'}.get(t["verdict"], esc(t["verdict"]))
        rows.append([f"<code>{esc(t['tenant'])}</code>", esc(t["department"]), f"{esc(t['region'])} {esc(t['region_name'])}",
                     esc(t["zone"]), esc(t["cluster"]), str(t["mlps_level"]), str(t["passed"]), str(t["failed"]), str(t["waived"]),
                     str(t["blocking"]), verdict, _warn(t["certificate"])])
    return ('<h2 id="tenant-compliance">Compliance per tenant</h2>'
            '<p><label>Filter: <input id="tenant-filter" type="search" placeholder="tenant, department, region, zone"></label> '
            f'<span id="tenant-count" class="muted">{len(rows)} tenants</span></p>'
            + table(("tenant", "department", "region", "zone", "cluster", "level", "passed", "failed", "waived", "blocking",
                     "verdict", "certificate"), rows, numeric=(5, 6, 7, 8, 9), attrs='id="tenants"'))


def _hosts(data: dict[str, Any]) -> str:
    hosts = data.get("hosts")
    if hosts is None:
        return ('<h2 id="hosts">Host controls</h2><p class="muted">No baseline verification given: run '
                "<code>govcloud baseline verify --out FILE</code> and pass <code>--baseline FILE</code>.</p>")
    controls = [c["id"] for c in hosts["controls"]]
    rows = [[f"<code>{esc(h['host'])}</code>", esc(h["zone"]), esc(h["role"]), str(h["mlps_level"]),
             *(STATUS_MARK.get(h["controls"].get(c, ""), esc(h["controls"].get(c, ""))) for c in controls)] for h in hosts["hosts"]]
    failing = [[f"<code>{esc(h['host'])}</code>", esc(c), esc("; ".join(e))] for h in hosts["hosts"] for c, e in sorted(h["failing"].items())]
    summary = hosts.get("summary", {})
    return (f'<h2 id="hosts">Host controls</h2><p class="meta">Verified {esc(hosts.get("generated_at", ""))}: '
            f'{summary.get("pass", 0)} passed, {summary.get("fail", 0)} failed, {summary.get("not_applicable", 0)} not applicable '
            f'on {summary.get("hosts", len(rows))} hosts.</p>'
            + table(("host", "zone", "role", "level", *controls), rows, attrs='id="host-controls"')
            + (("<h3>Failing controls</h3>" + table(("host", "control", "evidence"), failing, attrs='id="host-failures"')) if failing else ""))


def _capacity(data: dict[str, Any]) -> str:
    rows = []
    for c in data["capacity"]:
        cells = [f"{esc(v['used'])} / {esc(v['limit'])}<br>{_bar(v['percent'])}" for v in c["resources"].values()]
        rows.append([f"<code>{esc(c['cluster'])}</code>", esc(c["zone"]), str(c["tenants"]), *cells])
    kinds = list(data["capacity"][0]["resources"]) if data["capacity"] else []
    return ('<h2 id="capacity">Capacity used per cluster</h2><p class="meta">Tenant quotas against allocatable capacity '
            "(cpu and memory times the cluster's overcommit).</p>"
            + table(("cluster", "zone", "tenants", *kinds), rows, numeric=(2,), attrs='id="capacity-table"'))


def _ledger(data: dict[str, Any]) -> str:
    head = data.get("ledger")
    if not head:
        return '<h2 id="ledger">Evidence ledger</h2><p class="muted">No ledger given (--ledger DIR).</p>'
    rows = [["log", esc(head["log_id"])], ["entries (tree size)", str(head["size"])], ["root hash", f"<code>{esc(head['root'])}</code>"],
            ["hash", esc(head["hash"])], *([["signed at", esc(head["timestamp"])]] if head.get("timestamp") else []),
            ["key id", f"<code>{esc(head['key_id'])}</code>"],
            ["signature", '<span class="good">matches the key the ledger names</span>' if head["signature_matches_ledger_key"]
             else '<span class="bad">does not match the key the ledger names</span>']]
    witnesses = head.get("witnesses")
    witness_table = ""
    if witnesses:
        witness_rows = [[esc(w["id"]), esc(w["name"]), str(w["cosigned_size"]),
                         f'<span class="warn">behind by {w["behind"]}</span>' if w["fallen_behind"] else '<span class="good">up to date</span>']
                        for w in witnesses["rows"]]
        witness_table = (f'<h3>Witnesses (quorum {witnesses["quorum"]}; witnessed up to size {witnesses["witnessed_size"]})</h3>'
                         + table(("witness", "bureau", "latest cosigned size", "state"), witness_rows, attrs='id="ledger-witnesses"'))
    return ('<h2 id="ledger">Evidence ledger: latest signed tree head</h2>' + table(("", ""), rows, attrs='id="ledger-head"')
            + witness_table
            + '<p class="meta">Keep this head; <code>govcloud ledger verify --since HEAD --key PUB</code> later proves the log only grew. '
              "Check the key id against the public key you hold, not the ledger's copy.</p>")


def to_html(data: dict[str, Any]) -> str:
    title = f"Security posture: {data['platform']} ({data['env']}) as of {data['today']}"
    body = "".join([
        f"<h1>{esc(title)}</h1>", _sources(data), '<h2 id="summary">Summary</h2>', _summary(data), _warnings(data),
        _regions(data), _rules(data), _tenants(data), _hosts(data), _capacity(data), _ledger(data),
        f'<p class="meta">{esc(data["format"])} · the JSON form (posture.json) holds the same data.</p>',
    ])
    return page(title, body, script=SCRIPT)
