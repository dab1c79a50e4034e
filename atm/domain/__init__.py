"""The pure domain of atm: accounts, assets, the rules R1-R15 (docs/rules.md).

Nothing here imports storage, the command line or any third-party package
(STYLE.md rule 1); a test checks it.
"""
