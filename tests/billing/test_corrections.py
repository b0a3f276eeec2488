"""Corrections never hide what they did: lineage on both sides, a new stamp on the original,
and the period's generation returns the invoice that stands for it."""

from billing_scenarios import generate, issue_and_correct


def test_generating_a_corrected_period_returns_the_replacement(client, db, admin, billing):
    contract_id, _, correction = issue_and_correct(client, db, admin, billing)
    again = generate(client, contract_id, billing)
    assert again.status_code == 200
    assert again.json()["id"] == correction["invoice"]["id"]


def test_the_original_links_its_credit_note_and_replacement(client, db, admin, billing):
    _, issued, correction = issue_and_correct(client, db, admin, billing)
    original = client.get(f"/v1/invoices/{issued['id']}", headers=billing).json()
    assert original["credited_by"] == {"id": correction["credit_note"]["id"], "number": None}
    assert original["replaced_by"] == {"id": correction["invoice"]["id"], "number": None}
    assert original["credited_by"] == correction["original"]["credited_by"]


def test_corrections_name_the_number_of_what_they_correct(client, db, admin, billing):
    _, issued, correction = issue_and_correct(client, db, admin, billing)
    for document in (correction["credit_note"], correction["invoice"]):
        assert (document["corrects"], document["corrects_number"]) == (
            issued["id"],
            issued["number"],
        )


def test_a_correction_moves_the_original_on_the_sync_clock(client, db, admin, billing):
    _, issued, correction = issue_and_correct(client, db, admin, billing)
    assert correction["original"]["updated_at"] > issued["updated_at"]
    synced = client.get(
        "/v1/invoices", params={"updated_since": issued["updated_at"]}, headers=billing
    ).json()
    assert issued["id"] in [item["id"] for item in synced["items"]]


def test_issuing_the_credit_note_shows_its_number_on_the_original(client, db, admin, billing):
    _, issued, correction = issue_and_correct(client, db, admin, billing)
    credit = client.post(
        f"/v1/invoices/{correction['credit_note']['id']}/issue", headers=billing
    ).json()
    synced = client.get(
        "/v1/invoices",
        params={"updated_since": correction["original"]["updated_at"]},
        headers=billing,
    ).json()["items"]
    original = next(item for item in synced if item["id"] == issued["id"])
    assert original["credited_by"] == {"id": credit["id"], "number": credit["number"]}


def test_an_invoice_is_credited_once(client, db, admin, billing):
    _, issued, _ = issue_and_correct(client, db, admin, billing)
    again = client.post(f"/v1/invoices/{issued['id']}/correct", headers=billing)
    assert again.status_code == 409
