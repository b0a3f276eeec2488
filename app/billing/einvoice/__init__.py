"""French e-invoices (EN 16931): the frozen snapshot of an issued invoice, and the CII, UBL and
Factur-X PDF documents built from it once, at issue."""
