"""Billing integrity under change, as an integrator would try it: random sequences of
amendments, price rows, adjustments, corrected actuals, generation, issues, corrections and
payments, through the API, on both databases.

After every sequence, settled (every draft issued, every stale invoice corrected):
- an issued invoice never changed;
- issued invoices minus issued credit notes equal the period's shortfall under the terms in
  force (back-dated amendments included);
- the comparison of the closed period equals its shortfall;
- a billing system polling `updated_since` from the last stamp it saw holds the current
  state of every invoice.
"""

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_scenarios import MID_PERIOD, PERIOD, VOICE_100K, arrange, shortfall

FROZEN = ("number", "net_amount", "vat_amount", "total_amount", "lines", "mentions", "issue_date")

ratios = st.sampled_from(["0.80", "0.85", "0.90", "0.95"])
operations = st.lists(
    st.one_of(
        st.tuples(st.just("adjust"), st.integers(1, 20_000)),
        st.tuples(st.just("actuals"), st.integers(50_000, 110_000)),
        st.tuples(st.just("amend"), ratios),
        st.tuples(st.just("backdate"), ratios),
        st.tuples(st.just("price"), st.sampled_from(["2026-10-01", "2026-12-01", "2099-01-01"])),
        st.tuples(st.just("generate"), st.none()),
        st.tuples(st.just("issue"), st.none()),
        st.tuples(st.just("correct"), st.none()),
        st.tuples(st.just("pay"), st.none()),
    ),
    max_size=8,
)


class Integrator:
    """The billing system: acts through the API and syncs on `updated_since`."""

    def __init__(self, client, headers, contract_id, activity_id) -> None:
        self.client, self.headers = client, headers
        self.contract_id, self.activity_id = contract_id, activity_id
        self.since: str | None = None
        self.synced: dict[str, dict] = {}
        self.issued: dict[str, dict] = {}

    def call(self, method: str, path: str, **kwargs):
        response = self.client.request(method, path, headers=self.headers, **kwargs)
        assert response.status_code < 500, response.text
        self.sync()
        return response

    def sync(self) -> None:
        params = {"contract_id": self.contract_id, "limit": 500}
        if self.since is not None:
            params["updated_since"] = self.since
        page = self.client.get("/v1/invoices", params=params, headers=self.headers).json()
        for item in page["items"]:
            self.synced[item["id"]] = item
            self.since = max(self.since or item["updated_at"], item["updated_at"])
            if item["status"] in ("issued", "paid"):
                self.issued.setdefault(item["id"], item)

    def invoices(self, **filters) -> list[dict]:
        params = {"contract_id": self.contract_id, "limit": 500, **filters}
        return self.client.get("/v1/invoices", params=params, headers=self.headers).json()["items"]

    def act(self, name: str, value) -> None:
        body: dict[str, Any]
        if name == "adjust":
            body = {"period": PERIOD, "units": str(value), "reason": "neutralisation"}
            self.call("POST", f"/v1/activities/{self.activity_id}/adjustments", json=body)
        elif name == "actuals":
            record = {"interval_start": MID_PERIOD, "offered": value, "handled": value}
            body = {"records": [{**record, "aht_seconds": 300}]}
            self.call("POST", f"/v1/activities/{self.activity_id}/volumes", json=body)
        elif name == "amend":
            body = {"trigger_ratio": value, "floor_ratio": value}
            self.call("PATCH", f"/v1/contracts/{self.contract_id}", json=body)
        elif name == "backdate":
            body = {"effective_from": PERIOD, "backdate": True, "floor_ratio": value}
            self.call("POST", f"/v1/contracts/{self.contract_id}/amendments", json=body)
        elif name == "price":
            body = {"effective_from": value, "unit_price": "1.50"}
            self.call("POST", f"/v1/activities/{self.activity_id}/prices", json=body)
        elif name == "generate":
            self.call(
                "POST", "/v1/invoices", json={"contract_id": self.contract_id, "period": PERIOD}
            )
        else:
            status = {"issue": "draft", "correct": "issued", "pay": "issued"}[name]
            action = {"issue": "issue", "correct": "correct", "pay": "mark-paid"}[name]
            for invoice in self.invoices(status=status):
                self.call("POST", f"/v1/invoices/{invoice['id']}/{action}")

    def settle(self) -> None:
        """Generate, issue every draft, and correct a standing invoice that no longer agrees."""
        for _ in range(3):
            self.act("generate", None)
            self.act("issue", None)
            net = shortfall(self.client, self.contract_id, self.headers)["net_amount"]
            stale = [
                invoice
                for invoice in self.invoices(kind="invoice")
                if invoice["status"] in ("issued", "paid")
                and invoice["credited_by"] is None
                and invoice["net_amount"] != net
            ]
            if not stale:
                return
            for invoice in stale:
                self.call("POST", f"/v1/invoices/{invoice['id']}/correct")


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=operations)
def test_billing_never_rewrites_what_was_billed(client, db, admin, billing, sequence) -> None:
    contract_id, ids = arrange(client, db, admin, [VOICE_100K])
    integrator = Integrator(client, admin, contract_id, ids["voice"])
    for name, value in sequence:
        integrator.act(name, value)
    integrator.settle()

    current = {invoice["id"]: invoice for invoice in integrator.invoices()}
    for invoice_id, first_seen in integrator.issued.items():
        assert {k: current[invoice_id][k] for k in FROZEN} == {k: first_seen[k] for k in FROZEN}
    billed = sum(
        (Decimal(i["net_amount"]) for i in current.values() if i["status"] in ("issued", "paid")),
        Decimal(0),
    )
    net = shortfall(client, contract_id, admin)["net_amount"]
    assert billed == Decimal(net)
    comparison = client.get(
        f"/v1/contracts/{contract_id}/comparison", params={"period": PERIOD}, headers=admin
    ).json()
    assert comparison["totals"]["expected_shortfall_amount"] == net
    assert integrator.synced == current
