#!/usr/bin/env python3
"""Generate data/sample.json, the demo world loaded by `atm init --sample`.

Deterministic (stdlib only, fixed seed): running it twice writes the same
bytes. The output follows the import format of docs/import.md and uses only
its keys. Run from anywhere:

    python3 tools/make_sample.py            # writes data/sample.json
    python3 tools/make_sample.py -o FILE    # writes FILE instead

The world: four Smart Accounts (two of one company, Acme; one of Globex; one,
Initech, on which the partner holds no role), nine users, 300 license lines
and 240 devices covering every case of rule R5 and R13 (Enterprise
Agreement, pending upgrade, reserved SLR/PLR, in use, Classic PAK, CSLU,
SSM On-Prem, PnP states). A few memorable fixed assets come first in each
list so the README can use them in examples.
"""

from __future__ import annotations

import argparse
import json
import string
import uuid
from pathlib import Path
from random import Random

SEED = 20261129
LICENSE_COUNT = 300
DEVICE_COUNT = 240
OUTPUT = Path(__file__).resolve().parent.parent / "data" / "sample.json"

# Exact number of randomly generated lines/devices given each flag (on top
# of the fixed assets). The flags are kept disjoint so that each refusal
# reason is easy to find; the fixed assets cover one of each.
EA_LINES = 14            # ~5% of licenses, enterprise_agreement: true
EA_TYPED_LINES = 6       # of those, license_type "Enterprise Agreement"
PENDING_UPGRADE_LINES = 11   # ~4%
RESERVED_LINES = 14          # ~5% (SLR/PLR)
IN_USE_SHARE = 0.5           # about half the lines have in_use > 0
CLASSIC_CHANCE = 0.5         # a PID that may be Classic is a PAK license

CSLU_DEVICES = 22
RESERVED_DEVICES = 14
SSM_ONPREM_DEVICES = 16      # random devices put in the SSM On-Prem VA
SHARED_ORDER_SHARE = 0.3     # devices sharing a sales order with licenses

# --- people ---------------------------------------------------------------

TARO = "taro.yamada@acme.co.jp"
KEN = "ken.sato@acme.co.jp"
BOB = "bob.tanaka@acme.co.jp"
HANAKO = "hanako.suzuki@acme-osaka.co.jp"
JOHN = "john.smith@globex.com"
EMILY = "emily.chen@globex.com"
PARTNER = "partner@netpartner.co.jp"
LEGAL = "legal@atm-vendor.example"
PETER = "peter.gibbons@initech.example"

USERS = [
    (TARO, "山田 太郎", False),
    (KEN, "佐藤 健", False),
    (BOB, "Bob Tanaka", False),
    (HANAKO, "鈴木 花子", False),
    (JOHN, "John Smith", False),
    (EMILY, "Emily Chen", False),
    (PARTNER, "田中 一郎 (NetPartner)", False),
    (LEGAL, "Licensing Legal ライセンス法務", True),
    (PETER, "Peter Gibbons", False),
]

# --- accounts ---------------------------------------------------------------

ACME = "acme.co.jp"
ACME_OSAKA = "acme-osaka.co.jp"
GLOBEX = "globex.com"
INITECH = "initech.example"
SSM_ONPREM_VA = "SSM On-Prem"

# domain, name, legal entity, [(VA name, ssm_onprem)], admins, users
ACCOUNTS = [
    (ACME, "アクメ株式会社 東京", "アクメ株式会社",
     [("DEFAULT", False), ("Production", False), ("東京ラボ", False),
      (SSM_ONPREM_VA, True)],
     [TARO, KEN, PARTNER], [BOB]),
    (ACME_OSAKA, "Acme Osaka Branch", "アクメ株式会社",
     [("DEFAULT", False), ("大阪工場", False)],
     [TARO, HANAKO], [KEN]),
    (GLOBEX, "Globex Corporation", "Globex Corporation",
     [("DEFAULT", False), ("Production", False), ("Lab", False)],
     [JOHN, PARTNER], [EMILY]),
    (INITECH, "Initech", "Initech, Inc.",
     [("DEFAULT", False), ("Branch Offices", False)],
     [PETER], []),
]

# Share of the random assets per account, and per VA inside each account.
ACCOUNT_WEIGHTS = {ACME: 40, ACME_OSAKA: 20, GLOBEX: 28, INITECH: 12}
LICENSE_VA_WEIGHTS = {
    ACME: {"DEFAULT": 50, "Production": 25, "東京ラボ": 20, SSM_ONPREM_VA: 5},
    ACME_OSAKA: {"DEFAULT": 60, "大阪工場": 40},
    GLOBEX: {"DEFAULT": 45, "Production": 40, "Lab": 15},
    INITECH: {"DEFAULT": 70, "Branch Offices": 30},
}
DEVICE_VA_WEIGHTS = {
    ACME: {"DEFAULT": 50, "Production": 30, "東京ラボ": 20},
    ACME_OSAKA: {"DEFAULT": 55, "大阪工場": 45},
    GLOBEX: {"DEFAULT": 40, "Production": 45, "Lab": 15},
    INITECH: {"DEFAULT": 60, "Branch Offices": 40},
}

# --- catalogues -------------------------------------------------------------

# major PID, minor PIDs, (min qty, max qty), term subscription?, may be Classic?
LICENSE_CATALOGUE = [
    ("C9300-DNA-E-24-3Y", ["C9300-DNA-E-24", "C9300-NW-E-24", "SVS-DNA-C9300-E3Y"], (1, 40), True, False),
    ("C9300-DNA-A-48-5Y", ["C9300-DNA-A-48", "C9300-NW-A-48"], (1, 30), True, False),
    ("C9300-DNA-E-48-3Y", ["C9300-DNA-E-48", "C9300-NW-E-48"], (1, 40), True, False),
    ("C9200-DNA-E-24-3Y", ["C9200-DNA-E-24", "C9200-NW-E-24"], (1, 60), True, False),
    ("C9200L-DNA-E-48-5Y", ["C9200L-DNA-E-48", "C9200L-NW-E-48"], (1, 60), True, False),
    ("C9500-DNA-A-3Y", ["C9500-DNA-A", "C9500-NW-A", "SVS-DNA-C9500-A3Y"], (1, 8), True, False),
    ("AIR-DNA-E-3Y", ["AIR-DNA-E", "AIR-NW-E", "SVS-DNA-AIR-E3Y"], (5, 200), True, False),
    ("AIR-DNA-A-5Y", ["AIR-DNA-A", "AIR-NW-A"], (5, 150), True, False),
    ("DNA-P-T0-E-3Y", ["NWSTACK-T0-E", "SVS-PDNA-T0-E3Y"], (1, 20), True, False),
    ("DNA-P-T1-A-5Y", ["NWSTACK-T1-A", "SVS-PDNA-T1-A5Y"], (1, 12), True, False),
    ("DNA-C-T0-E-3Y", ["NWSTACK-T0-E", "SVS-DNA-C-T0-E3Y"], (1, 20), True, False),
    ("SL-4330-SEC-K9", ["SL-4330-IPB-K9"], (1, 10), False, True),
    ("SL-4330-UC-K9", ["SL-4330-IPB-K9"], (1, 10), False, True),
    ("FL-4330-PERF-K9", [], (1, 6), False, True),
    ("SL-4350-SEC-K9", ["SL-4350-IPB-K9"], (1, 6), False, True),
    ("L-FPR2110T-TMC=", ["L-FPR2110T-TMC-3Y"], (1, 4), True, False),
    ("L-FPR2120T-TMC=", ["L-FPR2120T-TMC-1Y"], (1, 4), True, False),
    ("L-FPR1010T-TMC=", ["L-FPR1010T-TMC-3Y"], (1, 10), True, False),
    ("LIC-CUCM-12X-ENH", ["LIC-CUCM-12X-ENH-A"], (10, 500), False, True),
    ("LIC-CUCM-14X-ESS", ["LIC-CUCM-14X-ESS-A"], (10, 300), False, True),
    ("A-FLEX-3", ["A-FLEX-NU-UCM", "A-FLEX-EAPL-UCM", "A-FLEX-S-WBX", "SVS-FLEX-SUPT-BAS"], (50, 1000), True, False),
    ("L-ISE-BSE-P=", ["L-ISE-BSE-PLIC"], (100, 2500), False, True),
    ("L-ISE-PLS-3Y-S1", ["L-ISE-PLS-P-LIC"], (100, 2000), True, False),
    ("C9800-DNA-E-3Y", ["C9800-DNA-E", "C9800-NW-E"], (1, 500), True, False),
]

# device PID, serial prefixes, device license type when not Smart, PnP capable?
DEVICE_CATALOGUE = [
    ("C9300-24T", ["FOC", "FCW"], None, True),
    ("C9300-48P", ["FOC", "FCW"], None, True),
    ("C9300-48U", ["FOC"], None, True),
    ("C9200L-48P-4G", ["JAE", "FOC"], None, True),
    ("C9200L-24T-4G", ["JAE", "FOC"], None, True),
    ("C9500-24Y4C", ["FCW", "CAT"], None, True),
    ("ISR4331/K9", ["FDO", "FLM"], "Classic", True),
    ("ISR4351/K9", ["FDO", "FLM"], "Classic", True),
    ("C8300-1N1S-6T", ["FDO", "FGL"], None, True),
    ("C8200-1N-4T", ["FGL", "FDO"], None, True),
    ("AIR-AP2802I-Q-K9", ["FCW", "FGL"], None, False),
    ("C9120AXI-Q", ["FJC", "FGL"], None, False),
    ("C9130AXI-Q", ["FJC"], None, False),
    ("C9800-L-F-K9", ["FCL", "FOC"], None, True),
    ("FPR2110-NGFW-K9", ["JAD", "JMX"], None, False),
    ("FPR1010-NGFW-K9", ["JMX"], None, False),
]

PNP_STATES = [  # (status, weight); None = not a PnP device
    ("Provisioned", 45), ("Unclaimed", 15), ("Pending", 10), ("Error", 6),
    ("Redirect Successful", 10), (None, 14),
]

# --- fixed, memorable assets (README examples) ------------------------------


def fixed_licenses() -> list[dict]:
    """The licenses the README uses, in the order they appear first."""
    return [
        license_record("12345678", "1", ACME, "DEFAULT", "C9300-DNA-E-24-3Y", 10,
                       web_order="W123456789", subscription_id="Sub1004521",
                       in_use=4,
                       minors=[("1.1", "C9300-DNA-E-24", 10),
                               ("1.4", "C9300-NW-E-24", 10)]),
        license_record("12345678", "2", ACME, "DEFAULT", "DNA-P-T0-E-3Y", 2,
                       web_order="W123456789", subscription_id="Sub1004522",
                       in_use=2, reserved=True,
                       minors=[("2.1", "NWSTACK-T0-E", 2)]),
        license_record("12345678", "3", ACME, "DEFAULT", "AIR-DNA-E-3Y", 25,
                       web_order="W123456789", subscription_id="Sub1004523",
                       minors=[("3.1", "AIR-DNA-E", 25), ("3.2", "AIR-NW-E", 25),
                               ("3.5", "SVS-DNA-AIR-E3Y", 25)]),
        license_record("12345679", "1", ACME, "DEFAULT", "C9300-DNA-A-48-5Y", 20,
                       web_order="912345679", subscription_id="Sub1004600",
                       license_type="Enterprise Agreement", in_use=12,
                       enterprise_agreement=True,
                       minors=[("1.1", "C9300-DNA-A-48", 20)]),
        license_record("12345680", "1", ACME, "DEFAULT", "SL-4330-SEC-K9", 3,
                       web_order="W123456790", pending_upgrade=True),
        license_record("12345681", "1", ACME, "東京ラボ", "LIC-CUCM-12X-ENH", 50,
                       pak="3XXXX9A1B2C", license_type="Classic", in_use=18,
                       minors=[("1.1", "LIC-CUCM-12X-ENH-A", 50)]),
        license_record("87654321", "1", GLOBEX, "DEFAULT", "L-FPR2110T-TMC=", 2,
                       web_order="987654321", subscription_id="Sub2007001",
                       in_use=1, minors=[("1.1", "L-FPR2110T-TMC-3Y", 2)]),
    ]


def fixed_devices(rng: Random) -> list[dict]:
    """The devices the README uses, in the order they appear first."""
    return [
        device_record(rng, "FOC2231X0AB", "C9300-24T", ACME, "DEFAULT",
                      pnp_status="Provisioned", sales_order="12345678"),
        device_record(rng, "FCW2245L0CS", "C9200L-48P-4G", ACME, "DEFAULT",
                      pnp_status="Provisioned", sales_order="12345678", cslu=True),
        device_record(rng, "FDO2312Q1AB", "C8300-1N1S-6T", ACME, SSM_ONPREM_VA,
                      pnp_status="Provisioned", sales_order="12345680"),
        device_record(rng, "FOC2240Y1RZ", "C9300-48P", ACME, "DEFAULT",
                      pnp_status=None, sales_order="12345678", reserved=True),
        device_record(rng, "FGL2318M0XY", "C8200-1N-4T", ACME, "Production",
                      pnp_status="Unclaimed", sales_order=None),
        device_record(rng, "JMX2250G0KT", "FPR2110-NGFW-K9", GLOBEX, "DEFAULT",
                      pnp_status=None, sales_order="87654321"),
    ]


# --- record builders (keys in the order of docs/import.md) -------------------


def license_record(sales_order, line, account, va, pid, quantity, *,
                   web_order=None, subscription_id=None, pak=None,
                   license_type="Smart", in_use=0, enterprise_agreement=False,
                   reserved=False, pending_upgrade=False, minors=()) -> dict:
    return {
        "id": f"SO{sales_order}-{line}",
        "account": account,
        "virtual_account": va,
        "sales_order": sales_order,
        "line": line,
        "pid": pid,
        "quantity": quantity,
        "web_order": web_order,
        "subscription_id": subscription_id,
        "pak": pak,
        "license_type": license_type,
        "in_use": in_use,
        "enterprise_agreement": enterprise_agreement,
        "reserved": reserved,
        "pending_upgrade": pending_upgrade,
        "minor_lines": [{"line": m, "pid": p, "quantity": q} for m, p, q in minors],
    }


def device_record(rng, serial, pid, account, va, *, pnp_status, sales_order,
                  license_type="Smart", cslu=False, reserved=False,
                  host_id="udi") -> dict:
    return {
        "serial_number": serial,
        "pid": pid,
        "host_id": f"{pid}:{serial}" if host_id == "udi" else host_id,
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "account": account,
        "virtual_account": va,
        "license_type": license_type,
        "pnp_status": pnp_status,
        "sales_order": sales_order,
        "cslu": cslu,
        "reserved": reserved,
    }


# --- small random helpers ----------------------------------------------------


def weighted(rng: Random, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


class Numbers:
    """Unique sales orders, serials, PAKs, subscription ids."""

    def __init__(self, rng: Random, taken_orders, taken_serials):
        self.rng = rng
        self.orders = set(taken_orders)
        self.serials = set(taken_serials)
        self.paks = {"3XXXX9A1B2C"}
        self.subs = set()

    def _unique(self, seen: set, make):
        while True:
            value = make()
            if value not in seen:
                seen.add(value)
                return value

    def sales_order(self) -> str:
        digits = self.rng.choice((8, 9))
        low, high = 10 ** (digits - 1), 10 ** digits - 1
        return self._unique(self.orders, lambda: str(self.rng.randint(low, high)))

    def web_order(self) -> str:
        if self.rng.random() < 0.5:
            return f"W{self.rng.randint(100_000_000, 999_999_999)}"
        return str(self.rng.randint(900_000_000, 999_999_999))

    def subscription_id(self) -> str:
        return self._unique(self.subs, lambda: f"Sub{self.rng.randint(1_000_000, 9_999_999)}")

    def pak(self) -> str:
        alphabet = string.ascii_uppercase + string.digits
        return self._unique(self.paks, lambda: str(self.rng.randint(1, 9)) + "".join(
            self.rng.choice(alphabet) for _ in range(10)))

    def serial(self, prefix: str) -> str:
        alphabet = string.ascii_uppercase + string.digits

        def make():
            year_week = f"{self.rng.randint(19, 24)}{self.rng.randint(1, 52):02d}"
            tail = self.rng.choice(string.ascii_uppercase) + "".join(
                self.rng.choice(alphabet) for _ in range(3))
            return prefix + year_week + tail

        return self._unique(self.serials, make)


# --- random licenses ---------------------------------------------------------


def minor_lines(rng: Random, major: str, minor_pids: list, quantity: int) -> list:
    """0 to 4 minor lines `major`.N (N ascending, not contiguous: 1.1, 1.4)."""
    count = min(rng.choice([0, 1, 1, 2, 2, 2, 3, 4]), len(minor_pids))
    numbers = sorted(rng.sample(range(1, 9), count))
    return [(f"{major}.{n}", pid, quantity) for n, pid in zip(numbers, minor_pids)]


def random_line(rng: Random, numbers: Numbers, sales_order: str, line: str,
                account: str, va: str, web_order) -> dict:
    pid, minor_pids, (low, high), term, classic_ok = rng.choice(LICENSE_CATALOGUE)
    quantity = rng.randint(low, high)
    classic = classic_ok and rng.random() < CLASSIC_CHANCE
    in_use = rng.randint(1, quantity) if rng.random() < IN_USE_SHARE else 0
    return license_record(
        sales_order, line, account, va, pid, quantity,
        web_order=web_order,
        subscription_id=numbers.subscription_id() if term else None,
        pak=numbers.pak() if classic else None,
        license_type="Classic" if classic else "Smart",
        in_use=in_use,
        minors=minor_lines(rng, line, minor_pids, quantity),
    )


def random_licenses(rng: Random, numbers: Numbers, count: int) -> list[dict]:
    """Sales orders of 1 to 3 major lines until `count` lines exist."""
    lines: list[dict] = []
    while len(lines) < count:
        account = weighted(rng, ACCOUNT_WEIGHTS)
        va = weighted(rng, LICENSE_VA_WEIGHTS[account])
        order = numbers.sales_order()
        web_order = numbers.web_order() if rng.random() < 0.85 else None
        majors = min(rng.choice([1, 1, 1, 2, 2, 3]), count - len(lines))
        for n in range(1, majors + 1):
            lines.append(random_line(rng, numbers, order, str(n), account, va, web_order))
    return lines


def flag_licenses(rng: Random, lines: list[dict]) -> None:
    """Mark exact, disjoint sets of lines EA-bound, pending upgrade, reserved."""
    smart = [l for l in lines if l["license_type"] == "Smart"]
    picked = rng.sample(smart, EA_LINES + PENDING_UPGRADE_LINES + RESERVED_LINES)
    ea = picked[:EA_LINES]
    pending = picked[EA_LINES:EA_LINES + PENDING_UPGRADE_LINES]
    reserved = picked[EA_LINES + PENDING_UPGRADE_LINES:]
    for i, line in enumerate(ea):
        line["enterprise_agreement"] = True
        if i < EA_TYPED_LINES:
            line["license_type"] = "Enterprise Agreement"
    for line in pending:
        line["pending_upgrade"] = True
    for line in reserved:
        line["reserved"] = True


# --- random devices ----------------------------------------------------------


def random_device(rng: Random, numbers: Numbers, account: str, va: str,
                  orders_by_account: dict) -> dict:
    pid, prefixes, other_type, pnp_capable = rng.choice(DEVICE_CATALOGUE)
    serial = numbers.serial(rng.choice(prefixes))
    if rng.random() < SHARED_ORDER_SHARE and orders_by_account[account]:
        sales_order = rng.choice(orders_by_account[account])
    elif rng.random() < 0.9:
        sales_order = numbers.sales_order()
    else:
        sales_order = None
    pnp = weighted(rng, dict(PNP_STATES)) if pnp_capable else None
    license_type = other_type if other_type and rng.random() < 0.4 else "Smart"
    host_id = "udi" if rng.random() < 0.9 else None
    return device_record(rng, serial, pid, account, va, pnp_status=pnp,
                         sales_order=sales_order, license_type=license_type,
                         host_id=host_id)


def random_devices(rng: Random, numbers: Numbers, count: int,
                   licenses: list[dict]) -> list[dict]:
    orders_by_account: dict[str, list[str]] = {a[0]: [] for a in ACCOUNTS}
    for line in licenses:
        orders = orders_by_account[line["account"]]
        if line["sales_order"] not in orders:
            orders.append(line["sales_order"])
    devices = []
    for _ in range(SSM_ONPREM_DEVICES):
        devices.append(random_device(rng, numbers, ACME, SSM_ONPREM_VA, orders_by_account))
    while len(devices) < count:
        account = weighted(rng, ACCOUNT_WEIGHTS)
        va = weighted(rng, DEVICE_VA_WEIGHTS[account])
        devices.append(random_device(rng, numbers, account, va, orders_by_account))
    rng.shuffle(devices)
    return devices


def flag_devices(rng: Random, devices: list[dict]) -> None:
    """Mark exact, disjoint sets of devices CSLU-registered and reserved."""
    picked = rng.sample(devices, CSLU_DEVICES + RESERVED_DEVICES)
    for device in picked[:CSLU_DEVICES]:
        device["cslu"] = True
    for device in picked[CSLU_DEVICES:]:
        device["reserved"] = True


# --- the world ---------------------------------------------------------------


def users() -> list[dict]:
    return [{"id": i, "name": n, "compliance": c} for i, n, c in USERS]


def accounts() -> list[dict]:
    result = []
    for domain, name, legal, vas, admins, members in ACCOUNTS:
        result.append({
            "domain": domain,
            "name": name,
            "legal_entity": legal,
            "virtual_accounts": [
                {"name": va, "ssm_onprem": True} if onprem else {"name": va}
                for va, onprem in vas
            ],
            "admins": list(admins),
            "users": list(members),
        })
    return result


def build() -> dict:
    rng = Random(SEED)
    licenses = fixed_licenses()
    devices = fixed_devices(rng)
    numbers = Numbers(rng, {l["sales_order"] for l in licenses},
                      {d["serial_number"] for d in devices})
    extra = random_licenses(rng, numbers, LICENSE_COUNT - len(licenses))
    flag_licenses(rng, extra)
    licenses += extra
    more = random_devices(rng, numbers, DEVICE_COUNT - len(devices), licenses)
    flag_devices(rng, more)
    devices += more
    return {"users": users(), "accounts": accounts(),
            "licenses": licenses, "devices": devices}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    world = build()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(world, indent=1, ensure_ascii=False) + "\n",
                           encoding="utf-8")
    print(f"wrote {args.output}: {len(world['licenses'])} licenses, "
          f"{len(world['devices'])} devices")


if __name__ == "__main__":
    main()
