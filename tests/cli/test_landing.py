"""The landing list of `atm status`: filters by account, status, dates and initiator."""

from datetime import datetime, timedelta, timezone

from tests.conftest import LEGAL, PARTNER, TARO


def request(cli, user, target, asset):
    return cli.json("request", "--from", "acme.co.jp", "--to", target, "--to-va", "DEFAULT", "--same-company", "yes",
                    "--asset", asset, user=user)["transaction_id"]


def ids(rows):
    return {r["transaction_id"] for r in rows}


def test_the_landing_list_filters(cli, sample_db):
    a = request(cli, TARO, "acme-osaka.co.jp", "SO12345678-1")
    b = request(cli, TARO, "acme-osaka.co.jp", "SO12345678-3")
    assert cli("submit", b, user=TARO).exit_code == 0
    rows = cli.json("status", user=TARO)
    assert ids(rows) == {a, b}
    assert list(rows[0]) == ["transaction_id", "status", "state", "source", "target", "created_at", "completed_at"]
    assert ids(cli.json("status", "--status", "Pending Submission", user=TARO)) == {a}
    assert ids(cli.json("status", "--status", "transfer_completed", "--status", "cancelled", user=TARO)) == {b}
    assert ids(cli.json("status", "--account", "acme-osaka.co.jp", user=TARO)) == {a, b}
    today = datetime.now(timezone.utc).date()
    assert ids(cli.json("status", "--since", str(today), "--until", str(today), user=TARO)) == {a, b}
    assert cli.json("status", "--until", str(today - timedelta(days=1)), user=TARO) == []
    assert cli.json("status", "--since", str(today + timedelta(days=1)), user=TARO) == []
    assert ids(cli.json("status", "--initiator", TARO, user=LEGAL)) == {a, b}
    assert cli.json("status", "--initiator", PARTNER, user=LEGAL) == []


def test_landing_filters_refuse_bad_values(cli, sample_db):
    result = cli("status", "--status", "finished", user=TARO)
    assert result.exit_code == 2 and "unknown status 'finished'" in result.stderr
    result = cli("status", "--since", "yesterday", user=TARO)
    assert result.exit_code == 2 and "--since takes a date" in result.stderr
    result = cli("status", "--account", "globex.com", user=TARO)
    assert result.exit_code == 3
