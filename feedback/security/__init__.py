"""Security measures added for the county's network and its 等保 2.0 level-3 assessment (issue 15).

Each module is one measure; docs/security.md says what each protects and how it is tested.
"""
