"""The pure domain of atm: accounts, assets, the rules of SPEC section 2.

Nothing here imports storage, the command line or any third-party package
(STYLE.md rule 1); a test checks it.
"""
