"""The pure domain of atm: accounts, assets, the rules R1-R15 (docs/rules.md).

Nothing here imports storage, the command line or any third-party package
(the layers point inward); a test checks it.
"""
