"""R5 refusals and R13 warnings as pure functions."""

from atm.domain.eligibility import Place, Reason, ineligibility
from atm.domain.side_effects import item_warning, warnings_for
from atm.domain.model import Device, License

SRC = Place("north.example")
DST = Place("south.example", "DEFAULT")


def lic(**kw):
    base = dict(id="SO1-1", account="north.example", virtual_account="DEFAULT", pid="P", quantity=2)
    base.update(kw)
    return License(**base)


def dev(**kw):
    base = dict(id="S1", serial_number="S1", pid="D", account="north.example", virtual_account="DEFAULT")
    base.update(kw)
    return Device(**base)


def verdict(asset, *, ssm=False, active=None, source=SRC, target=DST):
    return ineligibility(asset, in_ssm_onprem_va=ssm, active_transaction=active, source=source, target=target)


def test_a_plain_license_and_device_may_move():
    assert verdict(lic()) is None
    assert verdict(dev()) is None


def test_an_asset_of_another_account_is_refused():
    v = verdict(lic(account="west.example"))
    assert v.reason is Reason.NOT_IN_SOURCE and "north.example" in v.message


def test_an_asset_outside_the_named_source_va_is_refused():
    v = verdict(dev(virtual_account="Lab"), source=Place("north.example", "DEFAULT"))
    assert v.reason is Reason.NOT_IN_SOURCE_VA and "'Lab'" in v.message


def test_an_asset_already_in_the_target_va_is_refused():
    v = verdict(dev(), target=Place("north.example", "DEFAULT"))
    assert v.reason is Reason.ALREADY_IN_TARGET


def test_an_enterprise_agreement_license_is_refused():
    v = verdict(lic(enterprise_agreement=True))
    assert v.reason is Reason.ENTERPRISE_AGREEMENT and v.message == "is bound to an Enterprise Agreement"


def test_a_license_with_a_pending_upgrade_is_refused():
    assert verdict(lic(pending_upgrade=True)).reason is Reason.PENDING_UPGRADE


def test_a_device_in_an_ssm_onprem_va_is_refused_but_a_license_there_is_not():
    assert verdict(dev(), ssm=True).reason is Reason.SSM_ONPREM_DEVICE
    assert verdict(lic(), ssm=True) is None


def test_an_asset_in_an_unfinished_transaction_is_refused_naming_it():
    v = verdict(dev(), active="ATM-ABC")
    assert v.reason is Reason.IN_ACTIVE_TRANSACTION and "ATM-ABC" in v.message
    assert str(v).startswith("S1: ")


def test_without_a_source_only_the_asset_itself_is_judged():
    assert ineligibility(lic(account="any"), in_ssm_onprem_va=False, active_transaction=None) is None


def test_r13_warnings_name_each_side_effect_once_per_kind():
    found = {w.code: w for w in warnings_for(
        [lic(in_use=1), lic(id="SO1-2", reserved=True), dev(cslu=True), dev(id="S2", pnp_status="Provisioned"),
         dev(id="S3", reserved=True)],
        target_account="south.example",
    )}
    assert set(found) == {"in_use", "reserved", "cslu", "no_reregistration", "pnp"}
    assert (found["in_use"].count, found["in_use"].assets) == (1, ("SO1-1",))
    assert "in use" in found["in_use"].message and "out of compliance at the source" in found["in_use"].message
    assert (found["reserved"].count, found["reserved"].assets) == (2, ("SO1-2", "S3"))
    assert "stays in south.example" in found["reserved"].message
    assert found["cslu"].assets == ("S1",) and "CSLU" in found["cslu"].message
    assert found["no_reregistration"].count == 3 and "3 devices move without re-registration" in \
        found["no_reregistration"].message
    assert found["pnp"].count == 1 and "Plug and Play" in found["pnp"].message


def test_r13_a_warning_keeps_the_first_ten_ids_and_counts_them_all():
    (w,) = [w for w in warnings_for([lic(id=f"SO1-{n}", in_use=1) for n in range(1, 1205)],
                                    target_account="south.example") if w.code == "in_use"]
    assert w.count == 1204 and w.assets == tuple(f"SO1-{n}" for n in range(1, 11))
    assert w.message.startswith("1,204 licenses are in use")


def test_r13_each_item_carries_its_own_warning_code():
    assert item_warning(lic(in_use=1)) == "in_use"
    assert item_warning(lic(reserved=True)) == "reserved"
    assert item_warning(dev(cslu=True)) == "cslu"
    assert item_warning(dev(reserved=True)) == "reserved"
    assert item_warning(lic()) is None and item_warning(dev()) is None


def test_no_warning_for_a_quiet_license():
    assert warnings_for([lic()], target_account="south.example") == []
