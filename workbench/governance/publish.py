"""The public register: a static page set that documents what the city holds and shares.

Why: residents can only trust safeguards they can see. ``workbench register publish CATALOG -o
site/`` writes ``index.html`` (one self-contained page: no script, no external resource, a
Content-Security-Policy that forbids any request) and ``register.json`` (the same content as data):

* datasets: department, purposes, legal basis, retention, hosting, sharing and encryption flags,
  the sensitive fields (names only) and what each field is needed for;
* sharing practices and their recipients, with the concerns the inventory raises;
* disclosure requests: statistics by outcome, time to decision, and each request's outcome with
  the board's votes (who decided, never whom the data is about);
* the oversight body (members, key fingerprints, quorum) and the disclosure rules in words;
* the heads of the signed logs (the disclosure register, and the provenance log when given), so
  that anyone holding a later copy can check nothing was rewritten (``workbench provenance
  verify --against``).

Every page is checked against the direct-identifier values of every catalog dataset before it is
written (:func:`workbench.review.bundle.check_no_leak`); nothing is written if one occurs.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

__all__ = ["PublishedSite", "build_public_register", "render_register_html", "publish_register"]


@dataclass(frozen=True)
class PublishedSite:
    """The files written and the document they render."""

    files: tuple[Path, ...]
    document: dict[str, Any]


def _gov(catalog_path: Path, name: str) -> Path | None:
    from .sharing import default_governance_file

    return default_governance_file(catalog_path, name)


def _head(log_path: Path | None) -> dict[str, Any] | None:
    if log_path is None or not Path(log_path).exists():
        return None
    from .provenance import signed_head

    head, res = signed_head(log_path)
    return {
        "log": Path(log_path).name,
        "records": head["count"],
        "hash": head["hash"],
        "signed": bool(head.get("signature")),
        "fingerprint": head.get("fingerprint"),
        "signature": head.get("signature"),
        "verified": res.ok,
        "anchor": dict(head),
    }


def build_public_register(
    catalog_path: str | os.PathLike,
    *,
    provenance_log: str | os.PathLike | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Everything the public register shows, as plain data (rendered by
    :func:`render_register_html`)."""
    from .catalog import Catalog
    from .catalog_policies import dataset_policy
    from .disclosure import DisclosureRegister, DisclosureRules, disclosure_statistics
    from .minimize import FieldPurposes, default_purposes_path
    from .oversight import load_oversight
    from .sharing import SharingInventory, hosting_of

    cpath = Path(catalog_path)
    cat = Catalog.load(cpath)
    fp_path = default_purposes_path(cpath)
    fp = FieldPurposes.load(fp_path) if fp_path else None
    datasets = []
    for name, entry in cat.datasets.items():
        pol = dataset_policy(cat, name) if entry.policy is not None else None
        host = hosting_of(entry)
        fields = []
        if fp is not None and fp.covers(name):
            for field, spec in fp.datasets[name].items():
                fields.append(
                    {
                        "field": field,
                        "sensitive": field in entry.sensitive,
                        "needed_for": list(spec.needed_for),
                        "coarser": [
                            {"form": c.form, "suffices_for": list(c.suffices_for)}
                            for c in spec.coarser
                        ],
                    }
                )
        datasets.append(
            {
                "name": name,
                "department": entry.department,
                "purpose": entry.purpose,
                "external": entry.external,
                "sensitive_fields": list(entry.sensitive),
                "purposes": [] if pol is None else list(pol.purposes),
                "legal_basis": None if pol is None else pol.legal_basis,
                "retention": None if pol is None else pol.retention.text,
                "sharing_allowed": None if pol is None else pol.sharing_allowed,
                "third_party_hosting": None if pol is None else pol.third_party_hosting,
                "encryption_at_rest": None if pol is None else pol.encryption_at_rest,
                "hosting": None if host is None else host.location,
                "fields": fields,
            }
        )
    sharing_path = _gov(cpath, "sharing.yaml")
    sharing = SharingInventory.load(sharing_path).review(cat) if sharing_path else []
    board_path = _gov(cpath, "oversight.yaml")
    board = load_oversight(board_path) if board_path else None
    register_path = cpath.parent / "governance" / "disclosure.jsonl"
    rules_path = _gov(cpath, "disclosure_rules.yaml")
    rules = DisclosureRules.load(rules_path) if rules_path is not None else None
    cases: Sequence[Any] = ()
    if board is not None and register_path.exists():
        cases = DisclosureRegister(register_path, board, rules=rules, catalog=cat).cases()
    names = {m.id: m.name for m in board.members} if board else {}
    requests = []
    for c in cases:
        requests.append(
            {
                "id": c.request.id,
                "received": c.received[:10],
                "requester": c.request.requester,
                "requester_kind": c.request.requester_kind,
                "instrument": c.request.instrument.replace("_", " "),
                "dataset": c.request.dataset,
                "fields": list(c.request.fields),
                "scope": c.request.scope,
                "outcome": c.outcome if not c.open else "referred (open)",
                "decided_by": "oversight body" if c.votes and not c.open else "rules",
                "rule": None if c.ruling is None else c.ruling.reason,
                "decided": c.decided_at[:10] if c.decided_at else None,
                "votes": [
                    {
                        "member": names.get(v.member, v.member),
                        "decision": v.decision,
                        "reason": v.reason,
                    }
                    for v in c.votes
                ],  # fmt: skip
                "anomalies": list(c.anomalies),
                "refused_votes": [
                    {"member": names.get(r["member"], r["member"]), "reason": r["reason"]}
                    for r in c.refused_votes
                ],
            }
        )
    return {
        "catalog": cat.name,
        "published": (today or date.today()).isoformat(),
        "datasets": datasets,
        "sharing": sharing,
        "disclosure": {"statistics": disclosure_statistics(cases), "requests": requests},
        "oversight": None if board is None else board.to_public_dict(),
        "rules": [] if rules is None else rules.to_public_list(),
        "heads": [
            h
            for h in (_head(register_path), _head(provenance_log and Path(provenance_log)))
            if h is not None
        ],
    }


_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;
background:#f6f7f9}
header{background:#123;color:#fff;padding:18px 32px}header h1{margin:0;font-size:24px}
header p{margin:4px 0 0;color:#cfd8e3}nav{background:#fff;border-bottom:1px solid #dde;
padding:8px 32px}nav a{margin-right:18px;color:#0b5cab;text-decoration:none;font-weight:600}
main{padding:8px 32px 40px;max-width:1200px}section{background:#fff;border:1px solid #dde;
border-radius:6px;padding:8px 20px 16px;margin:18px 0}h2{font-size:19px;margin:12px 0}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{text-align:left;
vertical-align:top;padding:6px 8px;border-bottom:1px solid #e6e8eb;font-size:14px}
th{background:#f0f2f5}.tag{display:inline-block;padding:1px 8px;border-radius:10px;
font-size:12px;font-weight:600}.permitted{background:#e3f4e8;color:#17663a}
.refused{background:#fde7e7;color:#a11}.referred{background:#fff3d6;color:#7a5200}
.yes{color:#17663a}.no{color:#a11}.concern{color:#a11}.muted{color:#5b6570}
.stats{display:flex;gap:14px;flex-wrap:wrap}.stat{border:1px solid #dde;border-radius:6px;
padding:8px 16px;min-width:120px}.stat b{display:block;font-size:24px}code{font-size:12px;
word-break:break-all}
"""


def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _flag(v: Any) -> str:
    if v is None:
        return '<span class="muted">not stated</span>'
    return '<span class="yes">yes</span>' if v else '<span class="no">no</span>'


def _outcome(o: str) -> str:
    cls = o.split(" ")[0]
    return f'<span class="tag {_e(cls)}">{_e(o)}</span>'


def render_register_html(doc: dict[str, Any]) -> str:
    """One self-contained page (no script, no external resource)."""
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Public data register: {_e(doc['catalog'])}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<header><h1>Public data register: {_e(doc['catalog'])}</h1>",
        f"<p>What the city holds about residents, why, how long, with whom it is shared, and how "
        f"requests for it were decided. Published {_e(doc['published'])}.</p></header>",
        '<nav><a href="#datasets">Datasets</a><a href="#sharing">Sharing</a>'
        '<a href="#requests">Disclosure requests</a><a href="#oversight">Oversight</a>'
        '<a href="#integrity">Integrity</a></nav><main>',
    ]
    out.append('<section id="datasets"><h2>Datasets and their purposes</h2><table>')
    out.append(
        "<tr><th>Dataset</th><th>Department</th><th>Purposes</th><th>Legal basis</th>"
        "<th>Retention</th><th>Stored at</th><th>Sharing allowed</th>"
        "<th>Third-party hosting</th><th>Encrypted at rest</th><th>Sensitive fields</th></tr>"
    )
    for d in doc["datasets"]:
        out.append(
            f"<tr><td>{_e(d['name'])}{' (external)' if d['external'] else ''}</td>"
            f"<td>{_e(d['department'])}</td><td>{_e(', '.join(d['purposes']))}</td>"
            f"<td>{_e(d['legal_basis'])}</td><td>{_e(d['retention'])}</td>"
            f"<td>{_e(d['hosting']) or '<span class=muted>not stated</span>'}</td>"
            f"<td>{_flag(d['sharing_allowed'])}</td><td>{_flag(d['third_party_hosting'])}</td>"
            f"<td>{_flag(d['encryption_at_rest'])}</td>"
            f"<td>{_e(', '.join(d['sensitive_fields'])) or '-'}</td></tr>"
        )
    out.append("</table>")
    for d in doc["datasets"]:
        if not d["fields"]:
            continue
        out.append(f"<h3>{_e(d['name'])}: what each field is needed for</h3><table>")
        out.append("<tr><th>Field</th><th>Needed for</th><th>A coarser form suffices for</th></tr>")
        for f in d["fields"]:
            coarser = "; ".join(
                f"{c['form']}: {', '.join(c['suffices_for'])}" for c in f["coarser"]
            )
            star = " (sensitive)" if f["sensitive"] else ""
            out.append(
                f"<tr><td>{_e(f['field'])}{star}</td><td>{_e(', '.join(f['needed_for']))}</td>"
                f"<td>{_e(coarser) or '-'}</td></tr>"
            )
        out.append("</table>")
    out.append("</section>")
    out.append('<section id="sharing"><h2>Sharing practices and recipients</h2>')
    out.append(
        "<p>Every practice that shares individual-level data, formal or informal; those touching "
        "sensitive status first.</p><table><tr><th>Practice</th><th>Dataset</th><th>Columns shared</th>"
        "<th>Recipient</th><th>Legal basis</th><th>Frequency</th><th>Hosting</th>"
        "<th>Concerns</th></tr>"
    )
    for s in doc["sharing"]:
        fields = ", ".join(
            f"{f} (sensitive)" if f in s["sensitive_fields"] else f for f in s["fields"]
        )
        concerns = "<br>".join(f'<span class="concern">{_e(c)}</span>' for c in s["concerns"])
        out.append(
            f"<tr><td>{_e(s['id'])}{'' if s['formal'] else ' (informal)'}</td>"
            f"<td>{_e(s['dataset'])}</td><td>{_e(fields)}</td>"
            f"<td>{_e(s['recipient'])} ({_e(s['recipient_kind'])})</td>"
            f"<td>{_e(s['legal_basis'])}</td><td>{_e(s['frequency'])}</td>"
            f"<td>{_e(s['hosting'])}</td><td>{concerns or '-'}</td></tr>"
        )
    out.append("</table></section>")
    st = doc["disclosure"]["statistics"]
    out.append('<section id="requests"><h2>Disclosure requests</h2><div class="stats">')
    out.append(f'<div class="stat"><b>{st["requests"]}</b>requests</div>')
    for k, v in st["by_outcome"].items():
        out.append(f'<div class="stat"><b>{v}</b>{_e(k)}</div>')
    med = st["median_hours_to_decision"]
    out.append(
        f'<div class="stat"><b>{_e("-" if med is None else f"{med:g} h")}</b>median time to '
        "decision</div></div><table><tr><th>Request</th><th>Received</th><th>Requester</th>"
        "<th>Legal instrument</th><th>Data asked for</th><th>Outcome</th><th>How decided</th></tr>"
    )
    for r in doc["disclosure"]["requests"]:
        how = _e(r["rule"])
        if r["votes"] or r["refused_votes"]:
            how += "<br>" + "<br>".join(
                f"{_e(v['member'])}: {_e(v['decision'])}"
                + (f" ({_e(v['reason'])})" if v["reason"] else "")
                for v in r["votes"]
            )
        how += "".join(
            f'<br><span class="muted">vote refused, {_e(v["member"])}: {_e(v["reason"])}</span>'
            for v in r["refused_votes"]
        )
        how += "".join(f'<br><span class="concern">anomaly: {_e(a)}</span>' for a in r["anomalies"])
        out.append(
            f"<tr><td>{_e(r['id'])}</td><td>{_e(r['received'])}</td>"
            f"<td>{_e(r['requester'])} ({_e(r['requester_kind'])})</td>"
            f"<td>{_e(r['instrument'])}</td>"
            f"<td>{_e(r['dataset'])}: {_e(', '.join(r['fields']))}<br>"
            f'<span class="muted">{_e(r["scope"])}</span></td>'
            f"<td>{_outcome(r['outcome'])}</td><td>{how}</td></tr>"
        )
    out.append("</table></section>")
    out.append('<section id="oversight"><h2>Oversight body and disclosure rules</h2>')
    board = doc["oversight"]
    if board:
        out.append(
            f"<p>{_e(board['name'])}: a referral is decided by {board['quorum']} concurring "
            "signed votes of distinct members, none of them the requester or the officer who "
            "referred it.</p><table><tr><th>Member</th><th>Role</th><th>Signing key</th></tr>"
        )
        for m in board["members"]:
            out.append(
                f"<tr><td>{_e(m['name'])}</td><td>{_e(m['role'])}</td>"
                f"<td><code>{_e(m['fingerprint'])}</code></td></tr>"
            )
        out.append("</table>")
    if doc["rules"]:
        out.append("<p>Rules, tried in order (a request no rule matches is refused):</p><ol>")
        out += [f"<li>{_e(r)}</li>" for r in doc["rules"]]
        out.append("</ol>")
    out.append("</section>")
    out.append('<section id="integrity"><h2>Integrity: heads of the signed logs</h2><table>')
    out.append("<tr><th>Log</th><th>Records</th><th>Last hash</th><th>Signature</th></tr>")
    for h in doc["heads"]:
        sig = f"signed by <code>{_e(h['fingerprint'])}</code>" if h["signed"] else "unsigned"
        out.append(
            f"<tr><td>{_e(h['log'])}</td><td>{h['records']}</td><td><code>{_e(h['hash'])}</code>"
            f"</td><td>{sig}</td></tr>"
        )
    out.append(
        "</table><p class=muted>Each head is published beside this page as "
        "<code>LOG.head.json</code>; <code>workbench provenance verify LOG --against "
        "LOG.head.json</code> detects a log rewritten or rolled back since.</p>"
        "</section></main></body></html>"
    )
    return "\n".join(out) + "\n"


def _forbidden(catalog_path: Path) -> set[str]:
    """Direct-identifier values of every catalog dataset (what must never appear)."""
    from ..review.bundle import identifier_values
    from .catalog import Catalog

    cat = Catalog.load(catalog_path)
    values: set[str] = set()
    for name, entry in cat.datasets.items():
        if entry.direct_identifiers:
            values |= identifier_values(cat.load_dataset(name), entry.direct_identifiers)
    return values


def publish_register(
    catalog_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    provenance_log: str | os.PathLike | None = None,
    today: date | None = None,
) -> PublishedSite:
    """Build, leak-check and write ``index.html`` and ``register.json`` into ``out_dir``."""
    from .._io import atomic_write_text
    from ..review.bundle import check_no_leak

    cpath = Path(catalog_path)
    doc = build_public_register(cpath, provenance_log=provenance_log, today=today)
    page = render_register_html(doc)
    data = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    forbidden = _forbidden(cpath)
    context = "would be published in the public register; it may hold no identifier"
    check_no_leak(page, forbidden, context)
    check_no_leak(data, forbidden, context)
    out = Path(out_dir)
    files = (
        atomic_write_text(out / "index.html", page),
        atomic_write_text(out / "register.json", data),
        *(
            atomic_write_text(out / f"{h['log']}.head.json", json.dumps(h["anchor"]) + "\n")
            for h in doc["heads"]
        ),
    )
    return PublishedSite(files, doc)
